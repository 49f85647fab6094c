"""Raw webhook events (persisted before the 2xx), the webhook log, and early receipts."""

from __future__ import annotations

import concurrent.futures
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from smsdesk.domain.models import StatusEvent
from smsdesk.domain.status import Status
from smsdesk.storage.db import Database, utcnow

if TYPE_CHECKING:  # the webhook records load with the receiver, not with the window's first paint
    from smsdesk.storage.records import NewDelivery, StoredEvent, WebhookLogLine


def insert_event(
    conn: sqlite3.Connection, account_id: int, dedupe_key: str, content_type: str, body: bytes
) -> int | None:
    """Store a raw event; None when its dedupe key was seen before (a provider retry)."""
    cur = conn.execute(
        """INSERT INTO webhook_events (account_id, dedupe_key, received_at, content_type, body)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING""",
        (account_id, dedupe_key, utcnow(), content_type, body),
    )
    return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None


def mark_event(conn: sqlite3.Connection, event_id: int, state: str, error: str | None = None) -> None:
    conn.execute(
        "UPDATE webhook_events SET state = ?, error = ?, processed_at = ? WHERE id = ?",
        (state, error, utcnow(), event_id),
    )


def mark_events(conn: sqlite3.Connection, marks: list[tuple[int, str, str | None]]) -> None:
    """:func:`mark_event` for a batch of ``(event id, state, error)`` (one processing pass)."""
    now = utcnow()
    conn.executemany(
        "UPDATE webhook_events SET state = ?, error = ?, processed_at = ? WHERE id = ?",
        [(state, error, now, event_id) for event_id, state, error in marks],
    )


def log_delivery(
    conn: sqlite3.Connection,
    account: str,
    path: str,
    status_code: int,
    outcome: str,
    reason: str = "",
    event_id: int | None = None,
) -> None:
    """One line of the webhook log; ``event_id`` links an accepted delivery to its raw event."""
    conn.execute(
        "INSERT INTO webhook_log (at, account, path, status_code, outcome, reason, event_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (utcnow(), account, path, status_code, outcome, reason, event_id),
    )


def prune(conn: sqlite3.Connection, events_before: str, log_keep: int = 5000) -> None:
    """Forget processed events older than the dedupe horizon, old log lines, and receipts
    parked that long (their message never appeared: it was sent by another tool, or deleted)."""
    conn.execute("DELETE FROM webhook_events WHERE state != 'pending' AND received_at < ?", (events_before,))
    conn.execute("DELETE FROM pending_receipts WHERE received_at < ?", (events_before,))
    conn.execute("DELETE FROM webhook_log WHERE id <= (SELECT MAX(id) FROM webhook_log) - ?", (log_keep,))
    # Event ids are reused once the table has emptied (INTEGER PRIMARY KEY): a log line whose
    # event is forgotten must not later show the outcome of an unrelated new event.
    conn.execute(
        """UPDATE webhook_log SET event_id = NULL
           WHERE event_id IS NOT NULL AND event_id NOT IN (SELECT id FROM webhook_events)"""
    )


def park_receipt(conn: sqlite3.Connection, account_id: int, ev: StatusEvent, event_id: int | None = None) -> None:
    conn.execute(
        """INSERT INTO pending_receipts (account_id, provider_message_id, client_ref, status, raw_status,
             error, received_at, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            account_id,
            ev.provider_message_id,
            ev.client_ref,
            ev.status.value,
            ev.raw_status,
            ev.error,
            utcnow(),
            event_id,
        ),
    )


def any_parked(conn: sqlite3.Connection, account_id: int) -> bool:
    """Whether any receipt of the account waits for its message (almost never: a batch of
    results asks this once instead of looking each message up)."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM pending_receipts WHERE account_id = ?)", (account_id,)).fetchone()
    return bool(row[0])


def take_parked(
    conn: sqlite3.Connection, account_id: int, provider_message_id: str | None, client_ref: str | None
) -> list[StatusEvent]:
    """Receipts that arrived before their message was recorded, removed as they are returned."""
    rows = conn.execute(
        """SELECT * FROM pending_receipts WHERE account_id = ?
             AND ((provider_message_id IS NOT NULL AND provider_message_id = ?)
               OR (client_ref IS NOT NULL AND client_ref = ?)) ORDER BY id""",
        (account_id, provider_message_id or "", client_ref or ""),
    ).fetchall()
    if rows:
        conn.execute(f"DELETE FROM pending_receipts WHERE id IN ({','.join('?' * len(rows))})", [r["id"] for r in rows])
        events = sorted({r["event_id"] for r in rows if r["event_id"] is not None})
        if events:
            # The raw event waited for this message; with nothing of it parked any more it is done.
            conn.execute(
                f"""UPDATE webhook_events SET state = 'processed', processed_at = ?
                    WHERE state = 'waiting' AND id IN ({",".join("?" * len(events))})
                      AND NOT EXISTS (SELECT 1 FROM pending_receipts p WHERE p.event_id = webhook_events.id)""",
                [utcnow(), *events],
            )
    return [
        StatusEvent(r["provider_message_id"], r["client_ref"], Status(r["status"]), r["raw_status"], r["error"])
        for r in rows
    ]


def store_deliveries(conn: sqlite3.Connection, batch: Sequence[NewDelivery]) -> list[int | None]:
    """Store each delivery's raw event and its log line; returns each event id (None: a
    duplicate of an event stored before)."""
    ids: list[int | None] = []
    for it in batch:
        event_id = insert_event(conn, it.account_id, it.dedupe_key, it.content_type, it.body)
        log_delivery(
            conn,
            it.account_name,
            it.path,
            200,
            "accepted" if event_id else "duplicate",
            "" if event_id else "already received",
            event_id,
        )
        ids.append(event_id)
    return ids


class WebhookEventRepository:
    """:class:`smsdesk.storage.api.WebhookEventStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def pending(self, limit: int = 500) -> list[StoredEvent]:
        rows = self._db.query(
            "SELECT id, account_id, content_type, body FROM webhook_events WHERE state = 'pending' ORDER BY id LIMIT ?",
            (limit,),
        )
        from smsdesk.storage.records import StoredEvent

        return [StoredEvent(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def log(self, limit: int = 200) -> list[WebhookLogLine]:
        """Newest first; ``processing`` / ``processing_error`` say what became of an accepted
        delivery (``pending``, ``processed``, ``waiting`` for its message, ``failed``), NULL
        for rejections, duplicates and events already pruned."""
        rows = self._db.query(
            """SELECT l.id, l.at, l.account, l.path, l.status_code, l.outcome, l.reason, l.event_id,
                      e.state AS processing, e.error AS processing_error
               FROM webhook_log l LEFT JOIN webhook_events e ON e.id = l.event_id
               ORDER BY l.id DESC LIMIT ?""",
            (limit,),
        )
        from smsdesk.storage.records import WebhookLogLine

        return [WebhookLogLine(*r) for r in rows]

    def submit_deliveries(self, batch: Sequence[NewDelivery]) -> concurrent.futures.Future[list[int | None]]:
        return self._db.submit(lambda c: store_deliveries(c, batch))

    async def log_rejected(self, account: str, path: str, status_code: int, reason: str) -> None:
        await self._db.write(lambda c: log_delivery(c, account, path, status_code, "rejected", reason))

    async def prune(self, events_before: str, log_keep: int) -> None:
        await self._db.write(lambda c: prune(c, events_before, log_keep))
