"""Moving a single-desktop SQLite database into a new workspace, and proving nothing was lost.

Every table a person's data lives in is copied with ``COPY`` in one transaction, keeping ids
(so links between rows hold); the search tables are not copied (PostgreSQL indexes the rows
itself). Then each identity sequence is moved past the copied ids, and every table's row count
is compared with the source's: any difference rolls the whole copy back. The source file is
only read (after being brought to the latest schema, as any start would).

The workspace must be empty: a copy never merges into data that is already there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from smsdesk.domain.errors import InvalidInput, StorageError
from smsdesk.storage.db import Database
from smsdesk.storage.pg.database import PgConnection
from smsdesk.storage.pg.dialect import ID_TABLES

#: In an order that keeps foreign keys satisfied.
TABLES = (
    "accounts", "contacts", "contact_groups", "contact_group_members", "contact_numbers", "contact_tags",
    "contact_fields", "templates", "bulk_runs", "bulk_run_items", "messages", "message_transitions",
    "conversations", "conversation_activity", "conversation_reads", "pending_receipts", "webhook_events",
    "webhook_log", "optouts", "audit_log", "kv",
    "schedules", "schedule_recipients", "schedule_runs", "schedule_messages", "erased_numbers",
    "autoreply_rules", "report_hours",
)  # fmt: skip
#: Triggers that would write what the copy brings anyway (each table's own rows are copied).
#: Also those that stamp who wrote a row: the copy keeps who sent or noted it on the old desktop.
_QUIET = {
    "contacts": ("contact_number_ai",),
    "messages": ("report_hours_ai", "messages_sender_bi"),
    "conversation_activity": ("activity_actor_bi",),
}
_GENERATED = {"messages": {"body_search"}}
_SKIP_KEYS = ("relay:", "dispatcher:", "process:")  # heartbeats of processes on the old computer


def _columns(src: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in src.execute(f"PRAGMA table_info({table})") if r[1] not in _GENERATED.get(table, ())]


def copy_from_sqlite(
    path: Path, conn: PgConnection, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy the SQLite database at ``path`` into the (empty) workspace; returns rows per table.

    Raises:
        InvalidInput: no database at ``path``, or the workspace already holds data.
        StorageError: the counts differ after the copy (nothing was kept).
    """
    if not path.exists():
        raise InvalidInput(f"There is no smsdesk database at {path}.")
    Database(path).close()  # brought to the latest schema, as any start would
    src = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    raw = conn.raw
    try:
        if raw.execute("SELECT EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM contacts)").fetchone() != (
            False,
        ):
            raise InvalidInput("The workspace already holds messages or contacts: copy only into a new workspace.")
        counts: dict[str, int] = {}
        with raw.transaction():
            raw.execute("DELETE FROM accounts WHERE NOT EXISTS (SELECT 1 FROM messages)")  # a seeded Sandbox
            raw.execute("DELETE FROM kv")
            for table in TABLES:
                counts[table] = _copy_table(src, raw, table)
                if progress is not None:
                    progress(table, counts[table])
            for table in sorted(ID_TABLES & set(TABLES)):
                move_past = "SELECT setval(pg_get_serial_sequence({t}, 'id'), coalesce(max(id), 0) + 1, false) FROM {i}"
                raw.execute(sql.SQL(move_past).format(t=sql.Literal(table), i=sql.Identifier(table)))
            for table, expected in counts.items():
                got = raw.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
                if got is None or int(got[0]) != expected:
                    raise StorageError(
                        f"The copy of {table} holds {got[0] if got else 0} rows, not {expected}: nothing was kept."
                    )
        return counts
    finally:
        src.close()


def _copy_table(src: sqlite3.Connection, raw: psycopg.Connection[Any], table: str) -> int:
    cols = _columns(src, table)
    where = ""
    if table == "kv":
        where = " WHERE " + " AND ".join(f"key NOT LIKE '{k}%'" for k in _SKIP_KEYS)
    quiet = _QUIET.get(table, ())
    for trigger in quiet:
        raw.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(trigger)))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    )
    rows = 0
    with raw.cursor().copy(statement) as copy:
        for row in src.execute(f"SELECT {', '.join(cols)} FROM {table}{where}"):
            copy.write_row(row)
            rows += 1
    for trigger in quiet:
        raw.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(trigger)))
    return rows
