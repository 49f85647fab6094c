"""Dedupe keys are kept at least 48 hours; processed events older than that are forgotten."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import MagicMock

import pytest

from smsdesk.services.bus import EventBus
from smsdesk.services.webhook_intake import DEDUPE_KEEP, WebhookIntakeService
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.db import Database
from smsdesk.storage.webhook_events import WebhookEventRepository


def _ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="milliseconds")


def test_prune_keeps_recent_and_pending_events(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    try:
        svc = WebhookIntakeService(WebhookEventRepository(db), MagicMock(), EventBus(), MagicMock())

        def seed(conn):  # type: ignore[no-untyped-def]
            for key, hours, state in [
                ("old", 80, "processed"),
                ("day2", 47, "processed"),
                ("old-pending", 100, "pending"),
                ("new", 1, "processed"),
            ]:
                eid = ev_store.insert_event(conn, 1, key, "application/json", b"{}")
                conn.execute(
                    "UPDATE webhook_events SET received_at = ?, state = ? WHERE id = ?", (_ago(hours), state, eid)
                )

        db.write_sync(seed)
        assert timedelta(hours=48) <= DEDUPE_KEEP
        asyncio.run(svc.prune())
        keys = {r["dedupe_key"] for r in db.query("SELECT dedupe_key FROM webhook_events")}
        assert keys == {"day2", "old-pending", "new"}
        # A retry of a key still kept is recognised as a duplicate.
        assert db.write_sync(lambda c: ev_store.insert_event(c, 1, "day2", "application/json", b"{}")) is None
        with pytest.raises(ValueError):
            asyncio.run(svc.prune(timedelta(hours=24)))
    finally:
        db.close()
