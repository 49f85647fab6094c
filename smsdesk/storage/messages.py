"""Messages, their transitions and the conversation index.

Write functions take the writer's connection (call them inside ``Database.write``); read
methods use the calling thread's reader. Status changes go through :func:`apply_status`,
which enforces the forward-only rule in SQL's own transaction.
"""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from smsdesk.domain.models import Message
from smsdesk.domain.optout import how_opted_out
from smsdesk.domain.status import Status, can_move, status_of
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.liveness import process_alive

_SELECT = """SELECT m.*, a.name AS account_name FROM messages m JOIN accounts a ON a.id = m.account_id"""


def new_local_id() -> str:
    return uuid.uuid4().hex


def row_to_message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        local_id=row["local_id"],
        account_id=row["account_id"],
        account=row["account_name"],
        direction=row["direction"],
        remote=row["remote"],
        local_number=row["local_number"],
        body=row["body"],
        status=status_of(row["status"]),
        raw_status=row["raw_status"],
        error=row["error"],
        provider_message_id=row["provider_message_id"],
        segments=row["segments"],
        encoding=row["encoding"],
        send_at=row["send_at"],
        attempts=row["attempts"],
        run_id=row["run_id"],
        is_read=bool(row["is_read"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@dataclass(frozen=True, slots=True)
class NewOutgoing:
    account_id: int
    remote: str
    local_number: str
    body: str
    segments: int
    encoding: str
    status: Status = Status.QUEUED
    send_at: str | None = None
    run_id: int | None = None
    local_id: str | None = None


def _touch_conversation(
    conn: sqlite3.Connection, account_id: int, remote: str, message_id: int, at: str, unread: int
) -> None:
    conn.execute(
        """INSERT INTO conversations (account_id, remote, last_message_id, last_at, unread)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (account_id, remote) DO UPDATE SET
             last_message_id = excluded.last_message_id,
             last_at = excluded.last_at,
             unread = conversations.unread + excluded.unread""",
        (account_id, remote, message_id, at, unread),
    )


def insert_outgoing(conn: sqlite3.Connection, items: Iterable[NewOutgoing]) -> list[int]:
    """Store outgoing messages (the outbox); returns their row ids in order."""
    now = utcnow()
    ids: list[int] = []
    for it in items:
        local_id = it.local_id or new_local_id()
        cur = conn.execute(
            """INSERT INTO messages (local_id, account_id, direction, remote, local_number, body,
                 status, client_ref, segments, encoding, send_at, run_id, created_at, updated_at)
               VALUES (?, ?, 'out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                local_id,
                it.account_id,
                it.remote,
                it.local_number,
                it.body,
                it.status.value,
                local_id,
                it.segments,
                it.encoding,
                it.send_at,
                it.run_id,
                now,
                now,
            ),
        )
        mid = int(cur.lastrowid or 0)
        conn.execute(
            "INSERT INTO message_transitions (message_id, status, at) VALUES (?, ?, ?)",
            (mid, it.status.value, now),
        )
        _touch_conversation(conn, it.account_id, it.remote, mid, now, 0)
        ids.append(mid)
    return ids


def insert_inbound(
    conn: sqlite3.Connection,
    account_id: int,
    remote: str,
    local_number: str,
    body: str,
    provider_message_id: str | None,
    segments: int | None = None,
    encoding: str | None = None,
) -> int | None:
    """Store a reply; returns its id, or None if this provider message was stored already."""
    if provider_message_id:
        dup = conn.execute(
            "SELECT id FROM messages WHERE account_id = ? AND provider_message_id = ? AND direction = 'in'",
            (account_id, provider_message_id),
        ).fetchone()
        if dup:
            return None
    now = utcnow()
    local_id = new_local_id()
    cur = conn.execute(
        """INSERT INTO messages (local_id, account_id, direction, remote, local_number, body, status,
             provider_message_id, segments, encoding, is_read, created_at, updated_at)
           VALUES (?, ?, 'in', ?, ?, ?, 'received', ?, ?, ?, 0, ?, ?)""",
        (local_id, account_id, remote, local_number, body, provider_message_id, segments, encoding, now, now),
    )
    mid = int(cur.lastrowid or 0)
    conn.execute("INSERT INTO message_transitions (message_id, status, at) VALUES (?, 'received', ?)", (mid, now))
    _touch_conversation(conn, account_id, remote, mid, now, 1)
    return mid


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
    return _move(conn, message_id, row[0], row[1], status, raw_status, error, provider_message_id)


def _move(
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
        conn.execute(
            "UPDATE messages SET provider_message_id = ?, updated_at = ? WHERE id = ?",
            (provider_message_id, now, message_id),
        )
    if not can_move(status_of(current), status):
        if note_raw and raw_status and current == status.value and not status.is_final:
            return _note_raw(conn, message_id, raw_status, now) or learnt_id
        return learnt_id
    value = status.value
    conn.execute(
        """UPDATE messages SET status = ?, raw_status = COALESCE(NULLIF(?, ''), raw_status),
             error = COALESCE(?, error), updated_at = ?, claimed_by = NULL, next_attempt_at = NULL
           WHERE id = ?""",
        (value, raw_status, error, now, message_id),
    )
    conn.execute(
        "INSERT INTO message_transitions (message_id, status, raw_status, at) VALUES (?, ?, ?, ?)",
        (message_id, value, raw_status, now),
    )
    return True


def _note_raw(conn: sqlite3.Connection, message_id: int, raw_status: str, now: str) -> bool:
    """A receipt that keeps the status but says something new (Mobivate's ``ACCEPTED`` then
    ``INTERIM_QUEUED``, both ``sent``): the provider's latest words are kept and shown
    (PROVIDERS.md 6.2: always keep the raw status). A duplicate changes nothing."""
    cur = conn.execute(
        "UPDATE messages SET raw_status = ?, updated_at = ? WHERE id = ? AND raw_status IS NOT ?",
        (raw_status, now, message_id, raw_status),
    )
    # No transition row: the status did not change (the history lists status changes).
    return cur.rowcount == 1


# What a claim returns: all the dispatcher needs to send the row, and the attempt it is.
CLAIMED_COLUMNS = "id, account_id, local_id, remote, local_number, body, send_at, run_id, attempts"


def claim_due(conn: sqlite3.Connection, ids: Sequence[int], dispatcher: str) -> list[sqlite3.Row]:
    """Take the due queued messages of ``ids`` for sending; exactly one dispatcher wins each.

    Due means queued, held by no dispatcher, and its next attempt time (a retry's back-off,
    never shorter than the provider's Retry-After) has come. That time is part of the claim
    itself, not only of the query that picked the ids: when two processes share the database
    (the GUI and ``smsdesk serve``), the other one may hold an id it picked before this one
    was released for a retry, and would otherwise send it again at once.

    Returns rows of :data:`CLAIMED_COLUMNS`, in no particular order; one statement per 500 ids.
    """
    now = utcnow()
    rows: list[sqlite3.Row] = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        rows += conn.execute(
            f"""UPDATE messages SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1
                WHERE id IN ({",".join("?" * len(chunk))}) AND status = 'queued' AND claimed_by IS NULL
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                RETURNING {CLAIMED_COLUMNS}""",
            (dispatcher, now, *chunk, now),
        ).fetchall()
    return rows


def claim(conn: sqlite3.Connection, message_id: int, dispatcher: str) -> bool:
    """Take one due queued message for sending (:func:`claim_due`); exactly one dispatcher wins."""
    return bool(claim_due(conn, [message_id], dispatcher))


def opted_out_reason(conn: sqlite3.Connection, number: str) -> str | None:
    """Why ``number`` may not be messaged ("replied STOP on 3 Dec 2026"), or None when it may."""
    row = conn.execute("SELECT source, created_at FROM optouts WHERE number = ?", (number,)).fetchone()
    return how_opted_out(row[0], row[1]) if row else None


def reject_opted_out(conn: sqlite3.Connection, ids: Sequence[int]) -> list[int]:
    """Of ``ids``, the unsent messages to a number now on the opt-out list become ``rejected``.

    Called when a message is about to go (claimed for sending, or its scheduled time has
    come), not only when it was queued: a scheduled send, a retry or a bulk run's queued rows
    may wait hours, and the person may reply STOP meanwhile. Rows a dispatcher holds are left
    to it. Returns the ids rejected.
    """
    out: list[int] = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        rows = conn.execute(
            f"""SELECT m.id, m.remote, o.source, o.created_at FROM messages m JOIN optouts o ON o.number = m.remote
                WHERE m.id IN ({",".join("?" * len(chunk))}) AND m.direction = 'out'
                  AND m.status IN ('queued', 'scheduled') AND m.claimed_by IS NULL""",
            chunk,
        ).fetchall()
        for r in rows:
            why = (
                f"Not sent: {r[1]} opted out ({how_opted_out(r[2], r[3])}) before it went. "
                "Send again only if they opt back in."
            )
            if apply_status(conn, r[0], Status.REJECTED, "opted out", why):
                out.append(int(r[0]))
    return out


def release_for_retry(conn: sqlite3.Connection, message_id: int, next_attempt_at: str, error: str) -> None:
    conn.execute(
        """UPDATE messages SET claimed_by = NULL, next_attempt_at = ?, error = ?, updated_at = ?
           WHERE id = ? AND status = 'queued'""",
        (next_attempt_at, error, utcnow(), message_id),
    )


def reset_for_retry(conn: sqlite3.Connection, message_id: int) -> bool:
    """A person's Retry: a failed / undecided message goes back to the outbox."""
    cur = conn.execute(
        """UPDATE messages SET status = 'queued', error = NULL, raw_status = '', claimed_by = NULL,
             next_attempt_at = NULL, provider_message_id = NULL, updated_at = ?
           WHERE id = ? AND direction = 'out'
             AND status IN ('failed', 'rejected', 'expired', 'needs_review', 'unknown')""",
        (utcnow(), message_id),
    )
    if cur.rowcount:
        conn.execute(
            "INSERT INTO message_transitions (message_id, status, raw_status, at) VALUES (?, 'queued', 'retry', ?)",
            (message_id, utcnow()),
        )
    return cur.rowcount == 1


def heartbeat(conn: sqlite3.Connection, dispatcher: str) -> None:
    """Say this dispatcher is alive (claims of a dispatcher that stops beating are abandoned)."""
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ("dispatcher:" + dispatcher, utcnow()),
    )


def claimer_alive_here(dispatcher_id: str) -> bool | None:
    """Whether the process behind a dispatcher id (``host:pid:tag``) still runs.

    None when it is not on this computer (or the id has another shape): only its heartbeat
    can tell then. A dead process id on this host is certain at once, where a missed
    heartbeat takes ``DEAD_AFTER_S`` to show.
    """
    parts = dispatcher_id.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return None
    return process_alive(int(parts[1]))


def dead_claimers(conn: sqlite3.Connection, alive_since: str, me: str) -> list[str]:
    """Dispatchers other than ``me`` that hold claims on queued rows but are gone: a process of
    this computer that no longer runs, or one whose heartbeat is older than ``alive_since``.

    Only reads (a reader connection will do), so a periodic check costs no write.
    """
    rows = conn.execute(
        """SELECT DISTINCT m.claimed_by, kv.value FROM messages m LEFT JOIN kv ON kv.key = 'dispatcher:' || m.claimed_by
           WHERE m.status = 'queued' AND m.claimed_by IS NOT NULL AND m.claimed_by != ?""",
        (me,),
    ).fetchall()
    return [r[0] for r in rows if claimer_gone(r[0], r[1], alive_since)]


def claimer_gone(dispatcher_id: str, heartbeat: str | None, alive_since: str) -> bool:
    """Whether the dispatcher holding a claim is gone.

    - A heartbeat older than ``alive_since``: gone (or hung; its process id may even have been
      reused), whatever the process table says.
    - A fresh heartbeat: gone only when its process, on this computer, certainly is.
    - No heartbeat at all (``smsdesk send --at`` handing off to the provider runs no
      dispatcher): alive while its process on this computer runs; otherwise gone.
    """
    here = claimer_alive_here(dispatcher_id)
    if heartbeat is not None:
        return heartbeat < alive_since or here is False
    return here is not True


def abandon_dead_claims(conn: sqlite3.Connection, alive_since: str, me: str) -> list[int]:
    """Claims left by a dispatcher that died mid-send: the send may have gone out.

    Dead means :func:`dead_claimers` (its process is gone, or its heartbeat is older than
    ``alive_since``). Its claimed rows become ``needs_review`` (never blindly resent); a later
    receipt can still settle them.
    """
    dead = dead_claimers(conn, alive_since, me)
    if not dead:
        return []
    rows = conn.execute(
        f"""SELECT id FROM messages WHERE status = 'queued' AND claimed_by IN ({",".join("?" * len(dead))})""",
        dead,
    ).fetchall()
    ids = [r["id"] for r in rows]
    for mid in ids:
        apply_status(
            conn,
            mid,
            Status.NEEDS_REVIEW,
            "interrupted",
            "smsdesk stopped while this was being sent; it may or may not have gone out. "
            "Check with the recipient before sending again.",
        )
    return ids


def _receipt_target(
    conn: sqlite3.Connection, account_id: int, provider_message_id: str | None, client_ref: str | None
) -> sqlite3.Row | None:
    """(id, status, provider_message_id) of the outgoing message a receipt names, if any."""
    if provider_message_id:
        row = conn.execute(
            "SELECT id, status, provider_message_id FROM messages"
            " WHERE account_id = ? AND provider_message_id = ? AND direction = 'out'",
            (account_id, provider_message_id),
        ).fetchone()
        if row:
            return row  # type: ignore[no-any-return]
    if client_ref:
        row = conn.execute(
            "SELECT id, status, provider_message_id FROM messages WHERE client_ref = ? AND account_id = ?",
            (client_ref, account_id),
        ).fetchone()
        if row:
            return row  # type: ignore[no-any-return]
    return None


def find_for_receipt(
    conn: sqlite3.Connection, account_id: int, provider_message_id: str | None, client_ref: str | None
) -> int | None:
    row = _receipt_target(conn, account_id, provider_message_id, client_ref)
    return int(row[0]) if row else None


def apply_receipt(
    conn: sqlite3.Connection,
    account_id: int,
    provider_message_id: str | None,
    client_ref: str | None,
    status: Status,
    raw_status: str = "",
    error: str | None = None,
) -> tuple[int, bool] | None:
    """:func:`find_for_receipt` then :func:`apply_status`, sharing one lookup (the receipt hot path).

    Returns:
        None when no message matches (the caller parks the receipt), else (message id, changed).
    """
    row = _receipt_target(conn, account_id, provider_message_id, client_ref)
    if row is None:
        return None
    mid = int(row[0])
    return mid, _move(conn, mid, row[1], row[2], status, raw_status, error, provider_message_id, note_raw=True)


class MessageRepository:
    """Read side of messages for services and views."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, message_id: int) -> Message | None:
        row = self.db.query_one(_SELECT + " WHERE m.id = ?", (message_id,))
        return row_to_message(row) if row else None

    def get_by_local_id(self, local_id: str) -> Message | None:
        row = self.db.query_one(_SELECT + " WHERE m.local_id = ?", (local_id,))
        return row_to_message(row) if row else None

    def get_many(self, ids: Iterable[int]) -> list[Message]:
        id_list = list(ids)
        out: list[Message] = []
        for i in range(0, len(id_list), 500):
            chunk = id_list[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out += [row_to_message(r) for r in self.db.query(_SELECT + f" WHERE m.id IN ({marks})", tuple(chunk))]
        return out

    def recent(self, limit: int = 500, direction: str | None = None, account_id: int | None = None) -> list[Message]:
        where: list[str] = []
        params: list[str | int] = []
        if direction:
            where.append("m.direction = ?")
            params.append(direction)
        if account_id is not None:
            where.append("m.account_id = ?")
            params.append(account_id)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY m.id DESC LIMIT ?"
        params.append(limit)
        return [row_to_message(r) for r in self.db.query(sql, tuple(params))]

    def due_outbox(self, now: str, limit: int = 5000) -> list[sqlite3.Row]:
        """Queued messages due by ``now`` and not held by a paused or cancelled bulk run, oldest
        first: (id, account_id, run_id). A hint for what to claim; :func:`claim_due` decides."""
        return self.db.query(
            """SELECT id, account_id, run_id FROM messages
               WHERE status = 'queued' AND claimed_by IS NULL
                 AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                 AND (run_id IS NULL OR run_id NOT IN
                      (SELECT id FROM bulk_runs WHERE state IN ('paused', 'cancelled')))
               ORDER BY id LIMIT ?""",
            (now, limit),
        )

    def transitions(self, message_id: int) -> list[sqlite3.Row]:
        return self.db.query(
            "SELECT status, raw_status, at FROM message_transitions WHERE message_id = ? ORDER BY id",
            (message_id,),
        )
