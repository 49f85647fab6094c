"""Calls that need an account's provider keys, asked by a computer that holds none.

A team workspace keeps provider keys only on its relays, so a desktop's **Test** of an
account, its balance, or cancelling a send the provider holds (``subject``: the scheduled
item) is asked of them: the desktop writes a ``relay_requests`` row; a
relay that holds the account's keys claims it (one conditional UPDATE: exactly one relay
answers), makes the call and writes the answer, which the desktop reads. Rows are small and
short-lived; answered ones older than a day are removed by the next claim.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.records import RelayRequest


def _ask(conn: sqlite3.Connection, kind: str, account_id: int, subject: int | None) -> int:
    cur = conn.execute(
        "INSERT INTO relay_requests (kind, account_id, subject, asked_at) VALUES (?, ?, ?, ?)",
        (kind, account_id, subject, utcnow()),
    )
    return int(cur.lastrowid or 0)


def _claim(conn: sqlite3.Connection, me: str, account_ids: list[int], since: str) -> list[RelayRequest]:
    old = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="milliseconds")
    conn.execute("DELETE FROM relay_requests WHERE asked_at < ?", (old,))
    marks = ",".join("?" * len(account_ids))
    rows = conn.execute(
        f"""UPDATE relay_requests SET claimed_by = ?
            WHERE claimed_by IS NULL AND answered_at IS NULL AND asked_at >= ? AND account_id IN ({marks})
            RETURNING id, kind, account_id, subject""",
        (me, since, *account_ids),
    ).fetchall()
    return [RelayRequest(int(r[0]), str(r[1]), int(r[2]), None if r[3] is None else int(r[3])) for r in rows]


def _answer(conn: sqlite3.Connection, request_id: int, ok: bool, text: str) -> None:
    conn.execute(
        "UPDATE relay_requests SET answered_at = ?, ok = ?, answer = ? WHERE id = ?",
        (utcnow(), 1 if ok else 0, text, request_id),
    )


class RelayRequestRepository:
    """:class:`smsdesk.storage.api.RelayRequestStore` over either store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ask(self, kind: str, account_id: int, subject: int | None = None) -> int:
        return await self._db.write(lambda c: _ask(c, kind, account_id, subject))

    def answer_of(self, request_id: int) -> tuple[bool, str] | None:
        """(ok, the answer's words), or None while no relay has answered."""
        row = self._db.query_one(
            "SELECT ok, answer FROM relay_requests WHERE id = ? AND answered_at IS NOT NULL", (request_id,)
        )
        return None if row is None else (bool(row["ok"]), str(row["answer"]))

    async def claim(self, me: str, account_ids: list[int], since: str) -> list[RelayRequest]:
        """Take the unanswered requests for these accounts asked since ``since`` (older ones
        were given up by whoever asked)."""
        if not account_ids:
            return []
        return await self._db.write(lambda c: _claim(c, me, account_ids, since))

    async def answer(self, request_id: int, ok: bool, text: str) -> None:
        await self._db.write(lambda c: _answer(c, request_id, ok, text))
