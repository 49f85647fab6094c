"""The opt-out list: numbers that asked not to be messaged, with where that came from.

Every check also reads the hashes an erased person's opted-out numbers left behind
(:mod:`smsdesk.storage.erasure`), so such a number stays refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from smsdesk.domain.optout import how_opted_out
from smsdesk.storage import erasure
from smsdesk.storage.audit import audit
from smsdesk.storage.db import Database, utcnow

if TYPE_CHECKING:  # the opt-out records load with the page that lists them, not at start-up
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
    if erasure.forget(conn, number) and not cur.rowcount:
        audit(conn, "optout.remove", "(an erased person's number)", source=source)
        return True
    if cur.rowcount:
        audit(conn, "optout.remove", number, source=source)
    return cur.rowcount == 1


def reason(conn: sqlite3.Connection, number: str) -> str | None:
    """Why ``number`` may not be messaged ("replied STOP on 3 Dec 2026"), or None when it may."""
    row = conn.execute("SELECT source, created_at FROM optouts WHERE number = ?", (number,)).fetchone()
    if row is not None:
        return how_opted_out(row[0], row[1])
    return erasure.HOW if erasure.erased_among(conn, [number]) else None


class OptOutRepository:
    """:class:`smsdesk.storage.api.OptOutStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def is_opted_out(self, number: str) -> bool:
        return reason(self._db.reader(), number) is not None

    def opted_out_among(self, numbers: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(numbers), 500):
            chunk = numbers[i : i + 500]
            rows = self._db.query(
                f"SELECT number FROM optouts WHERE number IN ({','.join('?' * len(chunk))})", tuple(chunk)
            )
            out |= {r["number"] for r in rows}
        return out | erasure.erased_among(self._db.reader(), [n for n in numbers if n not in out])

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
        out.update(
            (n, erasure.HOW) for n in erasure.erased_among(self._db.reader(), [n for n in wanted if n not in out])
        )
        return out

    def list_with_names(self) -> list[OptOutEntry]:
        """The whole list, newest first, with each number's contact name ("" when none)."""
        rows = self._db.query(
            """SELECT o.number, o.source, o.note, o.created_at, COALESCE(k.name, '') AS name
               FROM optouts o LEFT JOIN contact_numbers n ON n.number = o.number
               LEFT JOIN contacts k ON k.id = n.contact_id
               ORDER BY o.created_at DESC"""
        )
        from smsdesk.storage.records import OptOutEntry  # loaded when the list is first shown

        return [OptOutEntry(*r) for r in rows]

    async def add(self, number: str, source: str, note: str = "") -> bool:
        return await self._db.write(lambda c: add(c, number, source, note))

    async def remove(self, number: str, source: str) -> bool:
        return await self._db.write(lambda c: remove(c, number, source))
