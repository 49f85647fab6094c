"""Embedded defaults, written once per database (its first start)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from smsdesk.storage.db import Database, utcnow

if TYPE_CHECKING:
    from smsdesk.storage.records import NewAccount


def first_start(conn: sqlite3.Connection, make_seed: Callable[[], NewAccount]) -> bool:
    """On the first start only: the account ``make_seed()`` gives (unless an account has its
    name), then mark the database started. True when this was the first start.

    ``make_seed`` is called on the first start only: a window's later starts skip what
    building and storing it imports (the accounts service and repository, the providers'
    specs), before the first paint.
    """
    if conn.execute("SELECT 1 FROM kv WHERE key = 'initialized'").fetchone():
        return False
    from smsdesk.storage.accounts import insert_account

    seed = make_seed()
    if not conn.execute("SELECT 1 FROM accounts WHERE name = ?", (seed.name,)).fetchone():
        insert_account(conn, seed.name, seed.provider, seed.base_url, seed.sender, seed.settings)
    conn.execute("INSERT INTO kv (key, value) VALUES ('initialized', ?)", (utcnow(),))
    return True


class SetupRepository:
    """:class:`smsdesk.storage.api.SetupStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def first_start(self, make_seed: Callable[[], NewAccount]) -> bool:
        return self._db.write_sync(lambda c: first_start(c, make_seed))
