"""Stored webhook events applied as one batch: an event that cannot be applied is undone alone
(and marked failed), the others commit, and the reply tap hears the new replies before COMMIT."""

from __future__ import annotations

import asyncio

from smsdesk.domain.models import StatusEvent
from smsdesk.domain.optout import Keyword
from smsdesk.domain.status import Status
from smsdesk.storage import accounts as acc_store
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.db import Database
from smsdesk.storage.inbound import InboundRepository
from smsdesk.storage.records import NewInbound, ParsedEvent


def test_a_failing_event_is_undone_alone_and_the_rest_of_its_batch_commits(db: Database) -> None:
    shop = db.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    events = db.write_sync(
        lambda c: [ev_store.insert_event(c, shop, f"k{i}", "application/json", b"{}") for i in range(3)]
    )
    stop = NewInbound("+447911123456", "+447700900000", "STOP", "in-1", 1, "GSM-7", Keyword.OPT_OUT)
    # Its receipt is parked (no such message yet), then its reply names an account that does
    # not exist: the reply fails, and the parked receipt must go with it.
    broken = ParsedEvent(
        events[0],
        999,
        (StatusEvent("pm-x", None, Status.DELIVERED, "Delivered"),),
        (NewInbound("+447911123457", "+447700900000", "Hi", "in-2"),),
    )
    good = ParsedEvent(events[1], shop, (), (stop,))
    unreadable = ParsedEvent(events[2], shop, error="ValueError: not JSON")
    tapped: list[set[int]] = []
    seen: list[int] = []  # replies another connection saw while the tap ran

    def tap(ids: set[int]) -> None:
        # Inside the transaction: another connection cannot see the reply yet.
        # (The writer thread's reader is a connection of its own.)
        seen.append(db.query_one("SELECT count(*) FROM messages WHERE direction = 'in'")[0])
        tapped.append(ids)

    applied = asyncio.run(InboundRepository(db).apply_events([broken, good, unreadable], before_commit=tap))

    assert [event_id for event_id, _exc in applied.failures] == [events[0]]
    assert "foreign key" in str(applied.failures[0][1]).lower()
    states = db.query("SELECT id, state, error FROM webhook_events ORDER BY id")
    assert [(r["state"], (r["error"] or "")[:14]) for r in states] == [
        ("failed", "IntegrityError"),
        ("processed", ""),
        ("failed", "ValueError: no"),
    ]
    assert db.query_one("SELECT count(*) FROM pending_receipts")[0] == 0  # type: ignore[index]
    replies = db.query("SELECT id, remote, body FROM messages WHERE direction = 'in'")
    assert [(r["remote"], r["body"]) for r in replies] == [("+447911123456", "STOP")]
    assert applied.inbound == {replies[0]["id"]} and tapped == [{replies[0]["id"]}] and seen == [0]
    assert applied.optout_changes == [("+447911123456", True)]
    assert db.query_one("SELECT source FROM optouts WHERE number = '+447911123456'")[0] == "reply"  # type: ignore[index]
