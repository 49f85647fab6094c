"""``smsdesk ...`` as a person runs it: real subprocesses, exit codes, stderr words, clean --json.

Tests that store a secret need a real Secret Service; they run when ``SMSDESK_REAL_KEYRING=1``
(``bash packaging/bootstrap.sh test`` and CI start gnome-keyring in a private D-Bus session)
and are skipped otherwise. Plain-text keyring backends are never used. The other tests pin
the subprocess to keyring's ``fail`` backend so they never touch a person's real keyring.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from smsdesk.config.paths import resolve

MESSAGE_KEYS = {
    "local_id",
    "account",
    "direction",
    "to",
    "from",
    "text",
    "status",
    "raw_status",
    "error",
    "provider_message_id",
    "segments",
    "encoding",
    "created_at",
    "updated_at",
}
STATUSES = {
    "queued",
    "scheduled",
    "sent",
    "delivered",
    "failed",
    "expired",
    "rejected",
    "cancelled",
    "unknown",
    "needs_review",
    "received",
}
REAL_KEYRING = os.environ.get("SMSDESK_REAL_KEYRING") == "1"
needs_keyring = (
    pytest.mark.keyring_real,
    pytest.mark.skipif(
        not REAL_KEYRING,
        reason="stores a secret: needs a real Secret Service (SMSDESK_REAL_KEYRING=1, as in "
        "`bash packaging/bootstrap.sh test`)",
    ),
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "cli-home"


def smsdesk(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "SMSDESK_HOME"}
    if not REAL_KEYRING:
        full_env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "smsdesk", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    """stdout must be one JSON document and nothing else (no log lines mixed in)."""
    return json.loads(proc.stdout)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- always ---------------------------------------------------------------------------------
def test_send_wait_then_messages_json(home: Path) -> None:
    sent = smsdesk(home, "send", "--account", "Sandbox", "--to", "07911123456", "--text", "hi", "--wait")
    assert sent.returncode == 0, sent.stderr
    assert "Delivered" in sent.stdout
    listed = smsdesk(home, "messages", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = as_json(listed)
    assert isinstance(rows, list) and len(rows) == 1
    [row] = rows
    assert set(row) >= MESSAGE_KEYS
    assert row["status"] in STATUSES
    assert (row["status"], row["raw_status"], row["direction"], row["account"]) == (
        "delivered",
        "Delivered",
        "out",
        "Sandbox",
    )
    assert (row["to"], row["text"], row["segments"], row["encoding"]) == ("+447911123456", "hi", 1, "GSM-7")
    assert row["provider_message_id"] and row["local_id"] and row["error"] is None


def test_send_json_is_clean_and_home_works_after_the_sub_command(home: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "smsdesk",
            "send",
            "--home",
            str(home),
            "--account",
            "Sandbox",
            "--to",
            "+447911123456",
            "--to",
            "07911 123456",
            "--text",
            "Ça coûte 5€ 😀",
            "--wait",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert proc.returncode == 0, proc.stderr
    [row] = as_json(proc)  # the same number twice is one message
    assert (row["status"], row["encoding"], row["text"]) == ("delivered", "UCS-2", "Ça coûte 5€ 😀")
    assert resolve(home).database.exists()


def test_invalid_number_is_exit_2_with_the_reason_and_stores_nothing(home: Path) -> None:
    proc = smsdesk(home, "send", "--account", "Sandbox", "--to", "+44 7700 900123", "--text", "hi")
    assert proc.returncode == 2
    assert "reserved for TV and film" in proc.stderr
    assert proc.stdout == ""
    proc = smsdesk(home, "send", "--account", "Sandbox", "--to", "0791", "--text", "hi", "--wait")
    assert proc.returncode == 2 and "'0791'" in proc.stderr
    assert as_json(smsdesk(home, "messages", "--json")) == []


def test_unknown_account_is_exit_2(home: Path) -> None:
    proc = smsdesk(home, "send", "--account", "Nope", "--to", "07911123456", "--text", "hi")
    assert proc.returncode == 2
    assert "No account named 'Nope'" in proc.stderr and "Sandbox" in proc.stderr
    proc = smsdesk(home, "accounts", "show", "Nope", "--json")
    assert proc.returncode == 2 and proc.stdout == ""


def test_no_sub_command_is_exit_2_with_usage_on_stderr(home: Path) -> None:
    proc = smsdesk(home)
    assert proc.returncode == 2
    assert "usage: smsdesk" in proc.stderr and proc.stdout == ""
    proc = smsdesk(home, "no-such-command")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_secrets_are_never_taken_from_argv(home: Path) -> None:
    proc = smsdesk(
        home,
        "accounts",
        "add",
        "--provider",
        "puresms",
        "--name",
        "P",
        "--sender",
        "Shop",
        "--set",
        "api_key=sk-from-argv",
    )
    assert proc.returncode == 2
    assert "never taken from the command line" in proc.stderr
    assert "--secret-stdin api_key" in proc.stderr and "SMSDESK_SECRET_API_KEY" in proc.stderr
    assert "sk-from-argv" not in proc.stderr
    names = [a["name"] for a in as_json(smsdesk(home, "accounts", "list", "--json"))]
    assert names == ["Sandbox"]


def test_accounts_list_and_show_json(home: Path) -> None:
    listed = smsdesk(home, "accounts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [sandbox] = as_json(listed)
    assert sandbox["name"] == "Sandbox" and sandbox["provider"] == "sandbox"
    shown = as_json(smsdesk(home, "accounts", "show", "Sandbox", "--json"))
    assert isinstance(shown, dict)
    assert shown["webhook_url"].startswith("http://127.0.0.1:") and shown["webhook_url"].endswith("/hooks/1")


def test_a_corrupt_database_is_exit_1_with_a_clear_message_and_untouched(home: Path) -> None:
    assert smsdesk(home, "accounts", "list").returncode == 0
    db = resolve(home).database
    db.write_bytes(os.urandom(48 * 1024))
    for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        extra.unlink(missing_ok=True)
    before = _digest(db)
    for args in (("messages", "--json"), ("send", "--account", "Sandbox", "--to", "07911123456", "--text", "hi")):
        proc = smsdesk(home, *args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert "damaged or is not an smsdesk database" in proc.stderr and "Nothing was changed" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""
    assert _digest(db) == before


# ---- with a real Secret Service -----------------------------------------------------------------
@pytest.mark.parametrize("how", ["stdin", "env"])
@needs_keyring[1]
@needs_keyring[0]
def test_accounts_add_show_remove_keeps_the_key_out_of_output(home: Path, how: str) -> None:
    name = f"P{uuid.uuid4().hex[:6]}"
    key = f"sk-{uuid.uuid4().hex}"
    add = ["accounts", "add", "--provider", "puresms", "--name", name, "--sender", "Shop"]
    if how == "stdin":
        proc = smsdesk(home, *add, "--secret-stdin", "api_key", stdin=key + "\n")
    else:
        proc = smsdesk(home, *add, env={"SMSDESK_SECRET_API_KEY": key})
    assert proc.returncode == 0, proc.stderr
    try:
        shown = smsdesk(home, "accounts", "show", name, "--json")
        assert shown.returncode == 0, shown.stderr
        data = as_json(shown)
        assert data["webhook_url"].startswith("http://127.0.0.1:") and "/hooks/" in data["webhook_url"]
        assert data["secrets_set"]["api_key"] is True
        listed = smsdesk(home, "accounts", "list", "--json")
        for proc_out in (proc, shown, listed):
            assert key not in proc_out.stdout and key not in proc_out.stderr
        for path in home.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path
    finally:
        removed = smsdesk(home, "accounts", "remove", name)
    assert removed.returncode == 0, removed.stderr
    names = [a["name"] for a in as_json(smsdesk(home, "accounts", "list", "--json"))]
    assert name not in names


# ---- messages: no cap by default ------------------------------------------------------------------
def _queue_messages(home: Path, count: int) -> None:
    """``count`` queued messages in the data folder (no dispatcher runs: they stay queued)."""
    import asyncio

    from smsdesk.runtime import Runtime
    from smsdesk.services.send import Draft

    rt = Runtime.open(str(home))
    try:
        account = rt.accounts.by_name("Sandbox")
        numbers = [f"+4479111{i:05d}" for i in range(count)]
        asyncio.run(rt.sending.send(Draft(account.id, numbers, "Your table is ready")))
    finally:
        rt.close()


def test_messages_json_lists_every_message_unless_limited(home: Path) -> None:
    _queue_messages(home, 250)
    proc = smsdesk(home, "messages", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = as_json(proc)
    assert len(rows) == 250  # not cut off at 200
    assert len({r["local_id"] for r in rows}) == 250
    assert rows[0]["to"] == "+447911100249" and rows[-1]["to"] == "+447911100000"  # newest first
    assert all(set(r) >= MESSAGE_KEYS and r["status"] == "queued" for r in rows)
    newest = as_json(smsdesk(home, "messages", "--json", "--limit", "10"))
    assert [r["local_id"] for r in newest] == [r["local_id"] for r in rows[:10]]
    text = smsdesk(home, "messages")
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 250


def test_messages_json_of_an_empty_history_is_an_empty_list(home: Path) -> None:
    proc = smsdesk(home, "messages", "--json")
    assert proc.returncode == 0 and as_json(proc) == []


# ---- sandbox --set -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("knob", "words"),
    [
        ("rate_429=abc", "rate_429 must be a number"),
        ("rate_429=1.5", "from 0 to 1"),
        ("latency=-1", "latency is in seconds: give 0 or more"),
        ("retry_after=soon", "retry_after must be a whole number"),
        ("send_receipts=maybe", "send_receipts must be true or false"),
        ("rate_492=0.1", "'rate_492' is not a sandbox knob. Knobs: dispatch_delay"),
        ("rate_429", "KNOB=VALUE"),
        ("api_key=abc", "'api_key' is not a sandbox knob"),
    ],
)
def test_sandbox_set_refuses_bad_knobs_with_exit_2(home: Path, knob: str, words: str) -> None:
    proc = smsdesk(home, "sandbox", "--port", "0", "--set", knob, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sandbox_set_applies_good_knobs(home: Path) -> None:
    import httpx

    env = {k: v for k, v in os.environ.items() if k != "SMSDESK_HOME"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smsdesk",
            "--home",
            str(home),
            "sandbox",
            "--port",
            "0",
            "--set",
            "rate_429=0.25",
            "--set",
            "send_receipts=false",
            "--set",
            "retry_after=3",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "Sandbox provider" in first, first
        url = first.rsplit(" at ", 1)[1].strip()
        cfg = httpx.get(f"{url}/_sandbox/config", timeout=10).json()
        assert (cfg["rate_429"], cfg["send_receipts"], cfg["retry_after"]) == (0.25, False, 3)
        assert "api_key" not in cfg and "channel_jwt_secrets" not in cfg
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_sandboxs_open_config_route_sets_knobs_but_never_keys_or_receipt_targets() -> None:
    """POST /_sandbox/config has no key: it may change faults, not where receipts go or how
    they are signed (that would let any local page redirect or forge them)."""
    import asyncio

    from smsdesk.sandbox import SandboxConfig, SandboxServer

    async def go() -> tuple[int, int, str, float]:
        server = SandboxServer(SandboxConfig(api_key="k", webhook_url="http://127.0.0.1:1/hooks/1"))
        url = await server.start()
        try:
            async with httpx.AsyncClient() as client:
                bad = await client.post(url + "/_sandbox/config", json={"webhook_url": "http://evil/", "rate_429": 1})
                ok = await client.post(url + "/_sandbox/config", json={"rate_429": 0.25})
            return bad.status_code, ok.status_code, server.config.webhook_url, server.config.rate_429
        finally:
            await server.stop()

    bad, ok, target, rate = asyncio.run(go())
    assert (bad, ok) == (403, 200)
    assert target == "http://127.0.0.1:1/hooks/1" and rate == 0.25


def test_the_cli_takes_the_polling_fields_from_the_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    from smsdesk.cli import main as cli_main
    from smsdesk.runtime import Runtime

    monkeypatch.setenv("SMSDESK_SECRET_API_KEY", "k")
    assert (
        cli_main(
            [
                "accounts",
                "add",
                "--provider",
                "send2",
                "--name",
                "S2",
                "--sender",
                "12345",
                "--set",
                "polling=always",
                "--set",
                "poll_per_second=0.5",
            ]
        )
        == 0
    )
    rt = Runtime.open()
    try:
        settings = rt.accounts.by_name("S2").settings
    finally:
        rt.close()
    assert (settings["polling"], settings["poll_per_second"]) == ("always", "0.5")
    assert (
        cli_main(
            [
                "accounts",
                "add",
                "--provider",
                "send2",
                "--name",
                "S3",
                "--sender",
                "12345",
                "--set",
                "polling=sometimes",
            ]
        )
        == 2
    )  # not one of auto / always / off
