"""What the polling service needs from the database: open sends and its per-account cursors.

Cursors live in ``kv`` (``poll:inbound:<account id>``) so a restart, or ``smsdesk serve``
taking over from the GUI, continues where the last poll stopped instead of re-reading days.
"""

from __future__ import annotations

import sqlite3

from smsdesk.storage.db import Database
from smsdesk.storage.migrations import OPEN_CONDITION
from smsdesk.storage.records import OpenSend

# Statuses a provider may still settle. ``needs_review`` is included: a poll is exactly how an
# ambiguous send gets settled without a person.
OPEN_STATUSES = ("sent", "unknown", "needs_review")


def cursor_key(account_id: int, kind: str = "inbound") -> str:
    return f"poll:{kind}:{account_id}"


def set_cursor(conn: sqlite3.Connection, account_id: int, value: str, kind: str = "inbound") -> None:
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (cursor_key(account_id, kind), value),
    )


class PollRepository:
    """:class:`smsdesk.storage.api.PollStore` over SQLite (reads on any thread; WAL readers
    never block the writer)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def open_sends(self, account_id: int, created_after: str, limit: int = 5000) -> list[OpenSend]:
        """Outgoing messages with a provider id whose status is not final yet, oldest first."""
        # The condition word for word as in the partial index messages_open (migration V14).
        rows = self._db.query(
            f"""SELECT id, provider_message_id, status FROM messages
               WHERE account_id = ? AND direction = 'out' AND {OPEN_CONDITION}
                 AND provider_message_id IS NOT NULL AND provider_message_id != ''
                 AND created_at > ?
               ORDER BY id LIMIT ?""",
            (account_id, created_after, limit),
        )
        return [OpenSend(*r) for r in rows]

    def cursor(self, account_id: int, kind: str = "inbound") -> str | None:
        row = self._db.query_one("SELECT value FROM kv WHERE key = ?", (cursor_key(account_id, kind),))
        return str(row["value"]) if row else None

    async def set_cursor(self, account_id: int, value: str, kind: str = "inbound") -> None:
        await self._db.write(lambda c: set_cursor(c, account_id, value, kind))
