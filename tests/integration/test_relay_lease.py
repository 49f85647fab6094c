"""Two relays on one workspace: exactly one leads (polls, runs the tunnel, fires scheduled
runs), and when it is killed with SIGKILL (or stops) the other takes the lead within 30
seconds."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smsdesk.cli import main as cli_main
from smsdesk.runtime import Runtime
from smsdesk.services.scheduler import ScheduleRequest
from smsdesk.storage.pg.database import PgDatabase
from smsdesk.storage.pg.url import WorkspaceUrl
from tests.support.serve_proc import start_serve
from tests.support.wait import until


def _leaders(db: PgDatabase) -> dict[int, bool]:
    """pid -> whether its latest heartbeat says it leads."""
    rows = db.query("SELECT key, value FROM kv WHERE key LIKE 'relay:%'")
    return {int(r[0].rpartition(":")[2]): bool(json.loads(r[1]).get("leader")) for r in rows}


def test_one_relay_leads_and_another_takes_over_when_it_is_killed(pg_workspace: str, tmp_path: Path) -> None:
    db = PgDatabase(WorkspaceUrl.parse(pg_workspace))
    procs = []
    try:
        for name in ("first", "second"):
            proc, lines = start_serve(tmp_path / name, "--database", pg_workspace, "--no-sandbox", "--tunnel", "none")
            assert lines and lines[-1].startswith("Serving;"), lines
            procs.append(proc)
        pids = {p.pid for p in procs}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and set(_leaders(db)) != pids:
            time.sleep(0.2)
        beats = _leaders(db)
        assert set(beats) == pids and sorted(beats.values()) == [False, True], beats
        leader = next(p for p in procs if beats[p.pid])
        standby = next(p for p in procs if p is not leader)

        killed_at = time.monotonic()
        os.kill(leader.pid, signal.SIGKILL)
        leader.wait(10)
        while time.monotonic() - killed_at < 30 and not _leaders(db).get(standby.pid):
            time.sleep(0.2)
        took = time.monotonic() - killed_at
        assert _leaders(db).get(standby.pid), f"no takeover after {took:.1f} s"
        assert took < 30
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(20)
        db.close()


def test_a_relay_started_before_its_workspace_answers_waits_for_it(
    pg_cluster: Any, pg_workspace: str, tmp_path: Path
) -> None:
    """After a power cut the relay's computer may be up before the database server: ``smsdesk
    serve`` says why it waits, tries again every few seconds, and serves once it answers."""
    import subprocess
    import sys
    import threading

    database = pg_workspace.rsplit("/", 1)[1]
    pg_cluster.allow_connections(database, False)
    env = {**os.environ, "SMSDESK_HOME": str(tmp_path / "relay"), "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "smsdesk", "serve", "--database", pg_workspace, "--no-sandbox", "--tunnel", "none"]
    proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        with proc.stderr:
            lines.extend(line.rstrip() for line in proc.stderr)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _wait_for(lambda: any("Waiting for it; press Ctrl+C to stop." in ln for ln in lines), 60, lines)
        waiting = next(ln for ln in lines if "Waiting for it" in ln)
        assert "is unreachable" in waiting and "not currently accepting connections" in waiting
        time.sleep(1.0)
        assert proc.poll() is None and not any(ln.startswith("Serving;") for ln in lines)
        pg_cluster.allow_connections(database, True)
        _wait_for(lambda: any(ln.startswith("Serving;") for ln in lines), 30, lines)
        assert "The workspace answers." in lines
    finally:
        pg_cluster.allow_connections(database, True)
        proc.terminate()
        assert proc.wait(20) == 0, lines
        reader.join(10)


def _wait_for(predicate: Any, timeout: float, lines: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, lines
        time.sleep(0.1)


@pytest.mark.asyncio
async def test_only_the_leading_relay_runs_the_scheduler_and_its_successor_takes_over(
    pg_database: str, tmp_path: Path, memory_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Singleton work (the scheduler's due runs, the reconciliation of messages to check) runs
    on the relay holding the lease only; a standby relay's loops wait, and take over when the
    leader stops. A send scheduled meanwhile is sent once."""
    assert cli_main(["workspace", "create", pg_database]) == 0
    monkeypatch.setenv("SMSDESK_DATABASE_URL", pg_database)
    relay_only = {"receiver": True, "dispatcher": True, "polling": False, "tunnel": False}
    first = Runtime.open(str(tmp_path / "first"), database=pg_database, session_secrets=True)
    second = Runtime.open(str(tmp_path / "second"), database=pg_database, session_secrets=True)
    passes = {"first": 0, "second": 0}
    for name, rt in (("first", first), ("second", second)):
        rt.settings.extra["sandbox_reply_rate"] = 0.0
        rt.settings.extra["sandbox_stop_rate"] = 0.0
        tick = rt.scheduler.tick

        async def counted(tick: Any = tick, name: str = name) -> int:
            passes[name] += 1
            return int(await tick())

        monkeypatch.setattr(rt.scheduler, "tick", counted)
    try:
        await first.accounts.ensure_sandbox()  # its keys are made by the relay running the sandbox
        await first.start(relay=True, sandbox=True, **relay_only)
        await second.start(relay=True, sandbox=False, **relay_only)
        assert first.relay.serving and not second.relay.serving
        await until(lambda: passes["first"] >= 2)
        assert passes["second"] == 0  # the standby's loop waits
        account = first.accounts.by_name("Sandbox")
        when = datetime.now(UTC) + timedelta(seconds=1)
        await second.scheduler.create(ScheduleRequest(account.id, ["07911 123456"], "Fired once", when))
        assert first.sandbox is not None
        await until(lambda: [s.content for s in first.sandbox.server.sent] == ["Fired once"], timeout=15)

        await first.stop()  # the leader goes: its lease is freed, the standby takes it
        await until(lambda: second.relay.serving, timeout=15)
        await until(lambda: passes["second"] >= 1, timeout=10)
    finally:
        await second.stop()
        second.close()
        first.close()
