"""What other desktops and relays changed in the workspace: ``LISTEN``/``NOTIFY`` and marks.

Every write transaction of a :class:`~smsdesk.storage.pg.database.PgDatabase` sends
``NOTIFY smsdesk_changes`` (delivered at commit; no payload, so nothing of a message reaches a
role that merely listens). One listening connection per process counts what it hears;
:meth:`PgChangeRepository.wait` returns as soon as something is heard, so a reply a relay
stores shows on every desktop within a fraction of a second.

A notification sent while the listener was disconnected is lost, so:

- after every (re)connection the count moves, and the watcher compares its *marks* (the
  high-water ids of messages, transitions and the webhook log, and small fingerprints of the
  other tables; the same probes as SQLite's), which catches up on everything since;
- the count also moves every :data:`POLL_S` seconds, as a fallback.

Presence (who is viewing or typing in a conversation) travels on a second channel,
``smsdesk_presence``, and is never stored: a small JSON payload of a login name, a
conversation id and "viewing", "typing" or "left" (no message text), sent by
:meth:`PgChangeRepository.announce` on a connection of its own and handed to the watcher by
:meth:`PgChangeRepository.presence`.

High-water ids are safe on PostgreSQL only if ids become visible in id order. Several
writers could otherwise commit out of order (one takes id 100, another 101 and commits
first; a watcher that read 101 would never look at 100). So every transaction that inserts
messages, transitions or webhook log lines first takes one transaction-scoped advisory lock
(the schema's ``change_order`` statement trigger): inserts into those tables commit one
writer at a time, in id order.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import threading
import time
from typing import TYPE_CHECKING

import psycopg

from smsdesk.domain.errors import StorageError
from smsdesk.storage.changes import ChangeRepository

if TYPE_CHECKING:
    from smsdesk.storage.pg.database import PgDatabase

log = logging.getLogger(__name__)
CHANNEL = "smsdesk_changes"
PRESENCE = "smsdesk_presence"
_HEARD_MAX = 500  # presence notes kept between two passes of the watcher (the newest ones)
POLL_S = 5.0  # the fallback: the marks are compared at least this often


class PgChangeRepository(ChangeRepository):
    """:class:`smsdesk.storage.api.ChangeFeed` over a workspace (the marks are SQLite's probes)."""

    def __init__(self, db: PgDatabase) -> None:
        super().__init__(db)  # type: ignore[arg-type]  # PgDatabase has Database's reader()
        self._pg = db
        self._heard = 0
        self._cond = threading.Condition()
        self._listener: threading.Thread | None = None
        self._conn: psycopg.Connection[object] | None = None
        self._presence: collections.deque[tuple[str, int, str]] = collections.deque(maxlen=_HEARD_MAX)
        self._sender: psycopg.Connection[object] | None = None
        self._send_lock = threading.Lock()

    def _start(self) -> None:
        with self._cond:
            if self._listener is None:
                self._listener = threading.Thread(target=self._listen, name="smsdesk-pg-listen", daemon=True)
                self._listener.start()

    def _bump(self) -> None:
        with self._cond:
            self._heard += 1
            self._cond.notify_all()

    def _listen(self) -> None:
        from smsdesk.storage.pg.database import connect

        while not self._pg.closed:
            try:
                conn = connect(self._pg.url, self._pg.password).raw
            except StorageError as exc:
                log.info("listening for workspace changes: %s", exc)
                time.sleep(1.0)
                continue
            self._conn = conn
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                conn.execute(f"LISTEN {PRESENCE}")
                self._bump()  # catch up on whatever happened while not listening
                while not self._pg.closed:
                    for note in conn.notifies(timeout=POLL_S / 5):
                        if note.channel == PRESENCE:
                            self._heard_presence(note.payload)
                        else:
                            self._bump()
            except psycopg.Error as exc:
                if not self._pg.closed:
                    log.info("the workspace listener lost its connection (%s); connecting again", exc)
                    time.sleep(0.5)
            finally:
                with contextlib.suppress(psycopg.Error):
                    conn.close()

    def _heard_presence(self, payload: str) -> None:
        try:
            note = json.loads(payload)
            heard = (str(note["p"]), int(note["c"]), str(note["a"]))
        except (ValueError, KeyError, TypeError):
            return  # not ours, or malformed: presence is a courtesy, never an error
        with self._cond:
            self._presence.append(heard)
            self._cond.notify_all()

    def presence(self) -> list[tuple[str, int, str]]:
        """(person, conversation id, viewing / typing / left) heard since the last call."""
        with self._cond:
            out = list(self._presence)
            self._presence.clear()
        return out

    def announce(self, person: str, conversation_id: int, activity: str) -> None:
        """Tell the other desktops (blocking, a few milliseconds); a failure is only logged."""
        from smsdesk.storage.pg.database import connect

        payload = json.dumps({"p": person, "c": conversation_id, "a": activity})
        with self._send_lock:
            if self._pg.closed:
                return
            try:
                if self._sender is None or self._sender.closed:
                    conn = connect(self._pg.url, self._pg.password)
                    self._pg.track(conn)  # closed with the database
                    self._sender = conn.raw
                self._sender.execute("SELECT pg_notify(%s, %s)", (PRESENCE, payload))
            except (psycopg.Error, StorageError) as exc:
                log.info("telling the workspace who is viewing failed: %s", exc)
                if self._sender is not None:
                    with contextlib.suppress(psycopg.Error):
                        self._sender.close()
                self._sender = None

    def version(self) -> int:
        self._start()
        return self._heard + int(time.monotonic() // POLL_S)

    def wait(self, timeout: float) -> bool:
        """Block until something is heard (or ``timeout`` seconds); True: this feed can wait."""
        self._start()
        with self._cond:
            start = self._heard
            self._cond.wait_for(lambda: self._heard != start or bool(self._presence) or self._pg.closed, timeout)
        return True
