"""Contacts' names by number, for showing a name wherever a number is shown.

The ``contacts`` table is filled by bulk import (:mod:`smsdesk.storage.bulk_sends`) and by naming a
number (:meth:`ContactRepository.set_name`, through :func:`smsdesk.storage.conversations.set_contact_name`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from smsdesk.storage.audit import record
from smsdesk.storage.conversations import set_contact_name
from smsdesk.storage.db import Database
from smsdesk.storage.records import AuditEntry

# Well under SQLite's limit on bound parameters, so one statement per chunk works everywhere.
_CHUNK = 500


def names_for(conn: sqlite3.Connection, numbers: Iterable[str]) -> dict[str, str]:
    """``{number: name}`` for the numbers (+E.164) that have a non-empty contact name.

    One query per 500 distinct numbers (an index probe each), however many rows a list shows.
    """
    wanted = sorted({n for n in numbers if n})
    out: dict[str, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        rows = conn.execute(
            f"SELECT number, name FROM contacts WHERE number IN ({','.join('?' * len(chunk))}) AND name != ''",
            chunk,
        ).fetchall()
        out.update((str(r[0]), str(r[1])) for r in rows)
    return out


class ContactRepository:
    """:class:`smsdesk.storage.api.ContactStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def names_for(self, numbers: Iterable[str]) -> dict[str, str]:
        return names_for(self._db.reader(), numbers)

    async def set_name(self, number: str, name: str, audit: AuditEntry) -> None:
        def write(conn: sqlite3.Connection) -> None:
            set_contact_name(conn, number, name)
            record(conn, audit)

        await self._db.write(write)
