"""The PostgreSQL store: every repository of :mod:`smsdesk.storage.api` over a workspace.

The repositories are the SQLite store's own (:class:`RepositorySet`), running on a
:class:`PgDatabase`. Backups are PostgreSQL's business: the backup side refuses and names the
``pg_dump`` command to use.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.domain.errors import StorageError, StoreUnreachable
from smsdesk.storage.pg.database import PgDatabase
from smsdesk.storage.repository_set import RepositorySet

if TYPE_CHECKING:
    from smsdesk.storage import api
    from smsdesk.storage.pg.url import WorkspaceUrl
    from smsdesk.storage.records import BackupFacts


class PostgresStore(RepositorySet):
    """One open workspace database and its repositories (an :class:`smsdesk.storage.api.Store`)."""

    def __init__(self, db: PgDatabase) -> None:
        super().__init__(db)
        self.pg = db

    @classmethod
    def open(
        cls, url: WorkspaceUrl, password: str | None = None, *, wait_if_unreachable: bool = False
    ) -> PostgresStore:
        """Connect to (and bring up to date) the workspace at ``url``. ``wait_if_unreachable``:
        a server that does not answer, or refuses the login, is not an error
        (:attr:`unreachable_at_open` says what happened).

        Raises:
            StorageError: unreachable, a refused login or a newer schema, in plain words.
        """
        return cls(PgDatabase(url, password, wait_if_unreachable=wait_if_unreachable))

    @property
    def unreachable_at_open(self) -> StoreUnreachable | None:
        """Why the workspace could not be used when opened (None when it could)."""
        return self.pg.unreachable_at_open

    @functools.cached_property
    def changes(self) -> api.ChangeFeed:
        from smsdesk.storage.pg.changes import PgChangeRepository

        return PgChangeRepository(self.pg)

    @functools.cached_property
    def relays(self) -> api.RelayStore:
        from smsdesk.storage.pg.lease import PgRelays

        return PgRelays(self.pg)

    @functools.cached_property
    def backup(self) -> api.BackupStore:
        return NoFileBackups(self.pg.url)

    @property
    def path(self) -> str:
        return self.pg.path

    def close(self) -> None:
        self.pg.close()


class NoFileBackups:
    """The backup side of a workspace: copies are made with PostgreSQL's own tools."""

    def __init__(self, url: WorkspaceUrl) -> None:
        self._url = url

    def _refuse(self) -> StorageError:
        u = self._url
        return StorageError(
            "This desktop uses a team workspace on PostgreSQL; its backups are made on the database "
            f"server with PostgreSQL's own tool, for example: pg_dump --format=custom --host={u.host or 'localhost'} "
            f"--port={u.port} --username={u.user or 'OWNER'} --file=smsdesk.dump {u.database}"
        )

    def write_backup(self, dest: Path) -> BackupFacts:
        raise self._refuse()

    def inspect(self, path: Path, full: bool = True) -> BackupFacts:
        raise self._refuse()

    def others_open(self, dead_after_s: float) -> list[str]:
        return []

    def stage(self, backup: Path, staged: Path) -> None:
        raise self._refuse()

    def put_in_place(self, staged: Path, aside: Path) -> Path | None:
        raise self._refuse()

    def note_after_restore(self, key: str, value: str) -> None:
        raise self._refuse()

    def note(self, key: str) -> str | None:
        return None

    async def swap_note(self, key: str, old: str | None, new: str) -> bool:
        return False


def _is_a_store(store: PostgresStore) -> api.Store:
    return store  # type-checked: PostgresStore provides every repository of the Store protocol
