"""The database handle: durability settings, refusing damaged or newer files untouched, group commit."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from smsdesk.domain.errors import StorageError
from smsdesk.storage.db import WRITER_NICE, Database
from smsdesk.storage.migrations import LATEST_VERSION


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


def _real_database(path: Path, rows: int = 2000) -> None:
    db = Database(path)
    db.write_sync(
        lambda c: c.executemany(
            "INSERT INTO kv (key, value) VALUES (?, ?)", [(f"k{i}", "x" * 400) for i in range(rows)]
        )
    )
    db.close()


# ---- durability settings --------------------------------------------------------------------
def test_wal_is_persistent_in_the_file(sqlite_db: Database) -> None:
    db = sqlite_db
    fresh = sqlite3.connect(db.path)
    try:
        assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        fresh.close()


def test_every_connection_uses_synchronous_full(sqlite_db: Database) -> None:
    db = sqlite_db
    full = 2
    assert db.write_sync(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == full
    assert db.query_one("PRAGMA synchronous")[0] == full  # type: ignore[index]
    seen: list[int] = []
    t = threading.Thread(target=lambda: seen.append(db.query_one("PRAGMA synchronous")[0]))  # type: ignore[index]
    t.start()
    t.join()
    assert seen == [full]
    assert db.query_one("PRAGMA foreign_keys")[0] == 1  # type: ignore[index]


def test_readers_are_read_only(sqlite_db: Database) -> None:
    db = sqlite_db
    with pytest.raises(sqlite3.OperationalError):
        db.query("INSERT INTO kv (key, value) VALUES ('a', 'b')")


# ---- damaged, foreign and newer files -------------------------------------------------------
def test_random_bytes_are_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "smsdesk.sqlite3"
    path.write_bytes(os.urandom(64 * 1024))
    before, names = _digest(path), _siblings(path)
    with pytest.raises(StorageError) as err:
        Database(path)
    text = str(err.value)
    assert "damaged or is not an smsdesk database" in text
    assert str(path) in text and "Nothing was changed" in text
    assert _digest(path) == before
    assert _siblings(path) == names  # no -wal / -shm / journal left behind


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.5, 0.9])
def test_a_truncated_database_is_refused_and_left_untouched(tmp_path: Path, keep: float) -> None:
    path = tmp_path / "smsdesk.sqlite3"
    _real_database(path)
    data = path.read_bytes()
    assert len(data) > 500_000
    path.write_bytes(data[: int(len(data) * keep) // 4096 * 4096 or 100])
    before = _digest(path)
    with pytest.raises(StorageError, match="damaged"):
        Database(path)
    assert _digest(path) == before


def test_a_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "smsdesk.sqlite3"
    path.write_text("name,number\nAda,+447911123456\n" * 100)
    before = _digest(path)
    with pytest.raises(StorageError, match="damaged or is not an smsdesk database"):
        Database(path)
    assert _digest(path) == before


def test_a_newer_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "smsdesk.sqlite3"
    _real_database(path, rows=10)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.commit()
    conn.close()
    before, names = _digest(path), _siblings(path)
    with pytest.raises(StorageError) as err:
        Database(path)
    text = str(err.value)
    assert "newer smsdesk" in text and "Nothing was changed" in text
    assert f"schema {LATEST_VERSION + 1}" in text
    assert _digest(path) == before
    assert _siblings(path) == names
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION + 1
    conn.close()


def test_a_newer_database_with_a_leftover_wal_is_not_checkpointed(tmp_path: Path) -> None:
    # A newer smsdesk crashed: its last commits are still in the -wal file. Closing a
    # read-write connection would checkpoint them into the database; refusing must not.
    live = tmp_path / "live" / "smsdesk.sqlite3"
    _real_database(live, rows=10)
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.execute("INSERT INTO kv (key, value) VALUES ('only-in-wal', 'x')")
    conn.commit()
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for suffix in ("", "-wal"):  # copied while the connection is open: what a crash leaves
        (crashed / ("smsdesk.sqlite3" + suffix)).write_bytes(Path(str(live) + suffix).read_bytes())
    conn.close()
    path = crashed / "smsdesk.sqlite3"
    wal = crashed / "smsdesk.sqlite3-wal"
    assert wal.stat().st_size > 0
    before = (_digest(path), _digest(wal))
    with pytest.raises(StorageError, match="newer smsdesk"):
        Database(path)
    assert (_digest(path), _digest(wal)) == before


# ---- group commit ---------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_500_concurrent_writes_all_resolve(db: Database) -> None:
    async def put(i: int) -> int:
        def job(c: sqlite3.Connection) -> int:
            c.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"w{i}", str(i)))
            return i

        return await db.write(job)

    assert sorted(await asyncio.gather(*(put(i) for i in range(500)))) == list(range(500))
    assert db.query_one("SELECT count(*) FROM kv WHERE key LIKE 'w%'")[0] == 500  # type: ignore[index]


def _hold_writer(db: Database) -> threading.Event:
    """Park the writer inside a job so the next submissions queue up into one batch."""
    gate, entered = threading.Event(), threading.Event()

    def wait(_conn: sqlite3.Connection) -> None:
        entered.set()
        gate.wait(10)

    db.submit(wait)
    assert entered.wait(10)
    return gate


def test_a_burst_costs_one_commit(sqlite_db: Database) -> None:
    db = sqlite_db
    commits: list[str] = []
    gate = _hold_writer(db)
    db._writer_conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    futures = [
        db.submit(lambda c, i=i: c.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"b{i}", "v")))
        for i in range(500)
    ]
    gate.set()
    for f in futures:
        f.result(10)
    db.write_sync(lambda c: None)
    db._writer_conn.set_trace_callback(None)
    # The held job's batch commits once, the 500 queued behind it once, the probe once.
    assert len(commits) <= 3
    assert db.query_one("SELECT count(*) FROM kv WHERE key LIKE 'b%'")[0] == 500  # type: ignore[index]


def test_a_failing_job_does_not_undo_its_neighbours(db: Database) -> None:
    gate = _hold_writer(db)

    def boom(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO kv (key, value) VALUES ('bad', 'written then undone')")
        raise ValueError("job failed on purpose")

    def dup(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO kv (key, value) VALUES ('before', 'again')")  # UNIQUE violation

    before = db.submit(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('before', '1')"))
    failing = db.submit(boom)
    conflicting = db.submit(dup)
    after = db.submit(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('after', '2')"))
    gate.set()
    before.result(10)
    after.result(10)
    with pytest.raises(ValueError, match="on purpose"):
        failing.result(10)
    with pytest.raises(sqlite3.IntegrityError):
        conflicting.result(10)
    rows = dict(db.query("SELECT key, value FROM kv WHERE key IN ('before', 'bad', 'after')"))
    assert rows == {"before": "1", "after": "2"}


def test_a_write_is_visible_to_another_connection_when_it_resolves(sqlite_db: Database) -> None:
    db = sqlite_db
    db.write_sync(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('seen', 'yes')"))
    other = sqlite3.connect(db.path)
    try:
        assert other.execute("SELECT value FROM kv WHERE key = 'seen'").fetchone() == ("yes",)
    finally:
        other.close()


def test_a_closed_database_refuses_writes(tmp_path: Path) -> None:
    db = Database(tmp_path / "smsdesk.sqlite3")
    pending = db.submit(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('last', 'x')"))
    db.close()
    assert pending.done()  # close() finishes queued writes first
    with pytest.raises(StorageError, match="closed"):
        db.submit(lambda c: None)
    db.close()  # twice is harmless


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own priority: Linux")
def test_the_writer_thread_gives_way_to_the_event_loop(tmp_path: Path) -> None:
    db = Database(tmp_path / "nice.db")
    try:
        db.write_sync(lambda c: None)  # the writer has started
        writer = db._writer.native_id
        assert writer is not None
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, writer) == min(19, mine + WRITER_NICE)
        assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # this thread (the event loop's) untouched
    finally:
        db.close()
