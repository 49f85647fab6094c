"""``smsdesk serve`` as the headless relay: tunnel up, a reply recorded in the shared database,
and on SIGTERM the tunnel's whole process group is gone."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from smsdesk.config.paths import resolve
from smsdesk.config.settings import Settings
from smsdesk.storage.db import Database

FAKE = Path(__file__).resolve().parents[1] / "support" / "fake_tunnel.py"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _wait(predicate, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met")


def test_serve_runs_tunnel_and_records_what_arrives(_isolated_home: Path, tmp_path: Path) -> None:
    paths = resolve(str(_isolated_home)).ensure()
    pidfile = tmp_path / "pids"
    settings = Settings(tunnel_kind="command", tunnel_command=" ".join(
        shlex.quote(a) for a in (sys.executable, str(FAKE), "--url", "{local}", "--pidfile", str(pidfile))))
    settings.extra["sandbox_reply_rate"] = 0.0
    settings.save(paths.settings)
    env = {**os.environ, "SMSDESK_HOME": str(_isolated_home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "smsdesk", "serve"], env=env, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Serving;"):
                break
        text = "\n".join(lines)
        assert "Tunnel (command): up https://fake-" in text, text
        sandbox_url = next(ln.split(": ", 1)[1] for ln in lines if ln.startswith("Sandbox provider: "))
        # A phone replies; the sandbox (PureSMS format) calls serve's receiver, signed.
        r = httpx.post(f"{sandbox_url}/_sandbox/inbound", json={"from": "+447911123456", "body": "See you at 8"})
        assert r.status_code == 200
        db = Database(paths.database)
        try:
            row = _wait(lambda: db.query_one(
                "SELECT body, remote, status FROM messages WHERE direction = 'in'"))
            assert tuple(row) == ("See you at 8", "+447911123456", "received")
        finally:
            db.close()
        pids = [int(p) for p in pidfile.read_text().split()]
        assert all(_alive(p) for p in pids)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        _wait(lambda: not any(_alive(p) for p in pids), 15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
