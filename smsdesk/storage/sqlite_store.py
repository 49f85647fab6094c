"""The SQLite store: every repository of :mod:`smsdesk.storage.api` over one database file.

Only the composition root (``runtime.py``) builds it; services receive its repositories,
typed as the protocols of ``storage.api`` (so they see nothing SQLite-specific).

The repositories themselves are shared with the PostgreSQL store
(:class:`smsdesk.storage.repository_set.RepositorySet`); this module adds what is SQLite's
own: opening the file (with its migrations) and its backups.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.storage.db import Database
from smsdesk.storage.repository_set import RepositorySet

if TYPE_CHECKING:
    from smsdesk.storage import api


class SqliteStore(RepositorySet):
    """One open SQLite database and its repositories (an :class:`smsdesk.storage.api.Store`)."""

    db: Database

    @functools.cached_property
    def backup(self) -> api.BackupStore:
        from smsdesk.storage.backup import BackupRepository

        return BackupRepository(self.db.path, self.db)

    @classmethod
    def open(cls, path: Path) -> SqliteStore:
        """Open (creating and migrating) the database at ``path``.

        Raises:
            StorageError: the file is damaged or from a newer smsdesk; nothing was changed.
        """
        return cls(Database(path))

    @staticmethod
    def files(path: Path) -> api.BackupStore:
        """The backup side of the database at ``path`` without opening it (a restore replaces it)."""
        from smsdesk.storage.backup import BackupRepository

        return BackupRepository(path)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()


def _is_a_store(store: SqliteStore) -> api.Store:
    return store  # type-checked: SqliteStore provides every repository of the Store protocol
