"""Which smsdesk processes have the database open, so a restore can refuse while one does.

Every process that opens the database through the runtime (the window, ``smsdesk serve``, a
CLI command) registers in ``kv`` under ``proc:<host>:<pid>`` (JSON: what it is, since when)
and removes the row when it closes. A process killed without closing leaves its row; such a
row counts only while its process still runs (on this computer) or, where that cannot be
told (another computer, Windows), while its dispatcher or relay heartbeat is fresh.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime

from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.liveness import host_name, process_alive

PREFIX = "proc:"


def key(host: str | None = None, pid: int | None = None) -> str:
    return f"{PREFIX}{host or host_name()}:{pid or os.getpid()}"


def register(conn: sqlite3.Connection, proc_key: str, what: str) -> None:
    value = json.dumps({"what": what, "at": utcnow()})
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (proc_key, value),
    )


def unregister(conn: sqlite3.Connection, proc_key: str) -> None:
    conn.execute("DELETE FROM kv WHERE key = ?", (proc_key,))


def forget_all(conn: sqlite3.Connection) -> None:
    """For a copy of the database (a backup): the processes of the original are not its own."""
    conn.execute("DELETE FROM kv WHERE key LIKE 'proc:%'")


def _age_s(text: str, now: datetime) -> float:
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return float("inf")
    return (now - (when if when.tzinfo else when.replace(tzinfo=UTC))).total_seconds()


def others(conn: sqlite3.Connection, dead_after_s: float, me: int | None = None) -> list[str]:
    """Other smsdesk processes with the database open, each named for a person
    ("smsdesk serve (process 4242 on this computer)"). ``me``: our own process id."""
    me = os.getpid() if me is None else me
    here = host_name()
    now = datetime.now(UTC)
    beats: dict[tuple[str, int], float] = {}  # (host, pid) -> age of its freshest heartbeat
    for k, value in conn.execute(
        "SELECT key, value FROM kv WHERE key LIKE 'dispatcher:%' OR key LIKE 'relay:%'"
    ).fetchall():
        kind, _, rest = str(k).partition(":")
        if kind == "dispatcher":  # dispatcher:<host>:<pid>:<tag>
            host, _, tail = rest.partition(":")
            pid_text = tail.partition(":")[0]
        else:  # relay:<host>:<pid>
            host, _, pid_text = rest.rpartition(":")
        if not pid_text.isdigit():
            continue
        at = value
        if kind == "relay":
            try:
                at = json.loads(value).get("at", "")
            except (ValueError, AttributeError):
                continue
        age = _age_s(str(at), now)
        ident = (host, int(pid_text))
        beats[ident] = min(age, beats.get(ident, float("inf")))
    found: list[str] = []
    named: set[tuple[str, int]] = set()
    for k, value in conn.execute("SELECT key, value FROM kv WHERE key LIKE 'proc:%'").fetchall():
        host, _, pid_text = str(k)[len(PREFIX) :].rpartition(":")
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if host == here and pid == me:
            continue
        try:
            info = json.loads(value)
        except ValueError:
            info = {}
        if _running(host, pid, here, beats, dead_after_s, _age_s(str(info.get("at", "")), now)):
            named.add((host, pid))
            found.append(_name(str(info.get("what") or "smsdesk"), host, pid, here))
    # A process that never registered (an older smsdesk) but beats as a dispatcher or relay.
    for (host, pid), age in sorted(beats.items()):
        if (host, pid) in named or (host == here and pid == me) or age > dead_after_s:
            continue
        if host == here and process_alive(pid) is False:
            continue
        found.append(_name("smsdesk", host, pid, here))
    return found


def _running(
    host: str, pid: int, here: str, beats: dict[tuple[str, int], float], dead_after_s: float, registered_age: float
) -> bool:
    alive = process_alive(pid) if host == here else None
    if alive is not None:
        return alive
    # Cannot tell from the process table: a fresh heartbeat, or a registration moments ago.
    return beats.get((host, pid), float("inf")) <= dead_after_s or registered_age <= dead_after_s


def _name(what: str, host: str, pid: int, here: str) -> str:
    where = "this computer" if host == here else host
    return f"{what} (process {pid} on {where})"


class ProcessRepository:
    """:class:`smsdesk.storage.api.ProcessStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, what: str) -> str:
        proc_key = key()
        self._db.write_sync(lambda c: register(c, proc_key, what))
        return proc_key

    def unregister(self, key: str) -> None:
        self._db.write_sync(lambda c: unregister(c, key))
