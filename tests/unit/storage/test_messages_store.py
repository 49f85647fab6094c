"""Messages: the outbox row, forward-only status changes with their transitions, early receipts.

Claims on outbox rows are in test_claims.py.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from smsdesk.domain.errors import NotFound
from smsdesk.domain.models import OutboundMessage, SendResult, StatusEvent
from smsdesk.domain.status import Status
from smsdesk.providers import registry
from smsdesk.services.bus import EventBus
from smsdesk.services.dispatcher import Dispatcher
from smsdesk.services.inbound import InboundService
from smsdesk.storage import accounts as acc_store
from smsdesk.storage import claims, send_results
from smsdesk.storage import messages as store
from smsdesk.storage.claims import ClaimRepository
from smsdesk.storage.db import Database
from smsdesk.storage.inbound import InboundRepository
from smsdesk.storage.messages import MessageRepository, NewOutgoing
from smsdesk.storage.webhook_events import WebhookEventRepository
from tests.support.wait import until

S = Status


@pytest.fixture
def account_id(db: Database) -> int:
    return db.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))


def _queue(db: Database, account_id: int, remote: str = "+447812345678", body: str = "Hi") -> int:
    item = NewOutgoing(account_id, remote, "Shop", body, 1, "GSM-7")
    [mid] = db.write_sync(lambda c: store.insert_outgoing(c, [item]))
    return mid


def _statuses(repo: MessageRepository, mid: int) -> list[str]:
    return [r.status for r in repo.transitions(mid)]


def test_insert_outgoing_writes_a_queued_row_with_a_fresh_local_id(db: Database, account_id: int) -> None:
    a = _queue(db, account_id)
    b = _queue(db, account_id)
    repo = MessageRepository(db)
    ma, mb = repo.get(a), repo.get(b)
    assert ma is not None and mb is not None
    assert ma.status is S.QUEUED and ma.direction == "out" and ma.account == "Shop"
    assert len(ma.local_id) == 32 and ma.local_id != mb.local_id
    # The client reference sent to the provider is the local id (idempotency / receipt matching).
    row = db.query_one("SELECT client_ref FROM messages WHERE id = ?", (a,))
    assert row["client_ref"] == ma.local_id  # type: ignore[index]
    assert (ma.segments, ma.encoding, ma.to, ma.from_) == (1, "GSM-7", "+447812345678", "Shop")
    assert _statuses(repo, a) == ["queued"]
    conv = db.query_one("SELECT last_message_id, unread FROM conversations WHERE remote = '+447812345678'")
    assert tuple(conv) == (b, 0)  # type: ignore[arg-type]


def test_apply_status_moves_forward_only_and_records_each_transition(db: Database, account_id: int) -> None:
    mid = _queue(db, account_id)

    def apply(status: Status, raw: str = "", error: str | None = None, pmid: str | None = None) -> bool:
        return db.write_sync(lambda c: store.apply_status(c, mid, status, raw, error, pmid))

    assert apply(S.SENT, "Accepted", pmid="pm-1")
    assert not apply(S.SENT, "Accepted")  # duplicate
    assert apply(S.DELIVERED, "Delivered")
    assert not apply(S.SENT, "Dispatched")  # late, out of order
    assert not apply(S.FAILED, "Failed", "late contradiction")  # nothing leaves a final status
    assert not apply(S.QUEUED)
    msg = MessageRepository(db).get(mid)
    assert msg is not None
    assert (msg.status, msg.raw_status, msg.error, msg.provider_message_id) == (S.DELIVERED, "Delivered", None, "pm-1")
    rows = MessageRepository(db).transitions(mid)
    assert [(r.status, r.raw_status) for r in rows] == [
        ("queued", ""),
        ("sent", "Accepted"),
        ("delivered", "Delivered"),
    ]
    assert [r.at for r in rows] == sorted(r.at for r in rows)


def test_a_provider_id_learnt_late_is_kept_even_when_the_status_cannot_move(db: Database, account_id: int) -> None:
    mid = _queue(db, account_id)
    db.write_sync(lambda c: store.apply_status(c, mid, S.DELIVERED, "Delivered"))
    assert db.write_sync(lambda c: store.apply_status(c, mid, S.SENT, "", None, "pm-late"))
    msg = MessageRepository(db).get(mid)
    assert msg is not None and (msg.status, msg.provider_message_id) == (S.DELIVERED, "pm-late")
    assert _statuses(MessageRepository(db), mid) == ["queued", "delivered"]


def test_apply_status_on_a_missing_message_changes_nothing(db: Database) -> None:
    assert db.write_sync(lambda c: store.apply_status(c, 999, S.DELIVERED)) is False


def test_inbound_is_stored_once_per_provider_message(db: Database, account_id: int) -> None:
    first = db.write_sync(
        lambda c: store.insert_inbound(c, account_id, "+447812345678", "+447700900999", "Yes", "in-1")
    )
    again = db.write_sync(
        lambda c: store.insert_inbound(c, account_id, "+447812345678", "+447700900999", "Yes", "in-1")
    )
    assert first is not None and again is None
    msg = MessageRepository(db).get(first)
    assert msg is not None and (msg.status, msg.direction, msg.is_read) == (S.RECEIVED, "in", False)


@pytest.mark.asyncio
async def test_duplicate_and_out_of_order_receipts_change_nothing(db: Database, account_id: int) -> None:
    mid = _queue(db, account_id)
    local_id = MessageRepository(db).get(mid).local_id  # type: ignore[union-attr]
    inbound = InboundService(InboundRepository(db), WebhookEventRepository(db), None, EventBus())  # type: ignore[arg-type]
    delivered = StatusEvent("pm-1", local_id, S.DELIVERED, "Delivered")
    dispatched = StatusEvent("pm-1", local_id, S.SENT, "Dispatched")
    assert await inbound.apply_receipts(account_id, [delivered]) == {mid}
    assert await inbound.apply_receipts(account_id, [delivered, dispatched]) == set()
    assert _statuses(MessageRepository(db), mid) == ["queued", "delivered"]


# ---- a receipt that beats the send's own answer -------------------------------------------------
class _RacingAdapter:
    """An adapter whose receipt arrives (and is parked) before its send call returns."""

    def __init__(self, inbound: InboundService, account_id: int) -> None:
        self.spec = registry.get_spec("sandbox")
        self.inbound = inbound
        self.account_id = account_id
        self.sent: list[OutboundMessage] = []

    async def send(self, msg: OutboundMessage) -> SendResult:
        self.sent.append(msg)
        # Only the provider's id is known to the receipt (no client reference): it cannot be
        # matched yet, so it must be parked, not dropped.
        early = StatusEvent("pm-early", None, S.DELIVERED, "Delivered")
        assert await self.inbound.apply_receipts(self.account_id, [early]) == set()
        return SendResult(msg.local_id, "pm-early", S.SENT, "Accepted")


class _Accounts:
    keys_per_computer = False  # one computer: it holds every account's keys

    def __init__(self, db: Database, adapter: Any) -> None:
        self.db, self._adapter = db, adapter

    def get(self, account_id: int) -> Any:
        row = self.db.query_one("SELECT * FROM accounts WHERE id = ?", (account_id,))
        if row is None:
            raise NotFound("no such account")
        return SimpleNamespace(id=account_id, provider=row["provider"], settings={})

    def spec(self, account: Any) -> Any:
        return registry.get_spec(account.provider)

    def adapter(self, account_id: int) -> Any:
        return self._adapter


@pytest.mark.asyncio
async def test_a_receipt_before_the_send_result_is_parked_then_applied(db: Database, account_id: int) -> None:
    bus = EventBus()
    inbound = InboundService(InboundRepository(db), WebhookEventRepository(db), None, bus)  # type: ignore[arg-type]
    adapter = _RacingAdapter(inbound, account_id)
    dispatcher = Dispatcher(
        ClaimRepository(db),
        MessageRepository(db),
        _Accounts(db, adapter),
        bus,
        dispatcher_id="test-dispatcher",  # type: ignore[arg-type]
    )
    mid = _queue(db, account_id)
    task = asyncio.create_task(dispatcher.run())
    try:
        repo = MessageRepository(db)
        msg = await until(lambda: (m := repo.get(mid)) and m.status.is_final and m)
    finally:
        dispatcher.stop()
        await asyncio.wait_for(task, 10)
    assert len(adapter.sent) == 1
    assert (msg.status, msg.provider_message_id, msg.raw_status) == (S.DELIVERED, "pm-early", "Delivered")
    assert _statuses(repo, mid) == ["queued", "sent", "delivered"]
    assert db.query_one("SELECT count(*) FROM pending_receipts")[0] == 0  # type: ignore[index]
    assert db.query_one("SELECT claimed_by FROM messages WHERE id = ?", (mid,))[0] is None  # type: ignore[index]


def test_reset_for_retry_only_from_failed_or_undecided(db: Database, account_id: int) -> None:
    mid = _queue(db, account_id)
    assert not db.write_sync(lambda c: store.reset_for_retry(c, mid))  # queued: nothing to retry
    db.write_sync(lambda c: store.apply_status(c, mid, S.FAILED, "401", "bad key"))
    assert db.write_sync(lambda c: store.reset_for_retry(c, mid))
    msg = MessageRepository(db).get(mid)
    assert msg is not None and (msg.status, msg.error) == (S.QUEUED, None)
    db.write_sync(lambda c: store.apply_status(c, mid, S.DELIVERED))
    assert not db.write_sync(lambda c: store.reset_for_retry(c, mid))


def test_removing_an_account_keeps_history_and_cancels_unsent(db: Database, account_id: int) -> None:
    delivered = _queue(db, account_id)
    db.write_sync(lambda c: store.apply_status(c, delivered, S.DELIVERED, "Delivered"))
    waiting = _queue(db, account_id)
    in_flight = _queue(db, account_id)
    db.write_sync(lambda c: claims.claim(c, in_flight, "gui"))
    db.write_sync(lambda c: acc_store.delete_account(c, account_id))
    repo = MessageRepository(db)
    got = {m.id: m for m in repo.get_many([delivered, waiting, in_flight])}
    assert got[delivered].status is S.DELIVERED
    assert got[waiting].status is S.CANCELLED and "was removed" in (got[waiting].error or "")
    assert got[in_flight].status is S.QUEUED  # mid-send: its own outcome decides
    assert _statuses(repo, waiting) == ["queued", "cancelled"]


def test_a_receipt_that_keeps_the_status_still_records_the_providers_latest_words(
    db: Database, account_id: int
) -> None:
    # Mobivate: ACCEPTED (2) then INTERIM_QUEUED (8) both map to 'sent' (smsdesk has no PENDING);
    # the person must still see what the provider said last (the raw status is always kept).
    mid = _queue(db, account_id)
    db.write_sync(lambda c: store.apply_status(c, mid, S.SENT, "ACCEPTED", None, "pm-9"))

    def receipt(status: Status, raw: str) -> tuple[int, bool] | None:
        return db.write_sync(lambda c: store.apply_receipt(c, account_id, "pm-9", None, status, raw))

    assert receipt(S.SENT, "INTERIM_QUEUED") == (mid, True)
    assert receipt(S.SENT, "INTERIM_QUEUED") == (mid, False)  # a duplicate changes nothing
    repo = MessageRepository(db)
    msg = repo.get(mid)
    assert msg is not None and (msg.status, msg.raw_status) == (S.SENT, "INTERIM_QUEUED")
    assert [(r.status, r.raw_status) for r in repo.transitions(mid)] == [
        ("queued", ""),
        ("sent", "ACCEPTED"),
    ]  # the history lists status changes only
    assert receipt(S.DELIVERED, "DELIVERED") == (mid, True)
    assert receipt(S.DELIVERED, "DELIVRD") == (mid, False)  # nothing changes a final status
    msg = repo.get(mid)
    assert msg is not None and (msg.status, msg.raw_status) == (S.DELIVERED, "DELIVERED")


def test_results_recorded_together_move_each_row_once_and_respect_a_row_that_changed(
    db: Database, account_id: int
) -> None:
    """Results of sends that finished together are written in one go; a row that was settled
    meanwhile (here cancelled) keeps its status, and every row's claim is released."""
    ids = [_queue(db, account_id, f"+44781234560{i}") for i in range(3)]
    [got] = db.write_sync(lambda c: claims.claim_groups(c, [(ids, None)], "gui"))
    assert db.write_sync(lambda c: store.apply_status(c, ids[1], S.CANCELLED, "cancelled by a person"))
    pairs = [(m, SendResult(m.local_id, f"pm-{m.id}", S.SENT, "Accepted")) for m in got.claimed]
    changed, opted = db.write_sync(lambda c: send_results.record_results(c, account_id, pairs))
    assert changed == set(ids) and opted == []
    repo = MessageRepository(db)
    first, middle, last = (repo.get(i) for i in ids)
    assert first is not None and middle is not None and last is not None
    assert (first.status, first.provider_message_id, first.raw_status) == (S.SENT, f"pm-{ids[0]}", "Accepted")
    assert (last.status, last.provider_message_id) == (S.SENT, f"pm-{ids[2]}")
    assert middle.status is S.CANCELLED
    assert _statuses(repo, ids[0]) == ["queued", "sent"] and _statuses(repo, ids[1]) == ["queued", "cancelled"]
    assert db.query_one("SELECT count(*) FROM messages WHERE claimed_by IS NOT NULL")[0] == 0  # type: ignore[index]


@pytest.mark.sqlite_only  # reads SQLite's EXPLAIN QUERY PLAN
def test_the_poller_and_the_failure_report_read_through_their_partial_indexes(db: Database, account_id: int) -> None:
    """Both conditions are written with OR (an IN list in a partial index made every status
    change twice as dear); each query must still match its index word for word."""
    from smsdesk.storage.polls import PollRepository
    from smsdesk.storage.reports import ReportRepository

    plans: list[str] = []
    conn = db.reader()
    conn.set_trace_callback(lambda sql: plans.append(sql) if sql.lstrip().startswith("SELECT") else None)
    try:
        PollRepository(db).open_sends(account_id, "2026-01-01")
        ReportRepository(db).failures("2026-01-01", "2027-01-01")
    finally:
        conn.set_trace_callback(None)
    used = [" ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql)) for sql in plans]
    assert "messages_open" in used[0] and "messages_failures" in used[1], used
