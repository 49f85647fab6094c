"""The opt-out list: numbers that asked not to be messaged, with where that came from."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from smsdesk.domain.optout import how_opted_out
from smsdesk.storage.audit import audit
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.records import OptOutEntry


def add(conn: sqlite3.Connection, number: str, source: str, note: str = "") -> bool:
    cur = conn.execute(
        "INSERT INTO optouts (number, source, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (number, source, note, utcnow()),
    )
    if cur.rowcount:
        audit(conn, "optout.add", number, source=source, note=note)
    return cur.rowcount == 1


def remove(conn: sqlite3.Connection, number: str, source: str) -> bool:
    cur = conn.execute("DELETE FROM optouts WHERE number = ?", (number,))
    if cur.rowcount:
        audit(conn, "optout.remove", number, source=source)
    return cur.rowcount == 1


def reason(conn: sqlite3.Connection, number: str) -> str | None:
    """Why ``number`` may not be messaged ("replied STOP on 3 Dec 2026"), or None when it may."""
    row = conn.execute("SELECT source, created_at FROM optouts WHERE number = ?", (number,)).fetchone()
    return how_opted_out(row[0], row[1]) if row else None


class OptOutRepository:
    """:class:`smsdesk.storage.api.OptOutStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def is_opted_out(self, number: str) -> bool:
        return self._db.query_one("SELECT 1 FROM optouts WHERE number = ?", (number,)) is not None

    def opted_out_among(self, numbers: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(numbers), 500):
            chunk = numbers[i : i + 500]
            rows = self._db.query(
                f"SELECT number FROM optouts WHERE number IN ({','.join('?' * len(chunk))})", tuple(chunk)
            )
            out |= {r["number"] for r in rows}
        return out

    def reason(self, number: str) -> str | None:
        return reason(self._db.reader(), number)

    def reasons(self, numbers: Sequence[str]) -> dict[str, str]:
        """:meth:`reason` of those of ``numbers`` on the list, one query per 500."""
        out: dict[str, str] = {}
        wanted = list(dict.fromkeys(numbers))
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            rows = self._db.query(
                f"SELECT number, source, created_at FROM optouts WHERE number IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            out.update((str(r[0]), how_opted_out(r[1], r[2])) for r in rows)
        return out

    def list_with_names(self) -> list[OptOutEntry]:
        """The whole list, newest first, with each number's contact name ("" when none)."""
        rows = self._db.query(
            """SELECT o.number, o.source, o.note, o.created_at, COALESCE(k.name, '') AS name
               FROM optouts o LEFT JOIN contacts k ON k.number = o.number
               ORDER BY o.created_at DESC"""
        )
        return [OptOutEntry(*r) for r in rows]

    async def add(self, number: str, source: str, note: str = "") -> bool:
        return await self._db.write(lambda c: add(c, number, source, note))

    async def remove(self, number: str, source: str) -> bool:
        return await self._db.write(lambda c: remove(c, number, source))
