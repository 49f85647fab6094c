"""Copies of the database: an online backup, checking a backup file, putting one in place.

Never a file copy of the live database: in WAL mode committed data may still be only in the
``-wal`` file, and a file copied while a transaction commits is torn. SQLite's online backup
API copies a consistent snapshot through one read transaction while other connections go on
writing. A backup is one self-contained file (rollback journal, not WAL), readable only by
its owner (0600), written under a temporary name and renamed once complete and checked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from smsdesk.domain.errors import StorageError
from smsdesk.storage import processes
from smsdesk.storage.db import Database
from smsdesk.storage.migrations import LATEST_VERSION
from smsdesk.storage.records import BackupFacts as BackupFacts  # the name callers know

TAKEN_KEY = "backup:taken_at"  # in the copy only: when it was taken
_NEEDED_TABLES = {"messages", "accounts", "kv"}


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (no moment where others may read it)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a partial file left by an interrupted attempt
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):  # directories cannot be opened on Windows
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_into(src: sqlite3.Connection, dest: Path, stamp: bool) -> None:
    """Online-copy ``src`` into the new private file ``dest``: one file, checked, on disk."""
    _private_file(dest)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # pages=-1: one step, so one read transaction and one consistent snapshot
        dst.execute("PRAGMA journal_mode = DELETE")  # self-contained: no -wal beside it
        processes.forget_all(dst)
        if stamp:
            dst.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (TAKEN_KEY, datetime.now(UTC).isoformat(timespec="seconds")),
            )
        dst.commit()
        ok = dst.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise StorageError(f"The copy failed its check ({ok}); nothing was kept.")
        dst.execute("PRAGMA synchronous = FULL")
    finally:
        dst.close()
    _fsync(dest)


def _open_live(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def write_backup(database: Path, dest: Path) -> BackupFacts:
    """Back up the (possibly live) database at ``database`` into the new file ``dest``.

    Raises:
        StorageError: ``dest`` exists, its folder cannot be written, or the copy failed.
    """
    if dest.exists():
        raise StorageError(f"{dest} already exists; choose another name (nothing was written).")
    partial = dest.with_name(dest.name + ".partial")
    try:
        src = _open_live(database)
        try:
            _copy_into(src, partial, stamp=True)
        finally:
            src.close()
        os.replace(partial, dest)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise StorageError(f"The backup could not be written to {dest}: {exc}.") from exc
    _fsync(dest.parent)
    return inspect(dest)


def _uri(path: Path) -> str:
    wal = path.with_name(path.name + "-wal").exists()
    # Nobody writes a backup file: ``immutable`` leaves no -wal/-shm beside it (and needs no
    # write access to its folder, say a read-only stick); a file with a -wal is read with it.
    return path.resolve().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1")


def inspect(path: Path, full: bool = True) -> BackupFacts:
    """Check a backup file and say what it holds; ``full``: SQLite's whole integrity check.

    Raises:
        StorageError: no such file, not an smsdesk database, damaged, or from a newer smsdesk.
            Each message says that nothing was changed.
    """
    if not path.is_file():
        raise StorageError(f"There is no file {path}. Nothing was changed.")
    try:
        conn = sqlite3.connect(_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise StorageError(f"{path} cannot be opened ({exc}). Nothing was changed.") from exc
    try:
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path} is damaged or is not an smsdesk backup ({exc}). Nothing was changed.") from exc
        if version == 0 or not tables >= _NEEDED_TABLES:
            raise StorageError(f"{path} is not an smsdesk backup (it holds no smsdesk data). Nothing was changed.")
        if version > LATEST_VERSION:
            raise StorageError(
                f"{path} was made by a newer smsdesk (data version {version}; this smsdesk reads up to "
                f"{LATEST_VERSION}). Update smsdesk, then restore it. Nothing was changed."
            )
        try:
            found = [r[0] for r in conn.execute("PRAGMA integrity_check(5)" if full else "PRAGMA quick_check(5)")]
            messages = int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
            accounts = [
                (str(r[0]), str(r[1])) for r in conn.execute("SELECT name, provider FROM accounts ORDER BY name")
            ]
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (TAKEN_KEY,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path} is damaged ({exc}). Nothing was changed. Try an older backup.") from exc
        if found != ["ok"]:
            raise StorageError(
                f"{path} is damaged (SQLite's check found: {'; '.join(found)[:300]}). Nothing was changed. "
                "Try an older backup."
            )
    finally:
        conn.close()
    return BackupFacts(path, version, messages, accounts, str(row[0]) if row else "", path.stat().st_size)


def others_open(database: Path, dead_after_s: float) -> list[str]:
    """Other smsdesk processes that have ``database`` open (see ``storage/processes.py``)."""
    if not database.exists():
        return []
    conn = _open_live(database)
    try:
        return processes.others(conn, dead_after_s)
    except sqlite3.DatabaseError:
        return []  # a damaged current database has nobody on it worth waiting for
    finally:
        conn.close()


def stage(backup: Path, staged: Path) -> None:
    """Copy a checked backup to ``staged`` (next to the database), ready to be put in place."""
    try:
        src = sqlite3.connect(_uri(backup), uri=True)
        try:
            _copy_into(src, staged, stamp=False)
        finally:
            src.close()
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise StorageError(f"The backup could not be copied into the data folder: {exc}. Nothing was changed.") from exc


def put_in_place(database: Path, staged: Path, aside: Path) -> Path | None:
    """Replace ``database`` with ``staged``; the replaced database is kept as ``aside``.

    Call only when no other process has the database open. The current database is first
    checkpointed (everything committed moves from its -wal into the file) and kept aside, then
    the staged copy takes its name in one rename: whatever happens, a whole database has the
    name. Returns ``aside``, or None when there was no database.
    """
    kept: Path | None = None
    if database.exists():
        try:
            conn = _open_live(database)
            try:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            busy = 0  # a damaged database: kept aside as it is
        if busy:
            raise StorageError("Another program is using the database; nothing was changed. Close it and try again.")
        aside.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.link(database, aside)
        except OSError:  # no hard links here (a FAT stick): the closed, checkpointed file copies safely
            shutil.copyfile(database, aside)
        with contextlib.suppress(OSError):
            os.chmod(aside, 0o600)
        kept = aside
        for extra in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                database.with_name(database.name + extra).unlink()
    try:
        os.replace(staged, database)
    except PermissionError as exc:  # Windows: another program holds the file open
        raise StorageError(
            f"Another program has {database} open; nothing was changed. Close it and try again."
        ) from exc
    _fsync(database.parent)
    return kept


# ---- notes about backups, kept in the database (kv) ------------------------------------------
def read_note(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def write_note(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def swap_note(conn: sqlite3.Connection, key: str, old: str | None, new: str) -> bool:
    """Set ``key`` to ``new`` only if it is still ``old`` (None: absent); True if this call did.

    Two processes on one database finding the daily backup due: exactly one makes it.
    """
    if old is None:
        cur = conn.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, new))
    else:
        cur = conn.execute("UPDATE kv SET value = ? WHERE key = ? AND value = ?", (new, key, old))
    return cur.rowcount == 1


class BackupRepository:
    """:class:`smsdesk.storage.api.BackupStore` for the database file at ``database``.

    ``db``: the open database (for the notes); None before it is opened, when a restore puts
    a backup in its place.
    """

    def __init__(self, database: Path, db: Database | None = None) -> None:
        self._database = Path(database)
        self._db = db

    def _open(self) -> Database:
        if self._db is None:
            raise StorageError("The database is not open.")
        return self._db

    def write_backup(self, dest: Path) -> BackupFacts:
        return write_backup(self._database, dest)

    def inspect(self, path: Path, full: bool = True) -> BackupFacts:
        return inspect(path, full)

    def others_open(self, dead_after_s: float) -> list[str]:
        return others_open(self._database, dead_after_s)

    def stage(self, backup: Path, staged: Path) -> None:
        stage(backup, staged)

    def put_in_place(self, staged: Path, aside: Path) -> Path | None:
        return put_in_place(self._database, staged, aside)

    def note_after_restore(self, key: str, value: str) -> None:
        db = Database(self._database)  # also brings an older backup's schema up to date
        try:
            db.write_sync(lambda c: write_note(c, key, value))
        finally:
            db.close()

    def note(self, key: str) -> str | None:
        return read_note(self._open().reader(), key)

    async def swap_note(self, key: str, old: str | None, new: str) -> bool:
        return await self._open().write(lambda c: swap_note(c, key, old, new))
