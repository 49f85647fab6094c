"""Claims on outbox rows, dispatcher heartbeats and the claims of dispatchers that died.

When the GUI and ``smsdesk serve`` share a database, each row is *claimed* (``claimed_by``
set in one conditional UPDATE) before it is sent, so exactly one dispatcher sends it. A
dispatcher says it is alive in ``kv`` under ``dispatcher:<host>:<pid>:<tag>``; the claims of
one that stopped beating (or whose process is gone) become ``needs_review``: the send may
have gone out, so it is never blindly resent.

Module functions take the writer's connection (the SQLite statement layer); the
:class:`ClaimRepository` methods are the use cases services call, one transaction each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from smsdesk.domain.status import Status
from smsdesk.storage import bulk_sends as bulk_store
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.dialect import is_postgres
from smsdesk.storage.liveness import claimer_gone
from smsdesk.storage.messages import reject_opted_out
from smsdesk.storage.records import ClaimedMessage, ClaimGroups, ClaimResult
from smsdesk.storage.status_moves import apply_status

# What a claim returns: all the dispatcher needs to send the row, and the attempt it is
# (the columns of records.ClaimedMessage, in its order).
CLAIMED_COLUMNS = "id, account_id, local_id, remote, local_number, body, send_at, run_id, attempts"


def claim_due(conn: sqlite3.Connection, ids: Sequence[int], dispatcher: str) -> list[sqlite3.Row]:
    """Take the due queued messages of ``ids`` for sending; exactly one dispatcher wins each.

    Due means queued, held by no dispatcher, and its next attempt time (a retry's back-off,
    never shorter than the provider's Retry-After) has come. That time is part of the claim
    itself, not only of the query that picked the ids: when two processes share the database
    (the GUI and ``smsdesk serve``), the other one may hold an id it picked before this one
    was released for a retry, and would otherwise send it again at once.

    On PostgreSQL several dispatchers claim at once: the rows are locked ``FOR UPDATE SKIP
    LOCKED`` first, so a claim passes over a row another is taking instead of waiting for it.

    Returns rows of :data:`CLAIMED_COLUMNS`, in no particular order; one statement per 500 ids.
    """
    now = utcnow()
    rows: list[sqlite3.Row] = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        if is_postgres(conn):
            rows += conn.execute(
                f"""UPDATE messages SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1
                    WHERE id IN (SELECT id FROM messages
                                 WHERE id IN ({",".join("?" * len(chunk))}) AND status = 'queued'
                                   AND claimed_by IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                                 FOR UPDATE SKIP LOCKED)
                    RETURNING {CLAIMED_COLUMNS}""",
                (dispatcher, now, *chunk, now),
            ).fetchall()
            continue
        # ``+status``: look the ids up by rowid. With a plain ``status =`` SQLite chose the
        # outbox index for several ids and walked every queued row (10,000 for a big send)
        # for each claim.
        rows += conn.execute(
            f"""UPDATE messages SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1
                WHERE id IN ({",".join("?" * len(chunk))}) AND +status = 'queued' AND claimed_by IS NULL
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                RETURNING {CLAIMED_COLUMNS}""",
            (dispatcher, now, *chunk, now),
        ).fetchall()
    return rows


def claim(conn: sqlite3.Connection, message_id: int, dispatcher: str) -> bool:
    """Take one due queued message for sending (:func:`claim_due`); exactly one dispatcher wins."""
    return bool(claim_due(conn, [message_id], dispatcher))


def claim_groups(
    conn: sqlite3.Connection, groups: Sequence[tuple[Sequence[int], int | None]], me: str
) -> list[ClaimResult]:
    """Claim due queued rows (exactly one dispatcher wins each), one :class:`ClaimResult` per
    ``(ids, run_id)`` group, in order; ``run_id`` None: no bulk run.

    Each result holds the claimed rows and the ids rejected instead because the number opted
    out since the row was queued (the last check before anything goes; same transaction as
    the claim). The claims a dispatcher's workers ask for in the same moment come together:
    one statement of each kind instead of a handful each.
    """
    bulk = [mid for ids, run_id in groups if run_id is not None for mid in ids]
    # a bulk run paused since these ids were queued up (rows outside a run cannot be held)
    held = bulk_store.held_ids(conn, bulk) if bulk else set()
    todo = [[mid for mid in ids if mid not in held] for ids, _run in groups]
    rejected = set(reject_opted_out(conn, [mid for ids in todo for mid in ids]))
    if rejected:
        todo = [[mid for mid in ids if mid not in rejected] for ids in todo]
    got = {r[0]: ClaimedMessage(*r) for r in claim_due(conn, [mid for ids in todo for mid in ids], me)}
    return [
        ClaimResult(
            [got[mid] for mid in wanted if mid in got],  # in queue order
            [mid for mid in ids if mid in rejected],
        )
        for (ids, _run), wanted in zip(groups, todo, strict=True)
    ]


def give_back(conn: sqlite3.Connection, ids: Sequence[int], dispatcher: str) -> list[int]:
    """Rows ``dispatcher`` claimed and never handed to the provider (it stopped first): queued
    and unclaimed again, the attempt not counted. Returns the ids given back."""
    out: list[int] = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        out += [
            int(r[0])
            for r in conn.execute(
                f"""UPDATE messages SET claimed_by = NULL, claimed_at = NULL,
                      attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                    WHERE id IN ({",".join("?" * len(chunk))}) AND claimed_by = ? AND status = 'queued'
                    RETURNING id""",
                (*chunk, dispatcher),
            ).fetchall()
        ]
    return out


def heartbeat(conn: sqlite3.Connection, dispatcher: str) -> None:
    """Say this dispatcher is alive (claims of a dispatcher that stops beating are abandoned)."""
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ("dispatcher:" + dispatcher, utcnow()),
    )


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


class ClaimRepository:
    """:class:`smsdesk.storage.api.ClaimStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def heartbeat(self, me: str) -> None:
        await self._db.write(lambda c: heartbeat(c, me))

    def dead_claimers(self, alive_since: str, me: str) -> list[str]:
        return dead_claimers(self._db.reader(), alive_since, me)

    async def abandon_dead_sends(self, alive_since: str, me: str) -> list[int]:
        return await self._db.write(lambda c: abandon_dead_claims(c, alive_since, me))

    async def give_back(self, ids: Sequence[int], me: str) -> list[int]:
        return await self._db.write(lambda c: give_back(c, ids, me))

    async def claim_groups(self, groups: ClaimGroups, me: str) -> list[ClaimResult]:
        return await self._db.write(lambda c: claim_groups(c, groups() if callable(groups) else groups, me))
