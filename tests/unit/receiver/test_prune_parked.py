"""Receipts parked for a message that never appears are forgotten with the dedupe keys
(the same maintenance pass), and a parked receipt that finds its message settles its event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import MagicMock

from smsdesk.domain.models import StatusEvent
from smsdesk.domain.status import Status
from smsdesk.services.bus import EventBus
from smsdesk.services.webhook_intake import WebhookIntakeService
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.db import Database
from smsdesk.storage.webhook_events import WebhookEventRepository


def _ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="milliseconds")


def test_maintain_prunes_receipts_parked_longer_than_the_dedupe_window(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    try:
        svc = WebhookIntakeService(WebhookEventRepository(db), MagicMock(), EventBus(), MagicMock())

        def seed(conn):  # type: ignore[no-untyped-def]
            for pmid, hours in [("gone-1", 100), ("gone-2", 73), ("recent", 2)]:
                ev_store.park_receipt(conn, 1, StatusEvent(pmid, None, Status.DELIVERED, "Delivered"))
                conn.execute(
                    "UPDATE pending_receipts SET received_at = ? WHERE provider_message_id = ?", (_ago(hours), pmid)
                )

        db.write_sync(seed)

        asyncio.run(svc.prune())  # what maintain() runs once an hour
        left = [r["provider_message_id"] for r in db.query("SELECT provider_message_id FROM pending_receipts")]
        assert left == ["recent"]
    finally:
        db.close()


def test_a_parked_receipt_that_finds_its_message_settles_its_event(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    try:

        def seed(conn):  # type: ignore[no-untyped-def]
            eid = ev_store.insert_event(conn, 1, "k1", "application/json", b"{}")
            ev_store.mark_events(conn, [(eid, "waiting", None)])
            ev_store.park_receipt(conn, 1, StatusEvent("pm-1", "ref-1", Status.DELIVERED, "Delivered"), eid)
            return eid

        eid = db.write_sync(seed)
        taken = db.write_sync(lambda c: ev_store.take_parked(c, 1, "pm-1", "ref-1"))
        assert [t.status for t in taken] == [Status.DELIVERED]
        assert db.query_one("SELECT state FROM webhook_events WHERE id = ?", (eid,))["state"] == "processed"
    finally:
        db.close()


def test_a_log_line_forgets_its_pruned_event_so_a_reused_id_cannot_lend_it_an_outcome(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    try:

        def seed(conn):  # type: ignore[no-untyped-def]
            eid = ev_store.insert_event(conn, 1, "old", "application/json", b"{}")
            ev_store.mark_events(conn, [(eid, "processed", None)])
            conn.execute("UPDATE webhook_events SET received_at = ? WHERE id = ?", (_ago(100), eid))
            ev_store.log_delivery(conn, "Shop", "/hooks/1", 200, "accepted", "", eid)
            return eid

        old = db.write_sync(seed)
        asyncio.run(WebhookIntakeService(WebhookEventRepository(db), MagicMock(), EventBus(), MagicMock()).prune())
        assert db.query_one("SELECT count(*) FROM webhook_events")[0] == 0
        # The table is empty, so SQLite hands the same id to the next event ...
        new = db.write_sync(lambda c: ev_store.insert_event(c, 1, "new", "application/json", b"{}"))
        db.write_sync(lambda c: ev_store.mark_events(c, [(new, "failed", "ValueError: bad")]))
        assert new == old
        # ... which the old log line no longer points at.
        assert db.query_one("SELECT event_id FROM webhook_log")["event_id"] is None
    finally:
        db.close()
