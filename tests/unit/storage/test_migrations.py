"""Numbered migrations tracked in PRAGMA user_version (issue 2 item 2)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from smsdesk.storage.db import Database
from smsdesk.storage.migrations import LATEST_VERSION, MIGRATIONS

TABLES = {
    "accounts",
    "contacts",
    "messages",
    "message_transitions",
    "conversations",
    "pending_receipts",
    "webhook_events",
    "webhook_log",
    "optouts",
    "audit_log",
    "kv",
}


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _database_at(path: Path, version: int) -> sqlite3.Connection:
    """A database file as smsdesk left it at schema ``version`` (for an upgrade to work on)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for step in range(1, version + 1):
        for statement in MIGRATIONS[step]:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    return conn


def test_versions_are_numbered_from_one_without_gaps() -> None:
    assert sorted(MIGRATIONS) == list(range(1, LATEST_VERSION + 1))
    assert all(MIGRATIONS[v] for v in MIGRATIONS), "every version has statements"


def test_fresh_database_runs_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "smsdesk.sqlite3"
    db = Database(path)
    db.close()
    assert _user_version(path) == LATEST_VERSION
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert names >= TABLES


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "smsdesk.sqlite3"
    db = Database(path)
    db.write_sync(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('keep', 'me')"))
    db.close()
    db = Database(path)
    try:
        assert db.query_one("SELECT value FROM kv WHERE key = 'keep'")["value"] == "me"  # type: ignore[index]
    finally:
        db.close()
    assert _user_version(path) == LATEST_VERSION


def test_an_old_database_is_brought_up_to_date_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "smsdesk.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO kv (key, value) VALUES ('from', 'v1')")
    conn.close()
    db = Database(path)
    try:
        assert db.query_one("SELECT value FROM kv WHERE key = 'from'")["value"] == "v1"  # type: ignore[index]
        assert db.query_one("PRAGMA user_version")[0] == LATEST_VERSION  # type: ignore[index]
    finally:
        db.close()


def test_each_version_applies_on_top_of_the_previous_one() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for version in range(1, LATEST_VERSION + 1):
        conn.execute("BEGIN")
        for statement in MIGRATIONS[version]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_an_accounts_old_default_price_of_0_becomes_unknown(tmp_path: Path) -> None:
    # "0" was the form's default, so it meant "never set", not "free": estimates showed 0.00.
    path = tmp_path / "smsdesk.sqlite3"
    conn = _database_at(path, 8)
    for name, settings in (
        ("Default", '{"price_per_segment": "0", "unicode": "Allow"}'),
        ("Number", '{"price_per_segment": 0}'),
        ("Priced", '{"price_per_segment": "0.04"}'),
        ("Unset", '{"unicode": "Allow"}'),
    ):
        conn.execute(
            "INSERT INTO accounts (name, provider, settings, created_at, updated_at) VALUES (?, 'sandbox', ?, '', '')",
            (name, settings),
        )
    conn.close()
    db = Database(path)
    try:
        rows = {r["name"]: json.loads(r["settings"]) for r in db.query("SELECT name, settings FROM accounts")}
    finally:
        db.close()
    assert rows["Default"] == {"price_per_segment": "", "unicode": "Allow"}  # unknown; other fields kept
    assert rows["Number"] == {"price_per_segment": ""}
    assert rows["Priced"] == {"price_per_segment": "0.04"}  # a real price stays
    assert rows["Unset"] == {"unicode": "Allow"}


def test_history_from_before_reports_gets_its_replies_answers_and_totals(tmp_path: Path) -> None:
    # Migration 13 works out, for messages already stored, what is kept as new ones are
    # written: which send got a reply, how long a person took to answer, and hourly totals.
    path = tmp_path / "smsdesk.sqlite3"
    conn = _database_at(path, 12)
    conn.execute("INSERT INTO accounts (name, provider, created_at, updated_at) VALUES ('A', 'sandbox', '', '')")
    rows = [  # (direction, remote, at, status, automatic)
        ("out", "+1", "2026-03-01T10:00:00.000+00:00", "delivered", None),  # 1: replied by 2
        ("in", "+1", "2026-03-01T11:00:00.000+00:00", "received", None),  # 2: waits
        ("in", "+1", "2026-03-01T11:30:00.000+00:00", "received", None),  # 3
        ("out", "+1", "2026-03-01T11:40:00.000+00:00", "delivered", 7),  # 4: automatic, answers nothing
        ("out", "+1", "2026-03-01T12:00:00.000+00:00", "delivered", None),  # 5: a person, 1 h after 2
        ("out", "+2", "2026-03-01T10:00:00.000+00:00", "failed", None),  # 6: reply 8 days later: none
        ("in", "+2", "2026-03-09T10:00:00.000+00:00", "received", None),  # 7: still waiting
    ]
    for i, (d, remote, at, status, auto) in enumerate(rows, start=1):
        conn.execute(
            """INSERT INTO messages (local_id, account_id, direction, remote, body, status, segments,
                 created_at, updated_at, auto_rule_id, in_reply_to, currency)
               VALUES (?, 1, ?, ?, 'x', ?, 2, ?, ?, ?, ?, '')""",
            (f"m{i}", d, remote, status, at, at, auto, 3 if auto else None),
        )
        conn.execute(
            """INSERT INTO conversations (account_id, remote, last_message_id, last_at) VALUES (1, ?, ?, ?)
               ON CONFLICT (account_id, remote) DO UPDATE SET last_message_id = excluded.last_message_id""",
            (remote, i, at),
        )
    conn.close()
    db = Database(path)
    try:
        got = {int(r[0]): (r[1], r[2]) for r in db.query("SELECT id, reply_id, answer_s FROM messages")}
        waiting = {r[0]: r[1] for r in db.query("SELECT remote, waiting_since FROM conversations")}
        hours = [
            tuple(r)
            for r in db.query(
                "SELECT hour, direction, status, auto, messages, parts, replied FROM report_hours ORDER BY 1, 2, 3, 4"
            )
        ]
    finally:
        db.close()
    assert got[1] == (2, None) and got[6] == (None, None)
    assert got[4] == (None, None)  # automatic: not an answer
    assert got[5] == (None, 3600)
    assert waiting == {"+1": None, "+2": "2026-03-09T10:00:00.000+00:00"}
    assert hours == [
        ("2026-03-01T10", "out", "delivered", 0, 1, 2, 1),
        ("2026-03-01T10", "out", "failed", 0, 1, 2, 0),
        ("2026-03-01T11", "in", "received", 0, 2, 4, 0),
        ("2026-03-01T11", "out", "delivered", 1, 1, 2, 0),
        ("2026-03-01T12", "out", "delivered", 0, 1, 2, 0),
        ("2026-03-09T10", "in", "received", 0, 1, 2, 0),
    ]


def test_each_search_index_step_empties_one_to_do_table() -> None:
    """The writer runs an indexing statement only when its to-do table holds ids
    (storage/db.py): every statement must be matched to exactly one table."""
    from smsdesk.storage.migrations import INDEX_PENDING, INDEX_STEPS

    assert [statement for statement, _table in INDEX_STEPS] == INDEX_PENDING


def test_bulk_sends_running_at_the_upgrade_count_their_rows_still_to_send(tmp_path: Path) -> None:
    # Migration 16 keeps each bulk run's parts still to send (the spending limit counts them):
    # a run under way when smsdesk is updated gets its figure from its rows.
    path = tmp_path / "smsdesk.sqlite3"
    conn = _database_at(path, 15)
    conn.execute(
        "INSERT INTO accounts (name, provider, settings, created_at, updated_at) VALUES ('A', 'sandbox', '{}', '', '')"
    )
    for run_id, state in ((1, "running"), (2, "paused"), (3, "done")):
        conn.execute(
            "INSERT INTO bulk_runs (id, account_id, state, created_at, updated_at) VALUES (?, 1, ?, '', '')",
            (run_id, state),
        )
        rows = [(run_id, 1, "accepted", 2, None), (run_id, 2, "accepted", None, None), (run_id, 3, "rejected", 1, None)]
        rows.append((run_id, 4, "accepted", 3, 99))  # already a message
        conn.executemany(
            "INSERT INTO bulk_run_items (run_id, row_no, status, segments, message_id) VALUES (?, ?, ?, ?, ?)", rows
        )
    conn.close()
    db = Database(path)
    try:
        left = {r["id"]: r["parts_left"] for r in db.query("SELECT id, parts_left FROM bulk_runs")}
    finally:
        db.close()
    assert left == {1: 3, 2: 3, 3: 0}  # 2 parts + 1 of unknown parts; a finished run owes nothing
