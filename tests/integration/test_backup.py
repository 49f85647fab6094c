"""Backups while smsdesk sends, restores that refuse what would lose data, the daily backup.

A backup is taken with the online backup API while a bulk send commits a batch every few
milliseconds; restored on "another computer" (a fresh data folder and an empty keyring) it
holds every message the database had when it was taken, consistent to the last row, and it
lists the accounts whose API keys must be entered again.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import keyring
import pytest

from smsdesk.config.paths import resolve
from smsdesk.domain.errors import InvalidInput
from smsdesk.runtime import Runtime, backup_files
from smsdesk.services import backup as backups
from smsdesk.storage import bulk_sends as bulk_store
from smsdesk.storage import processes
from smsdesk.storage.migrations import LATEST_VERSION
from tests.support import serve_proc
from tests.support.keyring_memory import MemoryKeyring
from tests.support.wait import until

ROWS = 1200


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.sqlite_only  # a workspace's backups are pg_dump's (test_workspace.py)
@pytest.mark.asyncio
async def test_a_backup_taken_during_a_bulk_send_is_restored_whole(runtime: Any, tmp_path: Path) -> None:
    await runtime.accounts.add(
        "Mob", "mobivate", {"base_url": "http://127.0.0.1:9", "sender": "Shop", "api_key": "mob-key"}
    )
    runtime.sandbox.server.config.latency = 0.03  # each batch request takes a moment: the send is still going
    runtime.bulk_send.window = 40
    sandbox = runtime.accounts.by_name("Sandbox")

    def start(conn: Any) -> int:
        return bulk_store.create_run(
            conn,
            bulk_store.NewRun(sandbox.id, "customers.csv", "h", "Hi", "Shop", ["phone"], ROWS, ROWS, 0, {}),
            [
                bulk_store.NewItem(
                    i + 1, "accepted", f"+4474000{i:05d}", body=f"Hi customer {i}", segments=1, encoding="GSM-7"
                )
                for i in range(ROWS)
            ],
        )

    run_id = await runtime.store.db.write(start)
    await runtime.bulk_send.pump(run_id)

    def sent() -> set[str]:
        return {
            r["local_id"]
            for r in runtime.store.db.query(
                "SELECT local_id FROM messages WHERE status IN ('sent', 'delivered') AND run_id = ?", (run_id,)
            )
        }

    await until(lambda: len(sent()) >= 200, timeout=30)
    sent_before = sent()
    facts = await runtime.backups.back_up(tmp_path / "mid-send.sqlite3")
    made_after = {
        r["local_id"]: (r["remote"], r["body"])
        for r in runtime.store.db.query("SELECT local_id, remote, body FROM messages")
    }
    assert len(sent()) < ROWS, "the send finished before the backup; slow the sandbox down"
    assert _mode(facts.path) == 0o600
    assert facts.messages >= len(sent_before)

    other = resolve(tmp_path / "new-computer")
    keyring.set_keyring(MemoryKeyring())  # another computer: its keyring has none of our keys
    result = await asyncio.to_thread(backups.restore, other, facts.path, backup_files(other))
    assert result.aside is None and result.facts.messages == facts.messages
    copy = other.database
    assert _rows(copy, "PRAGMA integrity_check") == [("ok",)]
    restored = {
        r[0]: (r[1], r[2], r[3], r[4])
        for r in _rows(copy, "SELECT local_id, remote, body, status, run_id FROM messages")
    }
    # Every message sent before the backup is in it, as sent; nothing in it was made up.
    assert sent_before <= {lid for lid, r in restored.items() if r[2] in ("sent", "delivered")}
    assert all(made_after[lid] == (r[0], r[1]) for lid, r in restored.items())
    assert any(r[2] == "queued" for r in restored.values()) or len(restored) < ROWS  # taken mid-send
    # Consistent to the last row: each made row of the run has its message, each message its history.
    assert _rows(
        copy,
        f"""SELECT count(*) FROM bulk_run_items i LEFT JOIN messages m ON m.id = i.message_id
                           WHERE i.run_id = {run_id} AND i.message_id IS NOT NULL AND m.id IS NULL""",
    ) == [(0,)]
    assert _rows(
        copy,
        """SELECT count(*) FROM messages m WHERE NOT EXISTS
                          (SELECT 1 FROM message_transitions t WHERE t.message_id = m.id)""",
    ) == [(0,)]
    assert _rows(copy, "SELECT count(*) FROM message_fts WHERE message_fts MATCH '\"customer 7\"'")[0][0] >= 1

    rt = Runtime.open(str(other.home))
    try:
        assert rt.backups.missing_keys() == [("Mob", "Mobivate", ["API key"])]  # the Sandbox's keys are made anew
        assert rt.backups.last_restore()["from"] == str(facts.path)
        assert len(rt.store.db.query("SELECT id FROM messages")) == len(restored)
    finally:
        rt.close()


def _backup_of(home: Path, tmp: Path, name: str, *texts: str) -> Path:
    rt = Runtime.open(str(home))
    try:
        for t in texts:
            rt.store.db.write_sync(
                lambda c, t=t: c.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"note:{t}", t))
            )
        return asyncio.run(rt.backups.back_up(tmp / name)).path
    finally:
        rt.close()


def _notes(home: Path) -> list[str]:
    return [r[0] for r in _rows(home / "smsdesk.sqlite3", "SELECT value FROM kv WHERE key LIKE 'note:%' ORDER BY 1")]


def test_restore_refuses_while_smsdesk_serve_has_the_database_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = _backup_of(home, tmp_path, "good.sqlite3", "from the backup")
    _backup_of(home, tmp_path, "later.sqlite3", "made later")
    proc, lines = serve_proc.start_serve(home, "--no-sandbox")
    try:
        assert lines and lines[-1].startswith("Serving;"), lines
        with pytest.raises(backups.ProcessesRunning) as refused:
            backups.restore(resolve(home), good, backup_files(resolve(home)))
        assert f"smsdesk serve (process {proc.pid} on this computer) has the database open" in str(refused.value)
        assert "Nothing was changed" in str(refused.value)
    finally:
        proc.terminate()
        proc.wait(20)
    assert _notes(home) == ["from the backup", "made later"]
    assert not (home / "replaced").exists()
    result = backups.restore(resolve(home), good, backup_files(resolve(home)))  # serve has stopped: now it goes ahead
    assert _notes(home) == ["from the backup"]
    assert result.aside is not None and _mode(result.aside) == 0o600
    assert _notes_of(result.aside) == ["from the backup", "made later"]  # the replaced data, kept aside


def _notes_of(db: Path) -> list[str]:
    return [r[0] for r in _rows(db, "SELECT value FROM kv WHERE key LIKE 'note:%' ORDER BY 1")]


def test_restore_refuses_a_damaged_file_a_foreign_one_and_one_from_a_newer_smsdesk(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = _backup_of(home, tmp_path, "good.sqlite3", "current")
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(good.read_bytes())
    page = 4096
    for p in range(2, len(data) // page):  # every page after the schema: b-tree headers scrambled
        data[p * page : p * page + 16] = b"\xde\xad\xbe\xef" * 4
    damaged.write_bytes(bytes(data))
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(good.read_bytes())
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    foreign = tmp_path / "photos.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    before = (home / "smsdesk.sqlite3").read_bytes()

    for path, words in (
        (damaged, "is damaged"),
        (
            newer,
            f"was made by a newer smsdesk (data version {LATEST_VERSION + 1}; this smsdesk reads up to "
            f"{LATEST_VERSION}). Update smsdesk",
        ),
        (foreign, "is not an smsdesk backup"),
        (tmp_path / "missing.sqlite3", "There is no file"),
    ):
        with pytest.raises(InvalidInput) as refused:
            backups.restore(resolve(home), path, backup_files(resolve(home)))
        assert words in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert (home / "smsdesk.sqlite3").read_bytes() == before
    assert not (home / "replaced").exists() and not (home / backups.STAGED).exists()


@pytest.mark.sqlite_only  # a workspace's backups are pg_dump's (test_workspace.py)
@pytest.mark.asyncio
async def test_the_daily_backup_keeps_the_last_n_in_the_chosen_folder(
    runtime: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stick = tmp_path / "usb-stick"
    stick.mkdir()
    runtime.settings.backup_folder = str(stick / "smsdesk")
    runtime.settings.backup_keep = 3
    svc = runtime.backups
    first = await svc.auto_if_due()
    assert first is not None and first.path.parent == stick / "smsdesk"
    assert await svc.auto_if_due() is None  # one a day
    monkeypatch.setattr(backups, "AUTO_EVERY", timedelta(0))  # as if a day passed between each
    made = [first.path] + [(await svc.auto_if_due()).path for _ in range(4)]
    kept = sorted(p.name for p in (stick / "smsdesk").iterdir())
    assert kept == sorted(p.name for p in made[-3:])
    assert all(_mode(stick / "smsdesk" / name) == 0o600 for name in kept)
    assert _mode(stick / "smsdesk") == 0o700
    assert svc.last_auto()["path"] == str(made[-1]) and not svc.last_auto()["error"]


@pytest.mark.sqlite_only  # a workspace's backups are pg_dump's (test_workspace.py)
@pytest.mark.asyncio
async def test_a_missing_backup_folder_is_said_once_and_tried_again_later(
    runtime: Any, tmp_path: Path, expect_warnings: Any
) -> None:
    runtime.settings.backup_folder = str(tmp_path / "unplugged" / "smsdesk")
    assert await runtime.backups.auto_if_due() is None
    last = runtime.backups.last_auto()
    assert "is not available" in last["error"] and "Settings -> Data" in last["error"]
    assert await runtime.backups.auto_if_due() is None  # not again at once: in an hour
    assert not (tmp_path / "unplugged").exists()


def test_backups_refuse_to_overwrite(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = _backup_of(home, tmp_path, "b.sqlite3")
    rt = Runtime.open(str(home))
    try:
        with pytest.raises(InvalidInput, match="already exists"):
            asyncio.run(rt.backups.back_up(path))
        with pytest.raises(InvalidInput, match="does not exist"):
            asyncio.run(rt.backups.back_up(tmp_path / "nowhere" / "b.sqlite3"))
        into_folder = asyncio.run(rt.backups.back_up(tmp_path)).path
        assert into_folder.parent == tmp_path and into_folder.name.startswith("smsdesk-backup-")
    finally:
        rt.close()
    assert os.access(path, os.R_OK)


def test_a_restore_chosen_in_the_window_is_done_at_the_next_start(tmp_path: Path, expect_warnings: Any) -> None:
    home = tmp_path / "home"
    good = _backup_of(home, tmp_path, "good.sqlite3", "from the backup")
    rt = Runtime.open(str(home), role="the smsdesk window")
    try:
        rt.store.db.write_sync(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('note:x', 'made later')"))
        facts = asyncio.run(rt.backups.stage_restore(good))  # the window has the database open: staged only
        assert facts.path == good and _notes(home) == ["from the backup", "made later"]
    finally:
        rt.close()
    # Another smsdesk started meanwhile (a stand-in process registered as smsdesk serve): it waits.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        conn = sqlite3.connect(home / "smsdesk.sqlite3")
        with conn:
            processes.register(conn, processes.key(pid=other.pid), "smsdesk serve")
        conn.close()
        waiting = Runtime.open(str(home))
        try:
            assert waiting.restored is None
            assert f"smsdesk serve (process {other.pid} on this computer)" in waiting.restore_error
        finally:
            waiting.close()
    finally:
        other.kill()
        other.wait()
    assert _notes(home) == ["from the backup", "made later"] and (home / backups.STAGED).exists()
    rt = Runtime.open(str(home))
    try:
        assert rt.restored is not None and rt.restored.source == good and not rt.restore_error
        assert rt.backups.last_restore()["from"] == str(good)
    finally:
        rt.close()
    assert _notes(home) == ["from the backup"] and not (home / backups.STAGED).exists()
