"""A team workspace on a real PostgreSQL server: set up by its owner, joined by a person,
shared by two desktops that see each other's changes at once, and refused in plain words
when the address carries a password or a backup is asked of it."""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from smsdesk.cli import main as cli_main
from smsdesk.config.settings import Settings
from smsdesk.domain.events import Changes
from smsdesk.runtime import Runtime
from tests.support.wait import until


def _url(pg_url: str, user: str) -> str:
    return pg_url.replace("postgresql://postgres@", f"postgresql://{user}@")


def test_the_owner_sets_up_a_workspace_a_person_joins_and_leaves_it(
    pg_database: str, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: Any
) -> None:
    owner = pg_database  # the test server's superuser stands in for the business's owner login
    assert cli_main(["workspace", "create", owner]) == 0
    assert "Set up" in capsys.readouterr().err
    assert cli_main(["workspace", "create", owner]) == 0  # again: nothing to do, no harm
    monkeypatch.setattr("sys.stdin", io.StringIO("ann's password\n"))
    assert cli_main(["--database", owner, "workspace", "add-user", "ann"]) == 0
    assert "ann can now log in" in capsys.readouterr().err

    home = tmp_path / "ann-desktop"
    monkeypatch.setattr("sys.stdin", io.StringIO("ann's password\n"))
    ann = _url(owner, "ann")
    assert cli_main(["--home", str(home), "workspace", "join", ann, "--password-stdin", "--json"]) == 0
    joined = json.loads(capsys.readouterr().out)
    assert joined["user"] == "ann" and joined["people"] == ["ann"] and joined["schema"] >= 1
    settings = Settings.load(home / "settings.toml")
    assert settings.workspace == ann and settings.demo_mode is False
    assert "password" not in (home / "settings.toml").read_text()
    assert list(memory_keyring.store.values()) == ["ann's password"]

    assert cli_main(["--home", str(home), "workspace", "show"]) == 0
    assert "as ann" in capsys.readouterr().err
    # As staff (no right to create tables): contacts, and the database stamps who did it.
    assert cli_main(["--home", str(home), "contacts", "add", "--name", "Ann Lee", "--number", "07911123456"]) == 0
    assert cli_main(["--home", str(home), "contacts", "list", "--json"]) == 0
    assert [c["name"] for c in json.loads(capsys.readouterr().out)["contacts"]] == ["Ann Lee"]
    with psycopg.connect(owner) as conn:
        actors = {r[0] for r in conn.execute("SELECT actor FROM audit_log")}
    assert actors == {"ann"}
    with psycopg.connect(ann) as conn:  # a client that claims to be someone else
        conn.execute("INSERT INTO audit_log (at, action, actor) VALUES ('2026-12-06', 'forged', 'owner')")
        assert conn.execute("SELECT actor FROM audit_log WHERE action = 'forged'").fetchone() == ("ann",)

    # Removing ann ends her open session at once and stops new logins.
    session = psycopg.connect(ann, autocommit=True)
    assert cli_main(["--database", owner, "workspace", "remove-user", "ann"]) == 0
    assert "1 open session(s) ended" in capsys.readouterr().err
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    assert cli_main(["--home", str(home), "workspace", "show"]) == 1
    assert "ann may no longer log in" in capsys.readouterr().err
    session.close()

    assert cli_main(["--home", str(home), "workspace", "leave"]) == 0
    assert "uses its own database again" in capsys.readouterr().err
    assert Settings.load(home / "settings.toml").workspace == ""
    assert memory_keyring.store == {}  # the password went with it


def test_an_address_with_a_password_is_refused_and_the_password_is_not_repeated(capsys: Any) -> None:
    code = cli_main(["workspace", "join", "postgresql://ann:hunter2@db.example.com/smsdesk"])
    err = capsys.readouterr().err
    assert code == 2
    assert "must not contain the password" in err and "--password-stdin" in err and "hunter2" not in err


def test_an_unreachable_workspace_is_said_in_plain_words(capsys: Any) -> None:
    code = cli_main(["--database", "postgresql://ann@127.0.0.1:9/smsdesk", "accounts", "list"])
    err = capsys.readouterr().err
    assert code == 1 and "smsdesk on 127.0.0.1:9 is unreachable" in err and "Traceback" not in err


def test_a_backup_of_a_workspace_names_the_pg_dump_command(pg_workspace: str, capsys: Any) -> None:
    assert cli_main(["--database", pg_workspace, "backup"]) == 1
    err = capsys.readouterr().err
    assert "pg_dump --format=custom" in err and "--file=smsdesk.dump" in err


@pytest.mark.asyncio
async def test_a_reply_one_desktop_receives_shows_on_the_other_at_once(pg_workspace: str, tmp_path: Path) -> None:
    """Desktop A receives replies (its sandbox posts them to its receiver); desktop B only
    watches the workspace. B hears of each reply well within a second."""
    a = Runtime.open(str(tmp_path / "a"), database=pg_workspace)
    b = Runtime.open(str(tmp_path / "b"), database=pg_workspace)
    a.settings.extra["sandbox_reply_rate"] = 0.0
    heard: list[tuple[float, Changes]] = []
    await a.start(sandbox=True)  # a sandbox run by a relay, for testing
    await b.start(sandbox=False, receiver=False, dispatcher=False, polling=False, tunnel=False)
    b.bus.subscribe(lambda ch: heard.append((time.monotonic(), ch)) if isinstance(ch, Changes) else None)
    try:
        srv = a.sandbox.server  # type: ignore[union-attr]
        waits = []
        for i in range(5):
            start = time.monotonic()
            assert a.sandbox.call(srv._post_inbound(f"+44791112340{i}", srv.config.inbound_number, f"Hello {i}"))  # type: ignore[union-attr]
            ids = await until(
                lambda i=i: [m.id for m in b.sending.messages.recent(10, direction="in") if m.body == f"Hello {i}"]
            )
            got = await until(lambda ids=ids: next((t for t, ch in heard if set(ids) & ch.inbound_ids), None), 5.0)
            waits.append(got - start)
        assert max(waits) < 1.0, waits
        assert b.conversations.count() == 5
    finally:
        await b.stop()
        await a.stop()
        b.close()
        a.close()
        await asyncio.sleep(0)


def test_a_single_desktop_database_moves_into_a_new_workspace_whole(
    pg_database: str, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "shop"
    monkeypatch.setenv("SMSDESK_HOME", str(home))
    for argv in (
        ["send", "--account", "Sandbox", "--to", "07911123456", "--text", "Your order is ready", "--wait"],
        ["send", "--account", "Sandbox", "--to", "07911123457", "--text", "See you at 3", "--at", "2030-01-07T09:00"],
        ["contacts", "add", "--name", "Ann Lee", "--number", "07911123456", "--tag", "VIP"],
        ["templates", "add", "Reminder", "--text", "Hi {{first_name|there}}, see you soon"],
        ["optouts", "add", "07911123499"],
    ):
        assert cli_main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()

    assert cli_main(["workspace", "migrate", pg_database, "--from-sqlite", "--json"]) == 0
    copied = json.loads(capsys.readouterr().out)["copied"]
    assert copied["messages"] == 1 and copied["contacts"] == 1 and copied["templates"] == 1
    assert copied["schedules"] == 1 and copied["optouts"] == 1

    # The same answers from the workspace, and new rows get new ids.
    monkeypatch.setenv("SMSDESK_DATABASE_URL", pg_database)
    assert cli_main(["messages", "--json"]) == 0
    bodies = {m["text"]: m["status"] for m in json.loads(capsys.readouterr().out)}
    assert bodies == {"Your order is ready": "delivered"}
    assert cli_main(["queue", "--json"]) == 0
    assert "See you at 3" in capsys.readouterr().out
    assert cli_main(["contacts", "list", "--search", "ann", "--json"]) == 0
    [ann] = json.loads(capsys.readouterr().out)["contacts"]
    assert ann["name"] == "Ann Lee" and ann["tags"] == ["VIP"]
    assert cli_main(["optouts", "--json"]) == 0
    assert [o["number"] for o in json.loads(capsys.readouterr().out)] == ["+447911123499"]
    assert cli_main(["contacts", "add", "--name", "Bob", "--number", "07911123458", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["contact"]["id"] > ann["id"]
    # A workspace already holding data is never merged into.
    assert cli_main(["workspace", "migrate", pg_database, "--from-sqlite"]) == 2
    assert "copy only into a new workspace" in capsys.readouterr().err


def test_a_desktop_on_a_workspace_is_never_in_demo_mode_and_names_it(pg_workspace: str, tmp_path: Path) -> None:
    rt = Runtime.open(str(tmp_path / "desk"), database=pg_workspace)
    try:
        assert rt.settings.demo_mode is False
        assert rt.workspace_name.startswith("t_") and " on 127.0.0.1:" in rt.workspace_name
    finally:
        rt.close()
    local = Runtime.open(str(tmp_path / "desk"))
    try:
        assert local.workspace_name == "" and local.settings.demo_mode is True  # the local file, untouched
    finally:
        local.close()
