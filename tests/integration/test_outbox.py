"""The outbox over real loopback HTTP against the sandbox: commit before send, forward-only
statuses under duplicate and out-of-order receipts, and every failure kind of issue 2 item 6."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest

from smsdesk.domain.errors import InvalidInput, OptedOut
from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from smsdesk.storage import optouts as opt_store
from tests.support.wait import until

TO = "07812 345678"
E164 = "+447812345678"
# Walk order for transitions: anything final outranks these.
RANK = {"scheduled": 0, "queued": 1, "needs_review": 2, "sent": 3, "unknown": 4}


def _rank(status: str) -> int:
    return RANK.get(status, 99)


def _spy_requests(runtime: Any, on_request: Callable[[Any], Any] | None = None) -> list[Any]:
    """Record every request that reaches the sandbox's send route (faults included).

    The route handlers call ``self.faults(request)`` first, so wrapping it on the instance sees
    each attempt before any injected fault answers it.
    """
    server = runtime.sandbox.server
    original = server.faults
    seen: list[Any] = []

    async def faults(request: Any, error: Any = None) -> Any:
        body = await request.json()  # aiohttp caches the body; the handler reads it again
        seen.append(body)
        if on_request is not None:
            on_request(body)
        return await original(request, error)

    server.faults = faults
    return seen


def _sandbox(runtime: Any) -> Any:
    return runtime.accounts.by_name("Sandbox")


async def _send(runtime: Any, text: str = "Your table is booked for 7pm") -> Any:
    [msg] = await runtime.sending.send(Draft(_sandbox(runtime).id, [TO], text))
    return msg


async def _settled(runtime: Any, mid: int) -> Any:
    repo = runtime.sending.messages

    def check() -> Any:
        m = repo.get(mid)
        return m if m.status.is_final or m.status == Status.NEEDS_REVIEW else None

    return await until(check, 15.0)


def _transitions(runtime: Any, mid: int) -> list[str]:
    return [r.status for r in runtime.sending.messages.transitions(mid)]


@pytest.mark.asyncio
async def test_the_queued_row_is_committed_before_the_provider_sees_the_request(runtime) -> None:
    seen_in_db: list[Any] = []

    def look(body: dict[str, Any]) -> None:
        # The sandbox's thread reads through a connection of its own: committed data only.
        row = runtime.store.db.query_one(
            "SELECT status, remote, body FROM messages WHERE local_id = ?", (body["clientReference"],)
        )
        seen_in_db.append(tuple(row))

    requests = _spy_requests(runtime, look)
    msg = await _send(runtime)
    final = await _settled(runtime, msg.id)
    assert final.status == Status.DELIVERED
    assert [r["clientReference"] for r in requests] == [msg.local_id]
    assert seen_in_db == [("queued", E164, "Your table is booked for 7pm")]


@pytest.mark.asyncio
async def test_duplicate_and_out_of_order_receipts_only_move_forward(runtime) -> None:
    cfg = runtime.sandbox.server.config
    cfg.rate_duplicate = 1.0
    cfg.rate_out_of_order = 1.0
    msgs = await runtime.sending.send(Draft(_sandbox(runtime).id, [TO, "07400 123456", "+14155552671"], "Hello"))
    server = runtime.sandbox.server
    # Each message: Delivered then Dispatched, each posted twice with the same event id.
    await until(lambda: server.receipts_posted >= 4 * len(msgs), 15)
    await until(lambda: not runtime.store.db.query("SELECT 1 FROM webhook_events WHERE state = 'pending'"), 10)
    for m in msgs:
        final = runtime.sending.messages.get(m.id)
        assert final.status == Status.DELIVERED, final
        assert final.raw_status == "Delivered"
        walk = _transitions(runtime, m.id)
        assert walk[0] == "queued" and walk[-1] == "delivered"
        assert all(_rank(a) < _rank(b) for a, b in zip(walk, walk[1:], strict=False)), walk
        assert walk.count("delivered") == 1
    # Duplicates were deduped by event id: each distinct event stored once.
    events = runtime.store.db.query("SELECT dedupe_key FROM webhook_events")
    assert len(events) == len({e["dedupe_key"] for e in events}) == 2 * len(msgs)


@pytest.mark.asyncio
async def test_429_with_retry_after_is_retried_then_delivered(runtime) -> None:
    cfg = runtime.sandbox.server.config
    cfg.rate_429 = 1.0
    cfg.retry_after = 1

    def first_hit_only(_body: Any) -> None:
        # Runs before the original fault check: the first request still gets its 429.
        if len(requests) >= 2:
            cfg.rate_429 = 0.0

    requests = _spy_requests(runtime, first_hit_only)
    msg = await _send(runtime)
    final = await _settled(runtime, msg.id)
    assert final.status == Status.DELIVERED
    assert len(requests) == 2
    assert len(runtime.sandbox.server.sent) == 1
    assert final.attempts == 2
    assert _transitions(runtime, msg.id) == ["queued", "sent", "delivered"]


@pytest.mark.asyncio
async def test_500_is_ambiguous_needs_review_and_is_not_resent(runtime) -> None:
    runtime.sandbox.server.config.rate_500 = 1.0
    requests = _spy_requests(runtime)
    msg = await _send(runtime)
    final = await _settled(runtime, msg.id)
    assert final.status == Status.NEEDS_REVIEW
    assert "internal error" in final.error and "500" in final.error
    runtime.dispatcher.kick()
    await until(lambda: not runtime.dispatcher.busy)
    assert len(requests) == 1
    assert _transitions(runtime, msg.id) == ["queued", "needs_review"]


@pytest.mark.asyncio
async def test_connection_dropped_after_upload_needs_review(runtime) -> None:
    runtime.sandbox.server.config.rate_drop = 1.0
    requests = _spy_requests(runtime)
    msg = await _send(runtime)
    final = await _settled(runtime, msg.id)
    assert final.status == Status.NEEDS_REVIEW
    assert "may or may not have been sent" in final.error
    runtime.dispatcher.kick()
    await until(lambda: not runtime.dispatcher.busy)
    assert len(requests) == 1  # not resent blindly


@pytest.mark.asyncio
async def test_a_wrong_api_key_fails_with_the_providers_words(runtime) -> None:
    runtime.accounts.session_secrets[("Sandbox", "api_key")] = "not-the-key"
    runtime.accounts.forget_adapters()
    msg = await _send(runtime)
    final = await _settled(runtime, msg.id)
    assert final.status == Status.FAILED
    assert "Invalid API key" in final.error
    assert final.raw_status == "401"
    assert runtime.sandbox.server.sent == []


@pytest.mark.asyncio
async def test_sending_to_an_opted_out_number_is_refused_and_writes_nothing(runtime) -> None:
    await runtime.store.db.write(lambda c: opt_store.add(c, E164, "reply", "STOP"))
    before = {
        table: runtime.store.db.query_one(f"SELECT count(*) FROM {table}")[0]
        for table in ("messages", "message_transitions", "audit_log", "conversations")
    }
    with pytest.raises(OptedOut) as err:
        await _send(runtime)
    assert TO in str(err.value) and "opted out" in str(err.value)  # the number as people write it
    after = {table: runtime.store.db.query_one(f"SELECT count(*) FROM {table}")[0] for table in before}
    assert after == before
    assert runtime.sandbox.server.sent == []


@pytest.mark.asyncio
async def test_removing_an_account_cancels_what_it_had_not_sent(runtime) -> None:
    # A 429 parks the message in back-off; removing the account then must not leave it queued
    # for a dispatcher that can no longer build an adapter for it (it retried forever, logging).
    cfg = runtime.sandbox.server.config
    cfg.rate_429 = 1.0
    cfg.retry_after = 30
    msg = await _send(runtime)
    await until(lambda: runtime.store.db.query_one("SELECT next_attempt_at FROM messages WHERE id = ?", (msg.id,))[0])
    await until(lambda: not runtime.dispatcher.busy)
    await runtime.accounts.remove(_sandbox(runtime))
    final = runtime.sending.messages.get(msg.id)
    assert final.status == Status.CANCELLED
    assert "was removed" in final.error and final.account.startswith("Sandbox")
    runtime.dispatcher.kick()
    await until(lambda: not runtime.dispatcher.busy)
    assert runtime.sandbox.server.sent == []


@pytest.mark.asyncio
async def test_retry_is_refused_once_the_account_is_removed(runtime) -> None:
    runtime.sandbox.server.config.rate_500 = 1.0
    msg = await _send(runtime)
    assert (await _settled(runtime, msg.id)).status == Status.NEEDS_REVIEW
    await runtime.accounts.remove(_sandbox(runtime))
    with pytest.raises(InvalidInput, match="was removed"):
        await runtime.sending.retry(msg.id)
    assert runtime.sending.messages.get(msg.id).status == Status.NEEDS_REVIEW


@pytest.mark.asyncio
async def test_an_orphaned_queued_row_does_not_hold_up_other_accounts(runtime) -> None:
    # A queued row whose account cannot be used any more (removed mid-send, then released for a
    # retry) sits before newer messages in the outbox: the dispatcher must still send those.
    from smsdesk.storage import accounts as acc_store
    from smsdesk.storage import messages as msg_store

    def orphan(conn: sqlite3.Connection) -> int:
        gone = acc_store.insert_account(conn, "Gone", "sandbox", "", "Shop", {})
        conn.execute("UPDATE accounts SET provider = 'removed' WHERE id = ?", (gone,))
        item = msg_store.NewOutgoing(gone, E164, "Shop", "stuck", 1, "GSM-7")
        return msg_store.insert_outgoing(conn, [item])[0]

    stuck = await runtime.store.db.write(orphan)
    msg = await _send(runtime)
    assert msg.id > stuck
    final = await _settled(runtime, msg.id)
    assert final.status == Status.DELIVERED
    assert runtime.sending.messages.get(stuck).status == Status.QUEUED


@pytest.mark.asyncio
async def test_edited_send_limits_apply_without_a_restart(runtime) -> None:
    """Sends in flight lowered in Settings while a backlog is being sent govern the rest of it
    (the dispatcher kept the limits it first read until smsdesk restarted), counted at the
    provider; a value that is not a number is refused when saved."""
    server = runtime.sandbox.server
    server.config.latency = 0.1
    account = runtime.accounts.by_name("Sandbox")
    msgs = await runtime.sending.send(Draft(account.id, [f"07911 12{i:04d}" for i in range(300)], "Sale"))

    ids = ",".join(str(m.id) for m in msgs)

    def queued() -> int:
        return int(
            runtime.store.db.query_one(f"SELECT count(*) FROM messages WHERE status = 'queued' AND id IN ({ids})")[0]
        )

    await until(lambda: server.peak_in_flight >= 4)  # the sandbox's default: 16 in flight
    await runtime.accounts.update(runtime.accounts.get(account.id), {"concurrency": "1"})
    await until(lambda: server.in_flight <= 1)
    assert queued() > 100  # it took effect in the middle of the backlog, not once it was sent
    server.peak_in_flight = server.in_flight
    # Five more requests reach the provider (counting rows left the queue could count the
    # results of sends made before, still being recorded: on PostgreSQL they lag a little).
    before = len(server.sent)
    await until(lambda: len(server.sent) >= before + 5)
    assert server.peak_in_flight == 1
    await runtime.accounts.update(runtime.accounts.get(account.id), {"concurrency": "16"})
    await until(lambda: queued() == 0, timeout=30)
    with pytest.raises(InvalidInput, match="whole number"):  # refused when saved, in words
        await runtime.accounts.update(runtime.accounts.get(account.id), {"concurrency": "1.5"})


@pytest.mark.asyncio
async def test_a_row_claimed_ahead_goes_back_to_the_queue_when_smsdesk_stops(runtime) -> None:
    """A lane claims its next row while its sends are in flight. Stopping before that row
    reached the provider leaves it queued for the next start (attempt not counted), never
    "needs review"; the provider never had more in flight than allowed."""
    server = runtime.sandbox.server
    server.config.latency = 5.0  # the first send stays in flight
    requests = _spy_requests(runtime)
    account = _sandbox(runtime)
    await runtime.accounts.update(runtime.accounts.get(account.id), {"concurrency": "1"})
    msgs = await runtime.sending.send(Draft(account.id, [TO, "07812 345679"], "See you at 3"))
    ids = ",".join(str(m.id) for m in msgs)

    def rows() -> list[tuple[Any, ...]]:
        found = runtime.store.db.reader().execute(
            f"SELECT status, claimed_by IS NOT NULL, attempts FROM messages WHERE id IN ({ids})"
        )
        return sorted(tuple(r) for r in found.fetchall())

    # both claimed: one at the provider, the other waiting for the lane's one send slot
    await until(lambda: server.in_flight == 1 and rows() == [("queued", True, 1), ("queued", True, 1)])
    runtime.dispatcher.stop()
    # the one in flight stays claimed (its outcome is not known); the other is given back
    await until(lambda: rows() == [("queued", False, 0), ("queued", True, 1)])
    assert len(requests) == 1 and server.peak_in_flight == 1


@pytest.mark.asyncio
async def test_a_send_goes_out_without_waiting_for_the_outbox_to_be_read(runtime) -> None:
    """The ids a send just queued go straight into the dispatcher's lane: the first message
    does not wait for a pass to read 5,000 due rows back. Here every pass is held up in its
    thread, and the message still goes out (and is claimed once: passes that find it later
    skip it)."""
    dispatcher = runtime.dispatcher
    store = dispatcher.messages
    original = store.due_outbox
    entered, release = threading.Event(), threading.Event()

    def held_pass(now: str, limit: int = 5000) -> Any:
        entered.set()
        release.wait(15)
        return original(now, limit)

    store.due_outbox = held_pass  # the real read, held until the test lets it go
    try:
        dispatcher.kick()
        await until(entered.is_set)  # the outbox's one reader thread is now held
        msg = await _send(runtime)
        await _settled(runtime, msg.id)
        assert "sent" in _transitions(runtime, msg.id)
        assert not release.is_set()  # no pass ran meanwhile
    finally:
        release.set()
        store.due_outbox = original
    assert _transitions(runtime, msg.id).count("sent") == 1
