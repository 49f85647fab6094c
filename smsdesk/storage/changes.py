"""What another process changed in the shared database, and which relay is alive on it.

The GUI and ``smsdesk serve`` (or a CLI command) write the same SQLite file; change-sets are
per process. ``PRAGMA data_version`` (per connection) says cheaply that *some* other
connection committed; :func:`marks` then takes a handful of index-only probes (high-water
ids and small fingerprints) so the service can say *what* changed without reading the data.

The relay heartbeat lives in ``kv`` under ``relay:<host>:<pid>`` as JSON (when it beat, its
receiver, its tunnel), so a GUI on the same database knows the relay receives and polls.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from smsdesk.storage.db import utcnow
from smsdesk.storage.liveness import process_alive

RELAY_PREFIX = "relay:"


@dataclass(frozen=True, slots=True)
class Marks:
    """High-water marks and fingerprints of what views show; compare two to see what moved."""

    message: int = 0  # max(messages.id): new rows (sends, replies)
    transition: int = 0  # max(message_transitions.id): status changes
    log: int = 0  # max(webhook_log.id): deliveries
    pending_events: int = 0  # raw events waiting to be processed (the log shows their outcome)
    accounts: tuple[Any, ...] = ()
    optouts: tuple[Any, ...] = ()
    contacts: tuple[Any, ...] = ()
    schedules: tuple[Any, ...] = ()
    bulk: tuple[Any, ...] = ()


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection (this process's writer included) commits."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _one(conn: sqlite3.Connection, sql: str) -> tuple[Any, ...]:
    return tuple(conn.execute(sql).fetchone())


def marks(conn: sqlite3.Connection) -> Marks:
    # Each probe is an index (or rowid) lookup or a scan of a table a person keeps small.
    return Marks(
        message=int(_one(conn, "SELECT COALESCE(MAX(id), 0) FROM messages")[0]),
        transition=int(_one(conn, "SELECT COALESCE(MAX(id), 0) FROM message_transitions")[0]),
        log=int(_one(conn, "SELECT COALESCE(MAX(id), 0) FROM webhook_log")[0]),
        pending_events=int(_one(conn, "SELECT count(*) FROM webhook_events WHERE state = 'pending'")[0]),
        accounts=_one(conn, "SELECT count(*), MAX(updated_at) FROM accounts"),
        optouts=_one(conn, "SELECT count(*), MAX(created_at) FROM optouts"),
        contacts=_one(conn, "SELECT count(*), MAX(id) FROM contacts"),
        schedules=_one(conn, "SELECT count(*), MAX(updated_at) FROM schedules"),
        bulk=_one(conn, "SELECT count(*), MAX(updated_at) FROM bulk_runs"),
    )


def moved_messages(
    conn: sqlite3.Connection, after_message: int, after_transition: int, limit: int
) -> tuple[set[int], set[int]] | None:
    """(messages that are new or changed status, the new ones that are replies) since the
    marks; None when more than ``limit`` moved (then a full refresh is cheaper)."""
    new = conn.execute(
        "SELECT id, direction FROM messages WHERE id > ? ORDER BY id LIMIT ?", (after_message, limit + 1)
    ).fetchall()
    moved = conn.execute(
        "SELECT DISTINCT message_id FROM message_transitions WHERE id > ? LIMIT ?", (after_transition, limit + 1)
    ).fetchall()
    if len(new) > limit or len(moved) > limit:
        return None
    ids = {int(r[0]) for r in new} | {int(r[0]) for r in moved}
    replies = {int(r[0]) for r in new if r[1] == "in"}
    return ids, replies


# ---- the relay heartbeat ----------------------------------------------------------------
def relay_key(host: str | None = None, pid: int | None = None) -> str:
    return f"{RELAY_PREFIX}{host or socket.gethostname()}:{pid or os.getpid()}"


def beat_relay(conn: sqlite3.Connection, key: str, info: dict[str, Any]) -> None:
    value = json.dumps({**info, "at": utcnow()})
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def end_relay(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM kv WHERE key = ?", (key,))


def live_relays(conn: sqlite3.Connection, dead_after_s: float, exclude: str = "") -> list[dict[str, Any]]:
    """Relays whose heartbeat is fresher than ``dead_after_s`` (and, on this computer, whose
    process still exists: a killed relay is gone at once, not after the timeout)."""
    here = socket.gethostname()
    now = datetime.now(UTC)
    found = []
    for key, value in conn.execute("SELECT key, value FROM kv WHERE key LIKE 'relay:%'").fetchall():
        if key == exclude:
            continue
        try:
            info = json.loads(value)
            age = (now - datetime.fromisoformat(info["at"])).total_seconds()
            host, _, pid = key[len(RELAY_PREFIX) :].rpartition(":")
            info.update(key=key, host=host, pid=int(pid))
        except (ValueError, KeyError, TypeError):
            continue
        if age > dead_after_s or (host == here and process_alive(info["pid"]) is False):
            continue
        found.append(info)
    return found
