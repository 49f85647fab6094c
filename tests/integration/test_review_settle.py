"""Undecided sends are settled with the provider where it can be asked, on a back-off schedule.

The hard case: ``smsdesk import`` is SIGKILLed while its Mobivate batch request is on the
wire. The provider (a fake speaking Mobivate's wire format) took the whole batch, so every
message went out, yet the restarted app only knows "interrupted" (``needs_review``). The
review service must find each one in Mobivate's message log, also when the log lists them
only after a while, and must never send the batch again.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from smsdesk.config.secrets import secret_key
from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from tests.providers.fakes import FakeProvider, Recorded, Reply
from tests.support import interrupted
from tests.support.wait import until

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "support" / "bulk_runner.py"
ROWS = 300


class LateLogMobivate(FakeProvider):
    """Mobivate whose message log lists the batches it took only from the ``late``-th look on."""

    def __init__(self, late: int, hang_batches: bool = False) -> None:
        super().__init__("mobivate")
        self.late = late
        self.hang_batches = hang_batches  # take a batch, never answer (a kill comes first)
        self.log_reads: list[float] = []

    def default(self, rec: Recorded) -> Reply:
        if rec.path == "/send/batch" and self.hang_batches:
            return Reply(action="hang")
        if rec.path == "/message" and rec.query.get("direction") == "MT":
            self.log_reads.append(time.monotonic())
            if len(self.log_reads) < self.late:
                return Reply(body=[])
            return Reply(
                body=[
                    {
                        "id": uuid.uuid4().hex,
                        "senderReference": r["reference"],
                        "recipient": r["recipient"],
                        "status": "ACCEPTED",
                        "statusCode": 2,
                        "direction": "MT",
                        "created": "2026-12-01T10:00:00+0000",
                    }
                    for s in self.sends
                    if s.path == "/send/batch"
                    for r in s.json["recipients"]
                ]
            )
        return super().default(rec)


def _fast(rt: Runtime, first_delay: float = 0.2) -> None:
    rt.review.tick = 0.05
    rt.review.first_delay = first_delay
    rt.review.kick()  # a started service is waiting out its default tick


async def _add_mobivate(home: Path, url: str) -> None:
    rt = Runtime.open(str(home))
    try:
        await rt.accounts.add("Mob", "mobivate", {"base_url": url, "sender": "Shop", "api_key": "mob-key"})
    finally:
        rt.close()


async def test_interrupted_mobivate_batch_is_settled_from_a_late_log(tmp_path: Path) -> None:
    fake = LateLogMobivate(late=3, hang_batches=True)
    await fake.start()
    home = tmp_path / "home"
    await _add_mobivate(home, fake.url)
    csv = tmp_path / "customers.csv"
    csv.write_text("name,phone\n" + "".join(f"C{i},07400{i:06d}\n" for i in range(ROWS)))
    env = {
        **os.environ,
        "SMSDESK_HOME": str(home),
        "SMSDESK_TEST_SECRETS": json.dumps({secret_key("Mob", "api_key"): "mob-key"}),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUNNER),
        "import",
        str(csv),
        "--account",
        "Mob",
        "--template",
        "Hi {{name}}",
        "--json",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await until(lambda: fake.sends or child.returncode is not None, timeout=60)
        assert child.returncode is None, (await child.stderr.read()).decode() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)  # while the batch is on the wire
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
    [batch] = fake.sends
    assert len(batch.json["recipients"]) == ROWS  # the provider took every message of the file

    rt = Runtime.open(str(home))
    _fast(rt)
    try:
        await rt.start(receiver=False, sandbox=False, tunnel=False, polling=False)
        # The restart finds the batch interrupted: the whole of it waits for review at first.
        await until(lambda: rt.review.batches() or None)

        def statuses() -> dict[str, int]:
            rows = rt.store.db.query("SELECT status, count(*) AS n FROM messages GROUP BY status")
            return {r["status"]: r["n"] for r in rows}

        await until(lambda: statuses() == {"sent": ROWS}, timeout=30)
    finally:
        await rt.stop()
        rt.close()
        await fake.stop()
    db = Runtime.open(str(home))
    try:
        rows = db.store.db.query("SELECT provider_message_id, error FROM messages")
        assert all(r["provider_message_id"] for r in rows) and not any(r["error"] for r in rows)
        assert db.review.batches() == []
    finally:
        db.close()
    assert len(fake.sends) == 1  # never sent again
    # Asked until the late log listed them, and each wait twice the one before.
    assert len(fake.log_reads) == 3
    first, second = (b - a for a, b in zip(fake.log_reads, fake.log_reads[1:], strict=False))
    assert first >= 0.2 and second >= 0.4


async def test_a_failed_batch_is_looked_up_in_one_request_not_one_per_message(runtime: Any) -> None:
    fake = LateLogMobivate(late=2)
    fake.push(Reply(status=502, body={"success": False, "error": {"name": "InternalServerError"}}))
    await fake.start()
    _fast(runtime, first_delay=0.1)
    try:
        account = await runtime.accounts.add(
            "Mob", "mobivate", {"base_url": fake.url, "sender": "Shop", "api_key": "k"}
        )
        numbers = [f"+4474000{i:05d}" for i in range(40)]

        def rows() -> list[Any]:
            return runtime.store.db.query(
                "SELECT status, provider_message_id FROM messages WHERE account_id = ?", (account.id,)
            )

        async def bulk() -> None:
            # One bulk run of 40: a single batch request, answered 502 (it may have gone out).
            from smsdesk.storage import bulk_sends as bulk_store

            run_id = await runtime.store.db.write(
                lambda c: bulk_store.create_run(
                    c,
                    bulk_store.NewRun(account.id, "list.csv", "h", "Hi", "Shop", ["phone"], 40, 40, 0, {}),
                    [
                        bulk_store.NewItem(i + 1, "accepted", n, body="Hi", segments=1, encoding="GSM-7")
                        for i, n in enumerate(numbers)
                    ],
                )
            )
            await runtime.bulk_send.pump(run_id)

        await bulk()
        await until(
            lambda: (
                [r for r in rows() if r["status"] == "sent"]
                if len(rows()) == 40 and all(r["status"] == "sent" for r in rows())
                else None
            ),
            timeout=20,
        )
    finally:
        await fake.stop()
    assert len([s for s in fake.sends if s.path == "/send/batch"]) == 1
    # The whole batch, looked up twice (the log was late once); on a workspace a review pass can
    # start before the previous pass's result is committed and look once more. Never per message.
    assert 2 <= len(fake.log_reads) <= 3
    assert all(r["provider_message_id"] for r in rows())


async def test_interrupted_channel_sends_go_again_with_the_same_request_id(runtime: Any) -> None:
    fake = FakeProvider("channel")
    await fake.start()
    _fast(runtime)
    try:
        account = await runtime.accounts.add(
            "Conn", "channel", {"base_url": fake.url, "url": "/send", "sender": "Shop", "api_key": "k"}
        )
        local_ids = await _interrupted(runtime, account.id, 3)
        await until(lambda: all(m.status == Status.SENT for m in _outgoing(runtime, account.id)) or None)
    finally:
        await fake.stop()
    assert sorted(s.json["request_id"] for s in fake.sends) == sorted(local_ids)


async def test_a_provider_that_cannot_be_asked_says_so_and_a_person_settles_the_batch(runtime: Any) -> None:
    _fast(runtime)
    account = await runtime.accounts.add(
        "Pure", "puresms", {"base_url": "http://127.0.0.1:9", "sender": "Shop", "api_key": "k"}
    )
    await _interrupted(runtime, account.id, 4)
    [batch] = runtime.review.batches()
    assert batch.count == 4 and not batch.checking and batch.key == f"account-{account.id}"
    assert "PureSMS cannot be asked" in batch.status
    assert "twice" in batch.send_again_warning
    assert await runtime.review.mark_sent(batch.key) == 4
    assert {m.status for m in _outgoing(runtime, account.id)} == {Status.SENT}
    assert runtime.review.batches() == []


async def test_an_unfound_batch_is_given_up_on_and_says_so(runtime: Any) -> None:
    fake = FakeProvider("mobivate")  # its log never lists anything
    await fake.start()
    _fast(runtime, first_delay=0.05)
    runtime.review.give_up_after = timedelta(seconds=1.5)
    try:
        account = await runtime.accounts.add(
            "Mob", "mobivate", {"base_url": fake.url, "sender": "Shop", "api_key": "k"}
        )
        await _interrupted(runtime, account.id, 2)
        batch = await until(lambda: next((b for b in runtime.review.batches() if not b.checking), None), timeout=15)
        assert "did not list these" in batch.status and "most likely not sent" in batch.status
        reads = len([r for r in fake.requests if r.path == "/message"])
        assert reads >= 2
        await runtime.review.check_due()
        assert len([r for r in fake.requests if r.path == "/message"]) == reads  # checks have stopped
        assert len(await runtime.review.send_again(batch.key)) == 2
        await until(lambda: len(fake.sends) == 2)
        assert {m.status for m in _outgoing(runtime, account.id)} == {Status.SENT}
    finally:
        await fake.stop()


def _outgoing(runtime: Any, account_id: int) -> list[Any]:
    return [m for m in runtime.sending.messages.recent(100, "out", account_id)]


async def _interrupted(runtime: Any, account_id: int, n: int) -> list[str]:
    ids = interrupted.singles(runtime.store.db, account_id, n)
    msgs = runtime.sending.messages.get_many(ids)
    assert {m.status for m in msgs} == {Status.NEEDS_REVIEW}
    return [m.local_id for m in msgs]
