"""A process killed mid-send (SIGKILL) while it held a scheduled send's message.

``smsdesk serve`` runs in a child process and claims the message of a due scheduled item; the
provider (a standalone sandbox in its own process) is slow, so the send is on the wire when
the child is killed. Whether the app is reopened at once or was running beside serve all
along, the claimed message must go to ``needs_review`` (it may have gone out: never resent)
and the item must finish, not stay "running" for ever. Until now only a heartbeat older than
45 s, checked once at start-up, released such claims.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsdesk.config.secrets import secret_key
from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.scheduler import ScheduleRequest
from tests.support import sandbox_proc
from tests.support.wait import until

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "support" / "bulk_runner.py"
KEY = "dead-claims-key"
NUMBER = "+447911123456"


@pytest.fixture
def slow_sandbox() -> Iterator[str]:
    """A provider in its own process that takes 30 s to answer a send (it outlives the kill)."""
    with sandbox_proc.standalone_sandbox(KEY, "latency=30", "send_receipts=false") as url:
        yield url


def _serve(home: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SMSDESK_HOME"}
    env["SMSDESK_TEST_SECRETS"] = json.dumps(
        {secret_key("Shop", "api_key"): KEY, secret_key("Shop", "webhook_secret"): "s"}
    )
    return subprocess.Popen(
        [sys.executable, str(RUNNER), "--home", str(home), "serve", "--no-sandbox", "--port", "0"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _schedule(home: Path, sandbox_url: str) -> int:
    """The Shop account and a one-off send due in a moment, written before serve starts."""
    rt = Runtime.open(str(home))
    try:

        async def setup() -> int:
            await rt.accounts.add(
                "Shop", "puresms", {"base_url": sandbox_url, "sender": "Shop", "api_key": KEY, "webhook_secret": "s"}
            )
            acct = rt.accounts.by_name("Shop").id
            item = await rt.scheduler.create(
                ScheduleRequest(
                    acct, [NUMBER], "Your table is booked", datetime.now(UTC) + timedelta(seconds=1), zone="UTC"
                )
            )
            return item.id

        return asyncio.run(setup())
    finally:
        rt.close()


def _wait_for_claim(home: Path, child: subprocess.Popen[bytes]) -> None:
    watch = sqlite3.connect(home / "smsdesk.sqlite3", timeout=10)
    deadline = time.monotonic() + 60
    try:
        while not watch.execute(
            "SELECT count(*) FROM messages WHERE status = 'queued' AND claimed_by IS NOT NULL"
        ).fetchone()[0]:
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "serve never claimed the scheduled message"
            time.sleep(0.05)
    finally:
        watch.close()


def _kill(child: subprocess.Popen[bytes]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)


@pytest.mark.parametrize("when", ["reopened_at_once", "running_beside_serve"])
def test_a_killed_senders_claim_goes_to_review_and_the_item_finishes(
    slow_sandbox: str,
    tmp_path: Path,
    when: str,
    expect_warnings: list[bool],
) -> None:
    home = tmp_path / "home"
    sid = _schedule(home, slow_sandbox)
    child = _serve(home)
    try:
        _wait_for_claim(home, child)  # the send is on the wire (the provider takes 30 s)
        if when == "reopened_at_once":
            _kill(child)  # its heartbeat is seconds old: not stale for another 45 s
        asyncio.run(_app_sees_it_through(home, sid, child if when == "running_beside_serve" else None))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


async def _app_sees_it_through(home: Path, sid: int, kill_later: subprocess.Popen[bytes] | None) -> None:
    rt = Runtime.open(str(home))
    await rt.start(receiver=False, sandbox=False, tunnel=False, polling=False)
    try:
        if kill_later is not None:
            # The app started while serve was alive (so its start-up check found nothing), then
            # serve dies: only a periodic check can notice. Kill only once the app's dispatcher
            # runs (its heartbeat is written), so the start-up check is surely behind us.
            me = "dispatcher:" + rt.dispatcher.id
            await until(
                lambda: rt.store.db.query_one("SELECT count(*) FROM kv WHERE key = ?", (me,))[0] == 1, timeout=15
            )
            await asyncio.sleep(0.5)  # the start-up check is the write right after that first beat
            assert rt.sending.messages.get(rt.scheduler.repo.message_ids(sid)[0]).status == Status.QUEUED
            _kill(kill_later)
        [mid] = rt.scheduler.repo.message_ids(sid)
        await until(lambda: rt.sending.messages.get(mid).status == Status.NEEDS_REVIEW, timeout=30)
        await until(lambda: rt.scheduler.get(sid).state == "done", timeout=15)
        msg = rt.sending.messages.get(mid)
        assert "may or may not have gone out" in (msg.error or "")
        assert msg.attempts == 1  # claimed once, by the killed process; never sent again
        assert [r.status for r in rt.sending.messages.transitions(mid)] == ["queued", "needs_review"]
        assert rt.scheduler.history(sid)[0]["counts"] == {"needs_review": 1}
    finally:
        await rt.stop()
        rt.close()
