"""Two relays on one workspace: exactly one leads (polls, runs the tunnel), and when it is
killed with SIGKILL the other takes the lead within 30 seconds."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from smsdesk.storage.pg.database import PgDatabase
from smsdesk.storage.pg.url import WorkspaceUrl
from tests.support.serve_proc import start_serve


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
