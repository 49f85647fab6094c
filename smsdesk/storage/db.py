"""The database handle: migrations, a single writer thread with group commit, per-thread readers.

Why a writer thread: with ``synchronous=FULL`` every commit is an fsync. Doing that on the
GUI thread stalls the window; doing it once per row caps throughput near 4.5k rows/s (in one
transaction: ~210k rows/s). All writes go through :meth:`Database.write`: jobs queue up, the
writer runs whatever is waiting in one transaction (each job in its own SAVEPOINT, so one
failing job does not undo its neighbours), commits once, and only then resolves each job's
future. "Committed" therefore always means on disk, and a burst costs one fsync. The results
of one batch reach each event loop in one wake-up (the send path writes twice per message).

Reads use one connection per thread (WAL readers never block the writer).

The writer runs below the other threads' priority (on Linux, where a thread has a nice value
of its own): when the CPUs are busy, the event loop, which keeps the window painting and the
sends moving, runs first. The writer mostly waits for the disk and needs little CPU; given it
as readily as the event loop, it took the CPU from the loop (or from a local provider) in
the middle of a send, and a 10,000-message send took 2-3% longer.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from smsdesk.domain.errors import StorageError
from smsdesk.storage.migrations import INDEX_STEPS, INDEX_TODO, LATEST_VERSION, MIGRATIONS

if TYPE_CHECKING:  # the event loop comes after the window's first paint, which opens the database
    import asyncio

log = logging.getLogger(__name__)
WRITER_NICE = 10  # added to the writer thread's nice value (see the module's doc)
T = TypeVar("T")
_MAX_BATCH = 512


def utcnow() -> str:
    """Now, UTC, as fixed-width ISO-8601 text (sorts as time)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")


def _damaged(path: Path, exc: sqlite3.DatabaseError) -> StorageError:
    return StorageError(
        f"The database {path} is damaged or is not an smsdesk database ({exc}). "
        "Nothing was changed. Restore a backup, or start with another --home."
    )


def _connect(path: Path) -> sqlite3.Connection:
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        _configure(conn)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()  # leave no handle (or Windows lock) on a file we refuse
        # A truncated or foreign file already fails here (the pragmas read the header).
        if getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise _damaged(path, exc) from exc
        raise StorageError(f"Cannot open the database {path}: {exc}.") from exc
    return conn


def _create_private(path: Path) -> None:
    """Create a missing database file empty and ``0600`` (SQLite takes an empty file as a new
    database). SQLite itself would create it ``0644`` less the umask, and gives its -wal and -shm
    files the database file's mode, so this one mode keeps all three private."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)  # exactly, whatever the umask took off
    except OSError as exc:  # a file system without modes (a stick formatted FAT)
        log.info("could not make %s private: %s", path, exc)
    finally:
        os.close(fd)


def _inspect(path: Path) -> int:
    """The schema version of an existing file, refusing a damaged or newer one untouched.

    Read-only on purpose: closing the last read-write connection checkpoints a leftover WAL
    (say, from a newer smsdesk that crashed) into the file, which would break "nothing was
    changed". A read-only connection reads the WAL but never writes the database or the WAL.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0
    # Without a WAL beside it nobody is writing the file: ``immutable`` then also spares us
    # the -wal/-shm files a read-only open of a WAL database would leave behind.
    wal = path.with_name(path.name + "-wal").exists()
    query = "?mode=ro" if wal else "?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + query, uri=True, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"Cannot open the database {path}: {exc}.") from exc
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise _damaged(path, exc) from exc
        raise StorageError(f"Cannot read the database {path}: {exc}.") from exc
    finally:
        conn.close()
    if version > LATEST_VERSION:
        raise StorageError(
            f"The database {path} was written by a newer smsdesk (schema {version}, this "
            f"version knows {LATEST_VERSION}). Nothing was changed. Update smsdesk."
        )
    return version


def _check_and_migrate(path: Path) -> None:
    _inspect(path)
    conn = _connect(path)
    try:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, exc) from exc
        if version > LATEST_VERSION:  # written in between by a newer smsdesk
            raise StorageError(
                f"The database {path} was written by a newer smsdesk (schema {version}, this "
                f"version knows {LATEST_VERSION}). Update smsdesk."
            )
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode (%s); continuing in %s mode", path, mode)
        for target in range(version + 1, LATEST_VERSION + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            log.info("database migrated to schema %d", target)
        # Rows written without Database (a raw-SQL generator, a copy made mid-transaction) may
        # still wait to be indexed: index them now so search sees them (checked read-only first).
        if conn.execute(
            "SELECT EXISTS (SELECT 1 FROM message_fts_todo) OR EXISTS (SELECT 1 FROM conversation_fts_todo)"
            " OR EXISTS (SELECT 1 FROM contact_fts_todo)"
        ).fetchone()[0]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _index_pending(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    finally:
        conn.close()


def _index_pending(conn: sqlite3.Connection) -> None:
    """Index the rows the search triggers queued in this transaction (migrations V7).

    One look at the three to-do tables first: most transactions (claims, receipts, results)
    note nothing, and running the seven statements anyway cost each of them seven more round
    trips to the GIL, which the busy event loop makes slow (a fifth of the writer's time
    during a 10,000-message send).
    """
    todo = conn.execute(INDEX_TODO).fetchone()
    for statement, table in INDEX_STEPS:
        if todo[table]:
            conn.execute(statement)


def _lower_this_thread(nice: int) -> None:
    """Lower the calling thread's CPU priority, where threads have one of their own (Linux:
    ``setpriority`` on a thread id; elsewhere the same call could name a process)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + nice)


def take_batch(jobs: queue.SimpleQueue[Any], most: int = _MAX_BATCH) -> list[Any] | None:
    """The next group commit: wait for one job, then take whatever else is waiting (up to
    ``most``); None once :meth:`Database.close` queued its end mark (left for the next call)."""
    job = jobs.get()
    if job is None:
        jobs.put(None)
        return None
    batch = [job]
    while len(batch) < most:
        try:
            nxt = jobs.get_nowait()
        except queue.Empty:
            break
        if nxt is None:
            jobs.put(None)
            break
        batch.append(nxt)
    return batch


class _Job:
    """A write from a thread (:meth:`Database.submit`): its result goes to a concurrent future."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        self.fn = fn
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def start(self) -> bool:
        """False when the caller gave up before the job ran (it is skipped)."""
        return self.future.set_running_or_notify_cancel()

    def fail_all(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class _LoopJob:
    """A write awaited on an event loop (:meth:`Database.write`).

    Its result is handed to the loop together with every other result of the same batch for
    that loop: one ``call_soon_threadsafe`` (one wake-up of the loop) per batch, where a
    concurrent future per job cost a wake-up, a callback and a self-pipe write each.
    """

    __slots__ = ("fn", "future", "loop")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], loop: asyncio.AbstractEventLoop) -> None:
        self.fn = fn
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()

    def start(self) -> bool:
        # Read from the writer thread: a cancelled future stays cancelled, so skipping it is
        # safe; one cancelled just after this check simply drops its result (as before).
        return not self.future.cancelled()

    def fail_all(self, exc: BaseException) -> None:
        _deliver_soon(self.loop, [(self.future, False, exc)])


def _deliver(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    """On the loop: resolve each future of a committed batch (unless its caller gave up)."""
    for future, ok, value in outcomes:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _deliver_soon(loop: asyncio.AbstractEventLoop, outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
        loop.call_soon_threadsafe(_deliver, outcomes)


class Database:
    """An open smsdesk database. Safe to share between threads and event loops."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        _check_and_migrate(self.path)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | _LoopJob | None] = queue.SimpleQueue()
        self._closed = False
        self._writer_conn = _connect(self.path)
        self._writer = threading.Thread(target=self._run_writer, name="smsdesk-db-writer", daemon=True)
        self._writer.start()

    # ---- reads -------------------------------------------------------------------------
    def reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.reader().execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.reader().execute(sql, params).fetchone()
        return row

    # ---- writes ------------------------------------------------------------------------
    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn(conn)`` to run inside a write transaction; the future resolves after COMMIT."""
        if self._closed:
            raise StorageError("The database is closed.")
        job = _Job(fn)
        self._jobs.put(job)
        return job.future

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in a write transaction from any event loop; returns after COMMIT."""
        if self._closed:
            raise StorageError("The database is closed.")
        import asyncio

        job = _LoopJob(fn, asyncio.get_running_loop())
        self._jobs.put(job)
        result: T = await job.future
        return result

    def write_sync(self, fn: Callable[[sqlite3.Connection], T], timeout: float | None = 60) -> T:
        """Blocking :meth:`write` for synchronous callers (CLI set-up, tests, worker threads)."""
        return self.submit(fn).result(timeout)

    def _run_writer(self) -> None:
        _lower_this_thread(WRITER_NICE)
        conn = self._writer_conn
        while (batch := take_batch(self._jobs)) is not None:
            self._run_batch(conn, batch)
        conn.close()

    @staticmethod
    def _run_batch(conn: sqlite3.Connection, batch: list[_Job | _LoopJob]) -> None:
        # A job whose caller gave up (cancelled future) before it ran is skipped.
        batch = [job for job in batch if job.start()]
        if not batch:
            return
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    result = job.fn(conn)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((True, result))
            # One statement for the whole batch: indexed row by row from the triggers, FTS5
            # wrote a segment per row (migrations V7). Before COMMIT, so committed is indexed.
            _index_pending(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            err = StorageError(f"Could not save to the database: {exc}.")
            for job in batch:
                job.fail_all(err)
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if isinstance(job, _LoopJob):
                by_loop.setdefault(job.loop, []).append((job.future, ok, value))
            elif ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
        for loop, results in by_loop.items():
            _deliver_soon(loop, results)

    def close(self) -> None:
        """Finish queued writes, then close every connection."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._writer.join(timeout=30)
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
