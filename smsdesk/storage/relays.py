"""Relay heartbeats: another smsdesk process (``smsdesk serve``) receiving and polling for the database.

The heartbeat lives in ``kv`` under ``relay:<host>:<pid>`` as JSON (when it beat, its
receiver, its tunnel), so a GUI on the same database knows the relay receives and polls.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.liveness import host_name, process_alive

RELAY_PREFIX = "relay:"


def relay_key(host: str | None = None, pid: int | None = None) -> str:
    return f"{RELAY_PREFIX}{host or host_name()}:{pid or os.getpid()}"


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
    here = host_name()
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


class RelayRepository:
    """:class:`smsdesk.storage.api.RelayStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def key(self) -> str:
        return relay_key()

    async def beat(self, key: str, info: dict[str, Any]) -> None:
        await self._db.write(lambda c: beat_relay(c, key, info))

    async def end(self, key: str) -> None:
        await self._db.write(lambda c: end_relay(c, key))

    def live(self, dead_after_s: float, exclude: str = "") -> list[dict[str, Any]]:
        return live_relays(self._db.reader(), dead_after_s, exclude)

    def take_lease(self) -> bool:
        return True  # one relay per SQLite file: it leads

    def lease_held(self) -> bool:
        return True

    def drop_lease(self) -> None:
        pass
