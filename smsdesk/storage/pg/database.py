"""The PostgreSQL handle of a team workspace: the same surface as the SQLite ``Database``.

The repositories take a database with ``reader()``/``query()`` for reads and
``write()``/``submit()``/``write_sync()`` for writes, and run their statements on a
connection's ``execute``. :class:`PgDatabase` offers exactly that over psycopg 3's
synchronous API, so the repositories run unchanged on either store:

- **Writes** go through one writer thread with group commit, as on SQLite: the jobs waiting
  run in one transaction, each in its own ``SAVEPOINT``, and each job's result is handed over
  only after ``COMMIT``. PostgreSQL keeps the ids of up to 64 subtransactions per session in
  shared memory; past that every session slows down. So a transaction counts its savepoints
  (nested ones included) and commits before the 64th (:data:`MAX_SAVEPOINTS`).
- **Reads** use one autocommit connection per thread: each statement sees everything
  committed before it started (READ COMMITTED).
- **Statements** are rewritten once each for PostgreSQL (``dialect.translate``), rows read by
  name or position like ``sqlite3.Row``, and a broken unique key raises
  ``sqlite3.IntegrityError`` so a repository catches the same error on both stores.
- **A lost server** fails the writes waiting with a plain :class:`StorageError`; the next
  write or read connects again.

Every connection sets TCP keepalives, so a dead network is noticed in seconds rather than
hours, and names itself ``smsdesk`` in ``pg_stat_activity``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import adapt, pq
from psycopg.rows import tuple_row

from smsdesk.domain.errors import LoginRefused, StorageError, StoreUnreachable
from smsdesk.storage.db import take_batch
from smsdesk.storage.pg import schema
from smsdesk.storage.pg.dialect import Row, row_class, translate

if TYPE_CHECKING:
    import asyncio

    from smsdesk.storage.pg.url import WorkspaceUrl

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Savepoints one transaction may open (PostgreSQL caches 64 subtransactions per session).
MAX_SAVEPOINTS = 64
KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}


class _BoolAsInteger(adapt.Dumper):
    """Python ``True``/``False`` as an untyped ``1``/``0``, as SQLite takes them: the server reads
    it as an integer for the schema's 0/1 columns and as a boolean in a condition."""

    oid = 0  # unknown: the server picks the type from where the value goes

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


def _rows(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    names = tuple(c.name for c in cursor.description or ())
    return row_class(names)


class PgCursor:
    """The part of ``sqlite3.Cursor`` the repositories use."""

    __slots__ = ("_cur", "lastrowid")

    def __init__(self, cur: psycopg.Cursor[Any], lastrowid: int | None) -> None:
        self._cur = cur
        self.lastrowid = lastrowid

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur.description else []

    def fetchmany(self, size: int) -> list[Any]:
        return self._cur.fetchmany(size) if self._cur.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgPlainCursor:
    """``conn.cursor()``: a cursor whose rows are plain tuples (for reads of many rows)."""

    row_factory: Any = None  # set to None by callers, as on SQLite: rows are plain tuples here anyway

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self._cur = raw.cursor(row_factory=tuple_row)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> PgPlainCursor:
        self._cur.execute(translate(sql)[0], params or None)
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    def fetchmany(self, size: int) -> list[Any]:
        return self._cur.fetchmany(size)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cur)


class ConnectionLost(StoreUnreachable):
    """The server went away under a statement (a restart, a cut network): said in plain words.
    Everything that reads or writes through storage sees a :class:`StorageError`, never a
    driver's exception; the connection is broken and is opened again on next use."""


class NotAllowed(StorageError):
    """The database's grants refuse this login the change (accounts are the owner's, and
    perhaps bulk sends): said in plain words."""

    def __init__(self, exc: BaseException) -> None:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "permission denied"
        super().__init__(f"Only the workspace's owner may do this ({detail}). Ask them, or use the owner's login.")


class PgConnection:
    """The part of ``sqlite3.Connection`` the repositories use, over one psycopg connection."""

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any], explain: Callable[[BaseException], str] | None = None) -> None:
        self.raw = raw
        self.savepoints = 0  # opened in the current transaction (nested ones too)
        self._explain = explain or (lambda exc: f"The database connection was lost ({exc}).")

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> PgCursor:
        text, returns_id = translate(sql)
        if text.lstrip()[:9].upper() == "SAVEPOINT":
            self.savepoints += 1
        cur = self.raw.cursor()
        try:
            cur.execute(text, params or None)
        except psycopg.errors.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc).strip()) from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            raise NotAllowed(exc) from exc
        except psycopg.OperationalError as exc:
            raise ConnectionLost(self._explain(exc)) from exc
        lastrowid = None
        if returns_id:
            first = cur.fetchone()
            lastrowid = int(first[0]) if first is not None else None
        return PgCursor(cur, lastrowid)

    def cursor(self) -> PgPlainCursor:
        return PgPlainCursor(self.raw)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]] | Any) -> PgCursor:
        text, returns_id = translate(sql)
        if returns_id:
            text = text[: -len(" RETURNING id")]
        cur = self.raw.cursor()
        try:
            cur.executemany(text, list(rows))
        except psycopg.errors.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc).strip()) from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            raise NotAllowed(exc) from exc
        except psycopg.OperationalError as exc:
            raise ConnectionLost(self._explain(exc)) from exc
        return PgCursor(cur, None)

    def close(self) -> None:
        self.raw.close()


def connect(url: WorkspaceUrl, password: str | None = None, *, read_only: bool = False) -> PgConnection:
    """A connection to the workspace (autocommit: the writer opens its own transactions),
    ready for the repositories' statements; ``read_only`` refuses every write on it.

    Raises:
        StorageError: the server cannot be reached or refused the login (said in plain words).
    """
    try:
        raw = psycopg.connect(
            url.conninfo(),
            password=password,
            autocommit=True,
            row_factory=_rows,
            options="-c default_transaction_read_only=on" if read_only else None,
            application_name="smsdesk",
            connect_timeout=10,
            **KEEPALIVES,
        )
    except psycopg.OperationalError as exc:
        if url.refused(exc):
            raise LoginRefused(url.explain(exc)) from exc
        raise StoreUnreachable(url.explain(exc)) from exc
    raw.adapters.register_dumper(bool, _BoolAsInteger)
    return PgConnection(raw, url.explain)


def migrate(conn: PgConnection) -> int:
    """Bring the workspace's schema to the latest version; returns the version found.

    Raises:
        StorageError: the workspace was made by a newer smsdesk (nothing is changed).
    """
    raw = conn.raw
    found = 0
    if raw.execute("SELECT to_regclass('schema_version')").fetchone() != (None,):
        found = int(raw.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])  # type: ignore[index]
    if found > schema.LATEST_VERSION:
        raise StorageError(
            f"This workspace was set up by a newer smsdesk (schema {found}, this version knows "
            f"{schema.LATEST_VERSION}). Nothing was changed. Update smsdesk."
        )
    if found == schema.LATEST_VERSION:
        return found  # nothing to create: a staff login may not create tables, and need not
    try:
        _apply(raw, found)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StorageError(
            f"This workspace needs setting up or updating to schema {schema.LATEST_VERSION} (it has "
            f"{found}), which only its owner may do: the owner runs 'smsdesk workspace create URL'."
        ) from exc
    return found


def _apply(raw: psycopg.Connection[Any], found: int) -> None:
    with raw.transaction():
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (schema.MIGRATION_LOCK,))
        raw.execute(schema.SCHEMA_VERSION_TABLE)
    for target in range(found + 1, schema.LATEST_VERSION + 1):
        with raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (schema.MIGRATION_LOCK,))
            if raw.execute("SELECT 1 FROM schema_version WHERE version = %s", (target,)).fetchone():
                continue  # another desktop did it while we waited for the lock
            for statement in schema.MIGRATIONS[target]:
                raw.execute(statement)
            raw.execute("INSERT INTO schema_version (version) VALUES (%s)", (target,))
        log.info("workspace migrated to schema %d", target)


class _Job:
    __slots__ = ("fn", "future", "loop")

    def __init__(self, fn: Callable[[Any], Any], loop: asyncio.AbstractEventLoop | None) -> None:
        self.fn = fn
        self.loop = loop
        self.future: Any = loop.create_future() if loop is not None else concurrent.futures.Future()

    def start(self) -> bool:
        if self.loop is not None:
            return not self.future.cancelled()
        return bool(self.future.set_running_or_notify_cancel())

    def settle(self, ok: bool, value: Any) -> None:
        if self.loop is None:
            if ok:
                self.future.set_result(value)
            else:
                self.future.set_exception(value)
            return
        with contextlib.suppress(RuntimeError):  # that loop closed: nobody waits any more
            self.loop.call_soon_threadsafe(_settle_on_loop, self.future, ok, value)


def _settle_on_loop(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class PgDatabase:
    """An open workspace database. Safe to share between threads and event loops."""

    dialect = "postgresql"
    max_savepoints = MAX_SAVEPOINTS

    def __init__(
        self,
        url: WorkspaceUrl,
        password: str | None = None,
        *,
        migrate_schema: bool = True,
        wait_if_unreachable: bool = False,
    ) -> None:
        """Connect (checking, and bringing up to date, the schema unless ``migrate_schema`` is
        False). ``wait_if_unreachable``: a server that does not answer now, or refuses the login,
        is not an error (the window opens without it): :attr:`unreachable_at_open` is what
        happened, and the first read or write that reaches it checks the schema then.

        Raises:
            StoreUnreachable: the server does not answer, or refused the login
                (:class:`LoginRefused`); unless ``wait_if_unreachable``.
            StorageError: the schema is newer than this smsdesk, or needs its owner to update it.
        """
        self.url = url
        self.password = password
        self.closed = False
        self.unreachable_at_open: StoreUnreachable | None = None
        self._schema_checked = not migrate_schema
        self._schema_lock = threading.Lock()
        try:
            self._check_schema()
        except StoreUnreachable as exc:
            if not wait_if_unreachable:
                raise
            self.unreachable_at_open = exc
            log.warning("opening without the workspace: %s", exc)
        self._local = threading.local()
        self._readers: list[PgConnection] = []
        self._readers_lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer_conn: PgConnection | None = None
        self.most_savepoints = 0  # the most one transaction opened so far (kept under MAX_SAVEPOINTS)
        self._writer = threading.Thread(target=self._run_writer, name="smsdesk-pg-writer", daemon=True)
        self._writer.start()

    @property
    def path(self) -> str:
        """Where the data lives, for messages (the URL without any password)."""
        return self.url.display()

    def _check_schema(self) -> None:
        """Bring the schema up to date, once, on a connection of its own (at open, or at the
        first connection after an open that found the server out of reach)."""
        if self._schema_checked:
            return
        with self._schema_lock:
            if self._schema_checked:
                return
            first = connect(self.url, self.password)
            try:
                migrate(first)
            finally:
                first.close()
            self._schema_checked = True

    def _connect(self, *, read_only: bool = False) -> PgConnection:
        self._check_schema()
        return connect(self.url, self.password, read_only=read_only)

    # ---- reads -------------------------------------------------------------------------
    def reader(self) -> PgConnection:
        """This thread's read connection (connected again after a loss)."""
        conn: PgConnection | None = getattr(self._local, "conn", None)
        if conn is None or conn.raw.broken or conn.raw.closed:
            conn = self._connect(read_only=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _read(self, sql: str, params: Any, one: bool) -> Any:
        for attempt in (1, 2):
            try:
                cur = self.reader().execute(sql, params)
                return cur.fetchone() if one else cur.fetchall()
            except ConnectionLost:
                if attempt == 2:
                    raise  # this thread's connection had ended while idle: read again on a new one
            except psycopg.OperationalError as exc:
                raise StorageError(self.url.explain(exc)) from exc
        raise AssertionError("unreachable")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Any]:
        result: list[Any] = self._read(sql, params, one=False)
        return result

    def query_one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        return self._read(sql, params, one=True)

    # ---- writes ------------------------------------------------------------------------
    def submit(self, fn: Callable[[Any], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn(conn)`` to run inside a write transaction; the future resolves after COMMIT."""
        if self.closed:
            raise StorageError("The database is closed.")
        job = _Job(fn, None)
        self._jobs.put(job)
        future: concurrent.futures.Future[T] = job.future
        return future

    async def write(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(conn)`` in a write transaction from any event loop; returns after COMMIT."""
        if self.closed:
            raise StorageError("The database is closed.")
        import asyncio

        job = _Job(fn, asyncio.get_running_loop())
        self._jobs.put(job)
        result: T = await job.future
        return result

    def write_sync(self, fn: Callable[[Any], T], timeout: float | None = 60) -> T:
        """Blocking :meth:`write` for synchronous callers (CLI set-up, tests, worker threads)."""
        return self.submit(fn).result(timeout)

    def _run_writer(self) -> None:
        while (batch := take_batch(self._jobs)) is not None:
            self._run_batch([j for j in batch if j.start()])
        if self._writer_conn is not None:
            self._writer_conn.close()

    def _writer_connection(self) -> PgConnection:
        conn = self._writer_conn
        if conn is None or conn.raw.broken or conn.raw.closed:
            conn = self._writer_conn = self._connect()
        return conn

    def _run_batch(self, batch: list[_Job]) -> None:
        """Run ``batch`` in as few transactions as the savepoint cap allows."""
        retried = False
        while batch:
            try:
                conn = self._writer_connection()
            except StorageError as exc:
                for job in batch:
                    job.settle(False, exc)
                return
            try:
                conn.raw.execute("BEGIN")
            except psycopg.OperationalError as exc:
                # Ended while idle (a server restart, an administrator): nothing ran yet, so
                # the batch is tried once more on a new connection.
                self._writer_conn = None
                with contextlib.suppress(psycopg.Error):
                    conn.close()
                if not retried:
                    retried = True
                    continue
                for job in batch:
                    job.settle(False, StorageError(self.url.explain(exc)))
                return
            done = self._one_transaction(conn, batch)
            batch = batch[done:]

    def _one_transaction(self, conn: PgConnection, batch: list[_Job]) -> int:
        """Run jobs from the front of ``batch`` in one transaction (begun by the caller);
        returns how many it took."""
        outcomes: list[tuple[bool, Any]] = []
        conn.savepoints = 0
        try:
            for job in batch:
                if outcomes and conn.savepoints >= MAX_SAVEPOINTS // 2:
                    break  # the rest go in the next transaction
                conn.execute("SAVEPOINT job")
                try:
                    result = job.fn(conn)
                except (psycopg.OperationalError, ConnectionLost):
                    raise  # the connection is gone: the whole transaction is
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    conn.execute("ROLLBACK TO SAVEPOINT job")
                    conn.execute("RELEASE SAVEPOINT job")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE SAVEPOINT job")
                    outcomes.append((True, result))
            if any(ok for ok, _value in outcomes):
                conn.raw.execute("NOTIFY smsdesk_changes")  # delivered at COMMIT (pg/changes.py)
            conn.raw.execute("COMMIT")
        except (psycopg.Error, sqlite3.Error, ConnectionLost) as exc:
            with contextlib.suppress(psycopg.Error):
                if not conn.raw.broken and conn.in_transaction:
                    conn.raw.execute("ROLLBACK")
            lost = isinstance(exc, (psycopg.OperationalError, ConnectionLost)) or conn.raw.broken
            if isinstance(exc, ConnectionLost):
                err = StorageError(str(exc))
            else:
                err = StorageError(self.url.explain(exc) if lost else f"Could not save to the database: {exc}.")
            taken = min(len(batch), len(outcomes) + 1)
            for job in batch[:taken]:
                job.settle(False, err)
            return taken
        self.most_savepoints = max(self.most_savepoints, conn.savepoints)
        if conn.savepoints > MAX_SAVEPOINTS:
            log.warning("a write opened %d savepoints in one transaction", conn.savepoints)
        for job, (ok, value) in zip(batch, outcomes, strict=False):
            job.settle(ok, value)
        return len(outcomes)

    def track(self, conn: PgConnection) -> None:
        """Close ``conn`` (a connection of another part of storage) with this handle."""
        with self._readers_lock:
            self._readers.append(conn)

    def close(self) -> None:
        """Finish queued writes, then close every connection."""
        if self.closed:
            return
        self.closed = True
        self._jobs.put(None)
        self._writer.join(timeout=30)
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(psycopg.Error):
                    conn.close()
            self._readers.clear()
