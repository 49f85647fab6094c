"""Undecided sends (``needs_review``) in batches, and the record of checking them with the provider.

A batch is an account's undecided messages of one bulk run, or its undecided single sends
(``run_id`` NULL). A process killed mid-request leaves a whole batch like this (up to 1,000
messages per bulk request), so a person settles them a batch at a time, and the review
service asks the provider about a batch in one request.

How often a batch was checked, and when it is next due, lives in ``kv`` under
``review:<account id>:<run id or 0>`` as JSON, so every process on the database (the GUI,
``smsdesk serve``, the CLI) shows the same schedule, and :func:`claim_check` lets exactly one
of them make each check. Module functions take the writer's connection (or a reader); the
:class:`ReviewRepository` methods are the use cases, one transaction each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from smsdesk.domain.models import SendResult
from smsdesk.domain.status import Status, can_move
from smsdesk.storage import messages as msg_store
from smsdesk.storage.audit import record
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.records import AuditEntry, BatchMessage
from smsdesk.storage.records import BatchRow as BatchRow  # the name callers know

CHECK_PREFIX = "review:"


def batches(conn: sqlite3.Connection) -> list[BatchRow]:
    """Every batch of undecided outgoing messages, oldest first."""
    rows = conn.execute(
        """SELECT m.account_id, m.run_id, count(*), MAX(m.id), MIN(COALESCE(m.claimed_at, m.created_at)),
                  COALESCE(b.source, ''), COALESCE(b.state, '')
           FROM messages m LEFT JOIN bulk_runs b ON b.id = m.run_id
           WHERE m.status = 'needs_review' AND m.direction = 'out'
           GROUP BY m.account_id, m.run_id, b.source, b.state ORDER BY MIN(m.id)"""
    ).fetchall()
    return [BatchRow(int(r[0]), r[1], int(r[2]), int(r[3]), str(r[4] or ""), str(r[5]), str(r[6])) for r in rows]


def _where(run_id: int | None) -> str:
    return "run_id = ?" if run_id is not None else "run_id IS NULL"


def _params(account_id: int, run_id: int | None) -> tuple[int, ...]:
    return (account_id, run_id) if run_id is not None else (account_id,)


def batch_messages(conn: sqlite3.Connection, account_id: int, run_id: int | None) -> list[sqlite3.Row]:
    """(id, local_id, sent_at, attempts) of a batch's undecided messages, in id order."""
    rows: list[sqlite3.Row] = conn.execute(
        f"""SELECT id, local_id, COALESCE(claimed_at, created_at) AS sent_at, attempts FROM messages
            WHERE account_id = ? AND {_where(run_id)} AND status = 'needs_review' AND direction = 'out'
            ORDER BY id""",
        _params(account_id, run_id),
    ).fetchall()
    return rows


def check_key(account_id: int, run_id: int | None) -> str:
    return f"{CHECK_PREFIX}{account_id}:{run_id or 0}"


def read_checks(conn: sqlite3.Connection) -> dict[str, str]:
    """Every batch's check record (JSON text) by key."""
    rows = conn.execute("SELECT key, value FROM kv WHERE key LIKE 'review:%'").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def claim_check(conn: sqlite3.Connection, key: str, old: str | None, new: str) -> bool:
    """Replace a batch's check record only if it is still ``old`` (None: there is none yet).

    Two processes finding the same check due both try; exactly one wins and asks the provider.
    """
    if old is None:
        cur = conn.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, new))
    else:
        cur = conn.execute("UPDATE kv SET value = ? WHERE key = ? AND value = ?", (new, key, old))
    return cur.rowcount == 1


def forget_checks(conn: sqlite3.Connection, keep: Iterable[str]) -> None:
    """Drop the check records of batches that are settled (no undecided message left)."""
    live = set(keep)
    for (key,) in conn.execute("SELECT key FROM kv WHERE key LIKE 'review:%'").fetchall():
        if key not in live:
            conn.execute("DELETE FROM kv WHERE key = ?", (key,))


def settle(conn: sqlite3.Connection, found: Sequence[tuple[int, SendResult]]) -> list[int]:
    """Record what the provider said of undecided messages; returns the ids that moved.

    The provider's word moves a message forward from ``needs_review`` (a status it cannot
    take, such as "scheduled at the provider", counts as sent). The warning it carried is
    replaced by the provider's words, if any.
    """
    moved: list[int] = []
    for mid, res in found:
        status = res.status if can_move(Status.NEEDS_REVIEW, res.status) else Status.SENT
        if msg_store.apply_status(conn, mid, status, res.raw_status, res.error or "", res.provider_message_id):
            moved.append(mid)
    return moved


def mark_sent(conn: sqlite3.Connection, account_id: int, run_id: int | None) -> list[int]:
    """A person's word: every undecided message of the batch went out. Returns the ids.

    The "may or may not have gone out" warning goes; the raw status says who decided.
    """
    ids = [int(r["id"]) for r in batch_messages(conn, account_id, run_id)]
    return [mid for mid in ids if msg_store.apply_status(conn, mid, Status.SENT, "marked sent by you", "")]


def send_again(
    conn: sqlite3.Connection,
    account_id: int,
    run_id: int | None,
    only: Sequence[int] | None = None,
    why: str = "sent again",
) -> list[int]:
    """Put the batch's undecided messages (or ``only`` those of them) back in the outbox with
    their reference; returns the ids.

    Only rows still undecided in this transaction: one a receipt settled meanwhile stays settled.
    """
    now = utcnow()
    ids: list[int] = []
    chunks = [None] if only is None else [list(only[i : i + 500]) for i in range(0, len(only), 500)]
    for chunk in chunks:
        pick = "" if chunk is None else f" AND id IN ({','.join('?' * len(chunk))})"
        rows = conn.execute(
            f"""UPDATE messages SET status = 'queued', error = NULL, raw_status = '', claimed_by = NULL,
                  next_attempt_at = NULL, provider_message_id = NULL, updated_at = ?
                WHERE account_id = ? AND {_where(run_id)} AND status = 'needs_review' AND direction = 'out'{pick}
                RETURNING id""",
            (now, *_params(account_id, run_id), *(chunk or ())),
        ).fetchall()
        ids += [int(r[0]) for r in rows]
    ids.sort()
    conn.executemany(
        "INSERT INTO message_transitions (message_id, status, raw_status, at) VALUES (?, 'queued', ?, ?)",
        [(mid, why, now) for mid in ids],
    )
    return ids


class ReviewRepository:
    """:class:`smsdesk.storage.api.ReviewStore` over SQLite (reads on the calling thread's
    connection: the review service reads a batch from a worker thread)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def batches(self) -> list[BatchRow]:
        return batches(self._db.reader())

    def batch_messages(self, account_id: int, run_id: int | None) -> list[BatchMessage]:
        return [BatchMessage(*r) for r in batch_messages(self._db.reader(), account_id, run_id)]

    def check_key(self, account_id: int, run_id: int | None) -> str:
        return check_key(account_id, run_id)

    def checks(self) -> dict[str, str]:
        return read_checks(self._db.reader())

    async def claim_check(self, key: str, old: str | None, new: str) -> bool:
        return await self._db.write(lambda c: claim_check(c, key, old, new))

    async def forget_checks(self, keep: Iterable[str]) -> None:
        live = set(keep)
        await self._db.write(lambda c: forget_checks(c, live))

    async def settle(self, found: Sequence[tuple[int, SendResult]]) -> list[int]:
        return await self._db.write(lambda c: settle(c, found))

    async def mark_sent(self, account_id: int, run_id: int | None, audit: AuditEntry) -> list[int]:
        def write(conn: sqlite3.Connection) -> list[int]:
            ids = mark_sent(conn, account_id, run_id)
            if ids:
                record(conn, audit, count=len(ids))
            return ids

        return await self._db.write(write)

    async def send_again(
        self,
        account_id: int,
        run_id: int | None,
        only: Sequence[int] | None = None,
        why: str = "sent again",
        audit: AuditEntry | None = None,
    ) -> list[int]:
        def write(conn: sqlite3.Connection) -> list[int]:
            ids = send_again(conn, account_id, run_id, only, why)
            if ids and audit is not None:
                record(conn, audit, count=len(ids))
            return ids

        return await self._db.write(write)
