"""Contacts' names by number, for showing a name wherever a number is shown.

The ``contacts`` table is filled by bulk import (:mod:`smsdesk.storage.bulk_sends`) and by naming a
number (:func:`smsdesk.storage.conversations.set_contact_name`); this module only reads it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

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
