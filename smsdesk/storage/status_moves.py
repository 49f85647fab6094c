"""How a message's status changes: forward only, each change with its transition row.

Module functions take the writer's connection (called inside ``Database.write``).
:func:`apply_status` enforces the forward-only rule (``domain.status.can_move``) in SQL's own
transaction; everything that changes a message's status goes through it, or through a fast
path with the same effect (``storage.send_results``).
"""

from __future__ import annotations

import sqlite3

from smsdesk.domain.status import Status, can_move, status_of
from smsdesk.storage.db import utcnow
from smsdesk.storage.dialect import is_postgres


def apply_status(
    conn: sqlite3.Connection,
    message_id: int,
    status: Status,
    raw_status: str = "",
    error: str | None = None,
    provider_message_id: str | None = None,
) -> bool:
    """Move a message forward to ``status``; returns False (and changes nothing) otherwise.

    A provider id learnt with the change is stored even when the status itself cannot move
    (a receipt may have beaten the send's own answer).
    """
    row = conn.execute("SELECT status, provider_message_id FROM messages WHERE id = ?", (message_id,)).fetchone()
    if row is None:
        return False
    return move_from(conn, message_id, row[0], row[1], status, raw_status, error, provider_message_id)


def move_from(
    conn: sqlite3.Connection,
    message_id: int,
    current: str,
    current_pmid: str | None,
    status: Status,
    raw_status: str,
    error: str | None,
    provider_message_id: str | None,
    *,
    note_raw: bool = False,
) -> bool:
    """:func:`apply_status` once the message's current status and provider id are known.

    ``note_raw`` (receipts only): a receipt that keeps the status still records its raw status.
    """
    now = utcnow()
    learnt_id = bool(provider_message_id and not current_pmid)
    if learnt_id:
        learnt_id = (
            conn.execute(
                """UPDATE messages SET provider_message_id = ?, updated_at = ?
                   WHERE id = ? AND provider_message_id IS NULL""",
                (provider_message_id, now, message_id),
            ).rowcount
            == 1
        )
    if not can_move(status_of(current), status):
        if note_raw and raw_status and current == status.value and not status.is_final:
            return _note_raw(conn, message_id, raw_status, now) or learnt_id
        return learnt_id
    value = status.value
    # Only from the status this was decided on: on PostgreSQL another relay may have moved
    # the row since it was read (READ COMMITTED; SQLite has one writer). Then the move is
    # decided again from what the row says now, locked this time, so a final status is never
    # overwritten and no move is recorded twice.
    moved = conn.execute(
        """UPDATE messages SET status = ?, raw_status = COALESCE(NULLIF(?, ''), raw_status),
             error = COALESCE(?, error), updated_at = ?, claimed_by = NULL, next_attempt_at = NULL
           WHERE id = ? AND status = ?""",
        (value, raw_status, error, now, message_id, current),
    ).rowcount
    if moved == 0:
        lock = " FOR UPDATE" if is_postgres(conn) else ""
        row = conn.execute("SELECT status FROM messages WHERE id = ?" + lock, (message_id,)).fetchone()
        if row is None or row[0] == current:
            return learnt_id
        again = move_from(conn, message_id, row[0], None, status, raw_status, error, None, note_raw=note_raw)
        return again or learnt_id
    conn.execute(
        "INSERT INTO message_transitions (message_id, status, raw_status, at) VALUES (?, ?, ?, ?)",
        (message_id, value, raw_status, now),
    )
    return True


def _note_raw(conn: sqlite3.Connection, message_id: int, raw_status: str, now: str) -> bool:
    """A receipt that keeps the status but says something new (Mobivate's ``ACCEPTED`` then
    ``INTERIM_QUEUED``, both ``sent``): the provider's latest words are kept and shown (the raw
    status is always kept beside the status it maps to). A duplicate changes nothing."""
    cur = conn.execute(
        "UPDATE messages SET raw_status = ?, updated_at = ? WHERE id = ? AND raw_status IS NOT ?",
        (raw_status, now, message_id, raw_status),
    )
    # No transition row: the status did not change (the history lists status changes).
    return cur.rowcount == 1
