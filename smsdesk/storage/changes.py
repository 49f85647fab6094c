"""What another process changed in the shared database.

The GUI and ``smsdesk serve`` (or a CLI command) write the same SQLite file; change-sets are
per process. ``PRAGMA data_version`` (per connection) says cheaply that *some* other
connection committed; :func:`marks` then takes a handful of index-only probes (high-water
ids and small fingerprints) so the service can say *what* changed without reading the data.
Relay heartbeats are in :mod:`smsdesk.storage.relays`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from smsdesk.storage.db import Database
from smsdesk.storage.records import Marks


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection (this process's writer included) commits."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _one(conn: sqlite3.Connection, sql: str) -> tuple[Any, ...]:
    return tuple(conn.execute(sql).fetchone())


def marks(conn: sqlite3.Connection) -> Marks:
    # Each probe is an index (or rowid) lookup or a scan of a table a person keeps small.
    return Marks(
        message=int(_one(conn, "SELECT COALESCE(MAX(id), 0) FROM messages")[0]),
        transition=int(_one(conn, "SELECT COALESCE(MAX(id), 0) FROM message_transitions")[0]),
        log=int(_one(conn, "SELECT COALESCE(MAX(id), 0) FROM webhook_log")[0]),
        pending_events=int(_one(conn, "SELECT count(*) FROM webhook_events WHERE state = 'pending'")[0]),
        accounts=_one(conn, "SELECT count(*), MAX(updated_at) FROM accounts"),
        optouts=_one(conn, "SELECT count(*), MAX(created_at) FROM optouts"),
        # An edit moves updated_at (indexed); groups are few.
        contacts=_one(
            conn,
            "SELECT (SELECT count(*) FROM contacts), (SELECT MAX(id) FROM contacts),"
            " (SELECT MAX(updated_at) FROM contacts),"
            " (SELECT count(*) || ' ' || COALESCE(MAX(updated_at), '') FROM contact_groups)",
        ),
        schedules=_one(conn, "SELECT count(*), MAX(updated_at) FROM schedules"),
        bulk=_one(conn, "SELECT count(*), MAX(updated_at) FROM bulk_runs"),
        activity=int(_one(conn, "SELECT COALESCE(MAX(id), 0) FROM conversation_activity")[0]),
    )


def moved_messages(
    conn: sqlite3.Connection, after_message: int, after_transition: int, limit: int
) -> tuple[set[int], set[int]] | None:
    """(messages that are new or changed status, the new ones that are replies) since the
    marks; None when more than ``limit`` moved (then a full refresh is cheaper)."""
    new = conn.execute(
        "SELECT id, direction FROM messages WHERE id > ? ORDER BY id LIMIT ?", (after_message, limit + 1)
    ).fetchall()
    moved = conn.execute(
        "SELECT DISTINCT message_id FROM message_transitions WHERE id > ? LIMIT ?", (after_transition, limit + 1)
    ).fetchall()
    if len(new) > limit or len(moved) > limit:
        return None
    ids = {int(r[0]) for r in new} | {int(r[0]) for r in moved}
    replies = {int(r[0]) for r in new if r[1] == "in"}
    return ids, replies


def new_activity(conn: sqlite3.Connection, after: int, limit: int) -> list[tuple[int, int, str]]:
    """(id, conversation id, kind) of team activity lines after id ``after``, oldest first."""
    rows = conn.execute(
        "SELECT id, conversation_id, kind FROM conversation_activity WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
    ).fetchall()
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


class ChangeRepository:
    """:class:`smsdesk.storage.api.ChangeFeed` over SQLite: this thread's read connection (the
    data version is per connection, so one thread keeps asking the same one)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def version(self) -> int:
        return data_version(self._db.reader())

    def wait(self, timeout: float) -> bool:
        return False  # no notifications on SQLite: the watch polls data_version

    def marks(self) -> Marks:
        return marks(self._db.reader())

    def moved(self, after_message: int, after_transition: int, limit: int) -> tuple[set[int], set[int]] | None:
        return moved_messages(self._db.reader(), after_message, after_transition, limit)

    def activity(self, after: int, limit: int) -> list[tuple[int, int, str]]:
        return new_activity(self._db.reader(), after, limit)

    def presence(self) -> list[tuple[str, int, str]]:
        return []  # one desktop: nobody else to see

    def announce(self, person: str, conversation_id: int, activity: str) -> None:
        return None
