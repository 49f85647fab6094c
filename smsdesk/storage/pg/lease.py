"""The lead among a workspace's relays: a PostgreSQL advisory lock on a connection of its own.

Singleton work (the tunnel, the pollers) runs on exactly one relay at a time: the one holding
session-level advisory lock :data:`LEADER_LOCK`. The lock lives as long as its connection, so:

- a relay that stops, or is killed, closes the connection and the lock is free at once;
- a relay whose computer or network vanishes is noticed by the server through TCP keepalives
  set on that connection (``tcp_keepalives_idle/interval/count``: 5 s, then 3 probes 2 s
  apart), which frees the lock within about 11 s;
- the relay itself checks the connection every couple of seconds (:meth:`PgRelays.lease_held`)
  and stops its singleton work the moment it fails, before another relay can take over.

The other relays try to take the lock every couple of seconds, so a dead leader's work moves
to another relay well within 30 seconds.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

import psycopg

from smsdesk.domain.errors import StorageError
from smsdesk.storage.relays import RelayRepository

if TYPE_CHECKING:
    from smsdesk.storage.pg.database import PgConnection, PgDatabase

LEADER_LOCK = 0x736D736C  # "smsl"
_SERVER_KEEPALIVES = ("SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2", "SET tcp_keepalives_count = 3")


class PgRelays(RelayRepository):
    """:class:`smsdesk.storage.api.RelayStore` over a workspace: SQLite's heartbeats, and the
    lead held as an advisory lock."""

    def __init__(self, db: PgDatabase) -> None:
        super().__init__(db)  # type: ignore[arg-type]  # PgDatabase has Database's surface
        self._pg = db
        self._conn: PgConnection | None = None
        self._lock = threading.Lock()

    def take_lease(self) -> bool:
        from smsdesk.storage.pg.database import connect

        with self._lock:
            if self._conn is not None:
                return self._alive()
            try:
                conn = connect(self._pg.url, self._pg.password)
            except StorageError:
                return False
            try:
                for statement in _SERVER_KEEPALIVES:
                    conn.raw.execute(statement)
                row = conn.raw.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
            except psycopg.Error:
                conn.close()
                return False
            if row is None or not row[0]:
                conn.close()
                return False
            self._conn = conn
            return True

    def _alive(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            conn.raw.execute("SELECT 1")
        except psycopg.Error:
            self._conn = None
            with contextlib.suppress(psycopg.Error):
                conn.close()
            return False
        return True

    def lease_held(self) -> bool:
        with self._lock:
            return self._alive()

    def drop_lease(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()  # the lock goes with the connection
