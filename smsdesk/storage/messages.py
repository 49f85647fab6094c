"""Messages, their transitions and the conversation index.

Module functions take the writer's connection (the SQLite statement layer, called inside
``Database.write``); :class:`MessageRepository` is what services use: reads on the calling
thread's reader, one transaction per write. Status changes go through :func:`apply_status`
(:mod:`smsdesk.storage.status_moves`), which enforces the forward-only rule in SQL's own
transaction; send results are recorded by :mod:`smsdesk.storage.send_results`. Claims live in
:mod:`smsdesk.storage.claims`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from smsdesk.domain.models import Message, SendResult
from smsdesk.domain.optout import how_opted_out
from smsdesk.domain.pacing import Pacer
from smsdesk.domain.pricing import Prices
from smsdesk.domain.pricing import prices as account_prices
from smsdesk.domain.status import Status
from smsdesk.storage import erasure
from smsdesk.storage.audit import audit as write_audit
from smsdesk.storage.audit import record
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.dialect import CHANGE_ORDER_LOCK, is_postgres
from smsdesk.storage.liveness import claimer_alive_here as claimer_alive_here  # storage.bulk_sends' name
from smsdesk.storage.liveness import claimer_gone as claimer_gone  # storage.schedule's name
from smsdesk.storage.message_rows import MESSAGE_SELECT, row_to_message
from smsdesk.storage.message_stream import iter_messages
from smsdesk.storage.records import (
    AuditEntry,
    ClaimedMessage,
    OutboxRow,
    RecordedBatch,
    SpendCap,
    Transition,
)
from smsdesk.storage.records import NewOutgoing as NewOutgoing  # where callers have always found it
from smsdesk.storage.send_results import record_result, record_results
from smsdesk.storage.spend_cap import check_cap
from smsdesk.storage.status_moves import apply_status as apply_status  # where callers have always found it
from smsdesk.storage.status_moves import move_from

# An incoming message counts as the reply to a send when it comes within this time of it.
REPLY_WINDOW = timedelta(days=7)


def new_local_id() -> str:
    """A new message's own id (also its client reference at the provider): 128 random bits
    as 32 hex digits, the form ``uuid4().hex`` had."""
    return os.urandom(16).hex()


def new_local_ids(count: int) -> list[str]:
    """``count`` ids of :func:`new_local_id`'s form from one read of the OS's random source
    (``uuid4`` built a UUID object per id: ~9 µs each of the writer's time while the event
    loop was busy, a fifth of queueing 10,000 messages)."""
    pool = os.urandom(16 * count).hex()
    return [pool[i : i + 32] for i in range(0, 32 * count, 32)]


def _touch_conversation(
    conn: sqlite3.Connection, account_id: int, remote: str, message_id: int, at: str, unread: int
) -> None:
    """The conversation's last message is now ``message_id``; an incoming one (``unread``)
    starts waiting for an answer unless an earlier one already waits, and reopens the
    conversation if the team had resolved or snoozed it."""
    conn.execute(
        """INSERT INTO conversations (account_id, remote, last_message_id, last_at, unread, waiting_since)
           VALUES (?, ?, ?, ?, ?, CASE WHEN ? > 0 THEN ? END)
           ON CONFLICT (account_id, remote) DO UPDATE SET
             last_message_id = excluded.last_message_id,
             last_at = excluded.last_at,
             unread = conversations.unread + excluded.unread,
             waiting_since = coalesce(conversations.waiting_since, excluded.waiting_since),
             state = CASE WHEN excluded.unread > 0 THEN 'open' ELSE conversations.state END,
             snoozed_until = CASE WHEN excluded.unread > 0 THEN NULL ELSE conversations.snoozed_until END""",
        (account_id, remote, message_id, at, unread, unread, at),
    )


def _seconds_between(earlier: str, later: str) -> int:
    return max(0, round((datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()))


def _answered(conn: sqlite3.Connection, account_id: int, remote: str, message_id: int, since: str, now: str) -> None:
    conn.execute("UPDATE messages SET answer_s = ? WHERE id = ?", (_seconds_between(since, now), message_id))
    conn.execute(
        "UPDATE conversations SET waiting_since = NULL WHERE account_id = ? AND remote = ?", (account_id, remote)
    )


def _note_reply(conn: sqlite3.Connection, account_id: int, remote: str, now: str, message_id: int) -> None:
    """An incoming message is the reply to the send before it, if that was the conversation's
    last message (no later send to the number) and went out within the last 7 days."""
    since = (datetime.fromisoformat(now) - REPLY_WINDOW).isoformat(timespec="milliseconds")
    conn.execute(
        """UPDATE messages SET reply_id = ?
           WHERE id = (SELECT last_message_id FROM conversations WHERE account_id = ? AND remote = ?)
             AND direction = 'out' AND reply_id IS NULL AND created_at >= ?""",
        (message_id, account_id, remote, since),
    )


def _prices(conn: sqlite3.Connection, account_id: int) -> Prices:
    """The account's prices now (per part, per country, and the currency)."""
    row = conn.execute("SELECT settings FROM accounts WHERE id = ?", (account_id,)).fetchone()
    try:
        settings = json.loads(row[0]) if row is not None and row[0] else {}
    except ValueError:
        settings = {}
    return account_prices(settings)


_INSERT_CHUNK = 200  # rows per multi-row statement (16 values each: far below SQLite's 32,766)


def _new_ids(conn: sqlite3.Connection, count: int) -> list[int]:
    """Ids for ``count`` new messages: on SQLite the largest id plus one on (as SQLite itself
    would; the writer holds the write lock), on PostgreSQL from the table's sequence, under
    the lock that keeps message ids visible in id order (``storage/pg/changes.py``)."""
    if is_postgres(conn):  # in id order with other writers: the insert's lock, taken first
        conn.execute("SELECT pg_advisory_xact_lock(?)", (CHANGE_ORDER_LOCK,))
        taken = conn.execute("SELECT nextval('messages_id_seq') FROM generate_series(1, ?)", (count,))
        return [int(r[0]) for r in taken]
    first = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM messages").fetchone()[0])
    return list(range(first, first + count))


def insert_outgoing(conn: sqlite3.Connection, items: Iterable[NewOutgoing], *, by_person: bool = True) -> list[int]:
    """Store outgoing messages (the outbox); returns their row ids in order. Each records the
    account's price per part for its country and the currency of this moment (a later change does not touch it).

    ``by_person``: written by staff or a send they started (an automatic reply is not), so each
    answers the incoming messages waiting in its conversation (see :func:`_answer`).

    Rows go in 200 at a time, a statement of each kind per chunk (a statement per row cost
    three times as much, and each made the writer wait for its turn at the GIL). Ids are given
    explicitly (:func:`_new_ids`).
    """
    now = utcnow()
    todo = list(items)
    ids: list[int] = []
    prices: dict[int, Prices] = {}
    pacer = Pacer(every=1)  # a tick per chunk of rows in the writer thread: leave the GUI thread its turns
    for start in range(0, len(todo), _INSERT_CHUNK):
        pacer.tick()
        chunk = todo[start : start + _INSERT_CHUNK]
        chunk_ids = _new_ids(conn, len(chunk))
        values: list[object] = []
        fresh = iter(new_local_ids(len(chunk)))
        for mid, it in zip(chunk_ids, chunk, strict=True):
            local_id = it.local_id or next(fresh)
            table = prices.get(it.account_id) or prices.setdefault(it.account_id, _prices(conn, it.account_id))
            values += (mid, local_id, it.account_id, it.remote, it.local_number, it.body, it.status.value, local_id)
            values += (it.segments, it.encoding, it.send_at, it.run_id, now, now, table.per_part(it.remote))
            values.append(table.currency)
        conn.execute(
            f"""INSERT INTO messages (id, local_id, account_id, direction, remote, local_number, body,
                 status, client_ref, segments, encoding, send_at, run_id, created_at, updated_at,
                 price_per_part, currency)
               VALUES {",".join(["(?, ?, ?, 'out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))}""",
            values,
        )
        conn.execute(
            f"INSERT INTO message_transitions (message_id, status, at) VALUES {','.join(['(?, ?, ?)'] * len(chunk))}",
            [v for mid, it in zip(chunk_ids, chunk, strict=True) for v in (mid, it.status.value, now)],
        )
        sent = [(it.account_id, it.remote, mid) for mid, it in zip(chunk_ids, chunk, strict=True)]
        if by_person:
            _answer(conn, sent, now)
        conn.execute(
            f"""INSERT INTO conversations (account_id, remote, last_message_id, last_at, unread)
               VALUES {",".join(["(?, ?, ?, ?, 0)"] * len(sent))}
               ON CONFLICT (account_id, remote) DO UPDATE SET
                 last_message_id = excluded.last_message_id, last_at = excluded.last_at""",
            [v for account_id, remote, mid in sent for v in (account_id, remote, mid, now)],
        )
        ids += chunk_ids
    return ids


def _answer(conn: sqlite3.Connection, sent: Sequence[tuple[int, str, int]], now: str) -> None:
    """A person wrote these ``(account_id, remote, message_id)`` messages: each answers the
    incoming messages waiting in its conversation (the first of them to a conversation does),
    and records how long the first of those waited (time to first reply)."""
    by_account: dict[int, list[str]] = {}
    for account_id, remote, _mid in sent:
        by_account.setdefault(account_id, []).append(remote)
    waiting: dict[tuple[int, str], str] = {}
    for account_id, remotes in by_account.items():
        rows = conn.execute(
            f"""SELECT remote, waiting_since FROM conversations WHERE account_id = ? AND waiting_since IS NOT NULL
                AND remote IN ({",".join("?" * len(remotes))})""",
            (account_id, *remotes),
        ).fetchall()
        waiting.update(((account_id, r[0]), r[1]) for r in rows)
    for account_id, remote, mid in sent:
        since = waiting.pop((account_id, remote), None)
        if since is not None:
            _answered(conn, account_id, remote, mid, since, now)


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
    _note_reply(conn, account_id, remote, now, mid)
    _touch_conversation(conn, account_id, remote, mid, now, 1)
    return mid


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
        found = [(int(r[0]), str(r[1]), how_opted_out(r[2], r[3])) for r in rows]
        found += _erased_in(conn, chunk, {r[0] for r in found})
        for mid, number, how in found:
            why = f"Not sent: {number} opted out ({how}) before it went. Send again only if they opt back in."
            if apply_status(conn, mid, Status.REJECTED, "opted out", why):
                out.append(mid)
    return out


def _erased_in(conn: sqlite3.Connection, ids: list[int], done: set[int]) -> list[tuple[int, str, str]]:
    """Of the unsent messages ``ids`` (but ``done``), those to an erased person who had opted out."""
    if not erasure.any_erased(conn):
        return []
    rows = conn.execute(
        f"""SELECT id, remote FROM messages WHERE id IN ({",".join("?" * len(ids))}) AND direction = 'out'
              AND status IN ('queued', 'scheduled') AND claimed_by IS NULL""",
        ids,
    ).fetchall()
    todo = [(int(r[0]), str(r[1])) for r in rows if int(r[0]) not in done]
    erased = erasure.erased_among(conn, [n for _, n in todo])
    return [(mid, n, erasure.HOW) for mid, n in todo if n in erased]


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
            return row  # type: ignore[no-any-return]  # sqlite3's fetchone() is typed Any
    if client_ref:
        row = conn.execute(
            "SELECT id, status, provider_message_id FROM messages WHERE client_ref = ? AND account_id = ?",
            (client_ref, account_id),
        ).fetchone()
        if row:
            return row  # type: ignore[no-any-return]  # sqlite3's fetchone() is typed Any
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
    return mid, move_from(conn, mid, row[1], row[2], status, raw_status, error, provider_message_id, note_raw=True)


def requeue_for_retry(conn: sqlite3.Connection, message_id: int, entry: AuditEntry) -> bool:
    """:func:`reset_for_retry`, audited when it moved."""
    ok = reset_for_retry(conn, message_id)
    if ok:
        record(conn, entry)
    return ok


class MessageRepository:
    """:class:`smsdesk.storage.api.MessageStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- reads -------------------------------------------------------------------------
    def get(self, message_id: int) -> Message | None:
        row = self._db.query_one(MESSAGE_SELECT + " WHERE m.id = ?", (message_id,))
        return row_to_message(row) if row else None

    def get_by_local_id(self, local_id: str) -> Message | None:
        row = self._db.query_one(MESSAGE_SELECT + " WHERE m.local_id = ?", (local_id,))
        return row_to_message(row) if row else None

    def get_many(self, ids: Iterable[int]) -> list[Message]:
        id_list = list(ids)
        out: list[Message] = []
        for i in range(0, len(id_list), 500):
            chunk = id_list[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out += [
                row_to_message(r)
                for r in self._db.query(MESSAGE_SELECT + f" WHERE m.id IN ({marks}) ORDER BY m.id", tuple(chunk))
            ]
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
        sql = MESSAGE_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY m.id DESC LIMIT ?"
        params.append(limit)
        return [row_to_message(r) for r in self._db.query(sql, tuple(params))]

    def stream(self, account_id: int | None = None, limit: int | None = None) -> Iterator[Message]:
        """The newest ``limit`` messages (all when None), newest first, read in pages as consumed."""
        return iter_messages(self._db, account_id=account_id, limit=limit)

    def waiting_accounts(self, now: str) -> dict[int, int]:
        """Account id -> how many of its queued messages are due and held by no dispatcher."""
        rows = self._db.query(
            """SELECT account_id, count(*) AS n FROM messages
               WHERE status = 'queued' AND claimed_by IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
               GROUP BY account_id""",
            (now,),
        )
        return {int(r["account_id"]): int(r["n"]) for r in rows}

    def due_outbox(self, now: str, limit: int = 5000) -> list[OutboxRow]:
        """Queued messages due by ``now`` and not held by a paused or cancelled bulk run, oldest
        first. A hint for what to claim; ``ClaimStore.claim_groups`` decides."""
        cur = self._db.reader().cursor()
        cur.row_factory = None  # plain tuples: the dispatcher reads thousands of these a pass
        rows = cur.execute(
            """SELECT id, account_id, run_id FROM messages
               WHERE status = 'queued' AND claimed_by IS NULL
                 AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                 AND (run_id IS NULL OR run_id NOT IN
                      (SELECT id FROM bulk_runs WHERE state IN ('paused', 'cancelled')))
               ORDER BY id LIMIT ?""",
            (now, limit),
        ).fetchall()
        return list(map(OutboxRow._make, rows))

    def transitions(self, message_id: int) -> list[Transition]:
        rows = self._db.query(
            "SELECT status, raw_status, at FROM message_transitions WHERE message_id = ? ORDER BY id",
            (message_id,),
        )
        return [Transition(*r) for r in rows]

    # ---- writes (one transaction each) ---------------------------------------------------
    async def queue(self, items: Sequence[NewOutgoing], audit: AuditEntry, cap: SpendCap | None = None) -> list[int]:
        """Store outgoing messages and the audit line saying who queued them; returns their ids.

        ``audit`` is recorded with ``recipients`` (how many were stored) added to its detail.
        ``cap``: the account's spending limit, checked again once the rows are stored
        (``storage/spend_cap.py``); over it, nothing is stored and OverLimit is raised.
        """

        def write(conn: sqlite3.Connection) -> list[int]:
            ids = insert_outgoing(conn, items)
            check_cap(conn, cap)
            write_audit(conn, audit.action, audit.subject, recipients=len(ids), **audit.detail)
            return ids

        return await self._db.write(write)

    async def requeue_for_retry(self, message_id: int, audit: AuditEntry) -> bool:
        return await self._db.write(lambda c: requeue_for_retry(c, message_id, audit))

    async def release_for_retry(self, message_id: int, next_attempt_at: str, error: str) -> None:
        await self._db.write(lambda c: release_for_retry(c, message_id, next_attempt_at, error))

    async def record_result(
        self, account_id: int, claimed: ClaimedMessage, result: SendResult, optout_note: str | None = None
    ) -> None:
        await self._db.write(lambda c: record_result(c, account_id, claimed, result, optout_note))

    async def record_results(
        self, account_id: int, pairs: Sequence[tuple[ClaimedMessage, SendResult | None]]
    ) -> RecordedBatch:
        return await self._db.write(lambda c: record_results(c, account_id, pairs))
