"""Which store this process uses: the data folder's own SQLite file, or a team workspace.

A workspace is a PostgreSQL database several desktops and relays share (``storage/pg``). The
choice, first that applies: ``--database URL`` for one run, ``SMSDESK_DATABASE_URL``, the
workspace this desktop joined (Settings, ``workspace`` key), else the local SQLite file,
which joining never touches (leaving returns to it as it was).

The URL never holds a password. The password comes from ``--password-stdin`` or
``SMSDESK_SECRET_DATABASE_PASSWORD`` and is kept in the system keyring, one per login,
server and database (``WorkspaceUrl.keyring_key``).

Like ``runtime.py`` this is a composition root: it builds stores; services never see which.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.domain.errors import InvalidInput, SecretStoreUnavailable, StorageError

if TYPE_CHECKING:
    from smsdesk.config.secrets import SecretStore
    from smsdesk.config.settings import Settings, SettingsFile
    from smsdesk.storage.pg.admin import WorkspaceFacts
    from smsdesk.storage.pg.database import PgConnection
    from smsdesk.storage.pg.store import PostgresStore
    from smsdesk.storage.pg.url import WorkspaceUrl

URL_ENV = "SMSDESK_DATABASE_URL"
PASSWORD_ENV = "SMSDESK_SECRET_DATABASE_PASSWORD"


def chosen(explicit: str | None, settings: Settings) -> str:
    """The workspace URL this run uses ("": the local SQLite file)."""
    return (explicit or os.environ.get(URL_ENV) or settings.workspace or "").strip()


def parse(text: str) -> WorkspaceUrl:
    from smsdesk.storage.pg.url import WorkspaceUrl

    return WorkspaceUrl.parse(text)


def password_for(url: WorkspaceUrl, secrets: SecretStore, given: str | None = None) -> str | None:
    """The password for ``url``: given now, else the environment, else the keyring (None: the
    server may not ask for one, as with a local socket)."""
    if given:
        return given
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    try:
        return secrets.get(url.keyring_key())
    except SecretStoreUnavailable:
        return None  # no keyring here: the server may still let this login in (a local socket)


def open_store(text: str, secrets: SecretStore, *, wait_if_unreachable: bool = False) -> PostgresStore:
    """Connect to the workspace at ``text`` (bringing its schema up to date);
    ``wait_if_unreachable``: see :meth:`PostgresStore.open`.

    Raises:
        StorageError: a URL with a password, an unreachable server, a refused login.
    """
    from smsdesk.storage.pg.store import PostgresStore

    url = parse(text)
    return PostgresStore.open(url, password_for(url, secrets), wait_if_unreachable=wait_if_unreachable)


@dataclass(frozen=True, slots=True)
class Joined:
    url: WorkspaceUrl
    facts: WorkspaceFacts


@contextlib.contextmanager
def _connection(text: str, secrets: SecretStore, password: str | None) -> Iterator[tuple[WorkspaceUrl, PgConnection]]:
    """A connection of its own for setting the workspace up (closed afterwards)."""
    from smsdesk.storage.pg.database import connect

    url = parse(text)
    conn = connect(url, password_for(url, secrets, password))
    try:
        yield url, conn
    finally:
        conn.close()


def create(text: str, secrets: SecretStore, password: str | None = None) -> Joined:
    """Set up the workspace at ``text`` with the owner's login: schema, roles, grants."""
    from smsdesk.storage.pg import admin

    with _connection(text, secrets, password) as (url, conn):
        admin.create_workspace(conn)
        return Joined(url, admin.facts(conn))


def join(text: str, secrets: SecretStore, settings_file: SettingsFile, password: str | None = None) -> Joined:
    """Use the workspace at ``text`` from now on: check the login and the schema, keep the
    password in the keyring and the URL in Settings. The local database is left as it is."""
    from smsdesk.storage.pg import admin

    with _connection(text, secrets, password) as (url, conn):
        found = admin.facts(conn)
    if found.schema == 0:
        raise StorageError(
            f"{url.display()} is not an smsdesk workspace yet: its owner runs 'smsdesk workspace create'."
        )
    if password:
        secrets.set(url.keyring_key(), password)
    settings_file.keep("workspace", url.text)
    settings_file.keep("demo_mode", False)  # the sandbox belongs to one desktop on its own
    return Joined(url, found)


def show(text: str, secrets: SecretStore) -> Joined:
    from smsdesk.storage.pg import admin

    with _connection(text, secrets, None) as (url, conn):
        return Joined(url, admin.facts(conn))


def leave(secrets: SecretStore, settings_file: SettingsFile) -> str:
    """Back to this folder's own SQLite database; returns the URL left ("": none was joined)."""
    text = settings_file.settings.workspace
    if not text:
        return ""
    secrets.delete(parse(text).keyring_key())
    settings_file.keep("workspace", "")
    return text


def add_user(text: str, secrets: SecretStore, name: str, user_password: str, relay: bool = False) -> None:
    from smsdesk.storage.pg import admin

    if not user_password:
        raise InvalidInput("A new login needs a password (give it on standard input).")
    with _connection(text, secrets, None) as (_url, conn):
        admin.add_user(conn, name, user_password, relay)


def limit_bulk_sends(text: str, secrets: SecretStore, owners_only: bool) -> None:
    """Whether staff may start bulk sends, or only the owner (the database's grants)."""
    from smsdesk.storage.pg import admin

    with _connection(text, secrets, None) as (_url, conn):
        admin.limit_bulk_sends(conn, owners_only)


def limit_exports(text: str, secrets: SecretStore, owners_only: bool) -> None:
    """Whether staff may export the address book, or only the owner (the database's grants)."""
    from smsdesk.storage.pg import admin

    with _connection(text, secrets, None) as (_url, conn):
        admin.limit_exports(conn, owners_only)


def remove_user(text: str, secrets: SecretStore, name: str) -> int:
    from smsdesk.storage.pg import admin

    with _connection(text, secrets, None) as (_url, conn):
        return admin.remove_user(conn, name)


def copy_in(
    text: str,
    secrets: SecretStore,
    source: Path,
    password: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy the single-desktop database at ``source`` into the new workspace at ``text`` (set
    up first if need be, with the owner's login); returns rows per table, proved equal."""
    from smsdesk.storage.pg import admin
    from smsdesk.storage.pg.copy import copy_from_sqlite

    with _connection(text, secrets, password) as (_url, conn):
        admin.create_workspace(conn)
        return copy_from_sqlite(source, conn, progress)


@dataclass(frozen=True, slots=True)
class WorkspaceState:
    """What Settings -> Workspace shows: the workspace in use ("" address: this computer's own
    database), as whom, and who else is in it (empty when it could not be asked)."""

    address: str  # the URL as written (never a password), or ""
    place: str  # "smsdesk on db.example.com:5432", or the local database file
    user: str = ""
    people: tuple[str, ...] = ()
    relays: tuple[str, ...] = ()
    for_this_run: bool = False  # chosen by --database or SMSDESK_DATABASE_URL, not by joining
    problem: str = ""  # why the workspace could not be asked, in plain words


class WorkspaceChoice:
    """Settings -> Workspace: join a workspace or leave it (both take effect at the next start).

    Built by the composition root with this process's secrets and settings; Qt-free and
    blocking (the window calls it in a worker thread).
    """

    def __init__(self, secrets: SecretStore, settings_file: SettingsFile, in_use: str, local: Path) -> None:
        self._secrets = secrets
        self._file = settings_file
        self._in_use = in_use  # the URL this run uses ("": the local file)
        self._local = local

    def state(self) -> WorkspaceState:
        """The store this run uses, asking the workspace who is in it (blocking)."""
        if not self._in_use:
            return WorkspaceState("", str(self._local))
        url = parse(self._in_use)
        for_run = self._in_use != self._file.settings.workspace
        try:
            facts = show(self._in_use, self._secrets).facts
        except (StorageError, SecretStoreUnavailable) as exc:
            return WorkspaceState(self._in_use, url.display(), url.user, for_this_run=for_run, problem=str(exc))
        return WorkspaceState(
            self._in_use, url.display(), facts.user, tuple(facts.people), tuple(facts.relays), for_this_run=for_run
        )

    def join(self, text: str, password: str) -> WorkspaceState:
        """Check the login and keep the workspace for the next start (blocking).

        Raises:
            InvalidInput: an address that is not a workspace's (or holds the password).
            StorageError: the server is unreachable, refused the login, or is not set up.
        """
        joined = join(text.strip(), self._secrets, self._file, password or None)
        facts = joined.facts
        return WorkspaceState(
            joined.url.text, joined.url.display(), facts.user, tuple(facts.people), tuple(facts.relays)
        )

    def leave(self) -> str:
        """Use this computer's own database from the next start; returns the address left."""
        return leave(self._secrets, self._file)
