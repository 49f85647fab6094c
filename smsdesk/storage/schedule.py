"""The scheduled queue: schedule items, their recipients, their runs and the runs' messages.

Tables (migration V2 in ``migrations.py``): ``schedules`` (one row per scheduled send, with the
wall-clock time + IANA zone it was asked for and the next run in UTC), ``schedule_recipients``
(numbers and, for a bulk run, each one's personalised text), ``schedule_runs`` (history) and
``schedule_messages`` (which outbox rows a run made). Messages are linked through the join
table so the shared ``messages`` table needs no new column.

Write functions take the writer's connection (inside ``Database.write``). Every change to an
item bumps ``version``; :func:`claim` and :func:`update_item` succeed only for the version the
caller read, so an edit racing the due loop either lands before the run starts or is refused.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smsdesk.domain.schedule import Recurrence, ScheduleItem, counts_text
from smsdesk.domain.status import Status
from smsdesk.storage import bulk_sends as bulk_store
from smsdesk.storage import messages as msg_store
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.records import BULK_ACTIVE

# An item another process is handing to the provider right now: nobody may change it until
# that finishes (else the provider would hold the old text while the queue shows the new).
NOT_HANDING_OFF = "NOT (state = 'scheduled' AND claimed_by IS NOT NULL)"

# Statuses of a run's messages that still wait in the outbox (the run is not over).
WAITING = ("scheduled", "queued")
_SELECT = """SELECT s.*, a.name AS account_name FROM schedules s JOIN accounts a ON a.id = s.account_id"""


class Conflict(Exception):
    """The item changed (or started) since the caller read it. Services turn it into words."""


@dataclass(frozen=True, slots=True)
class NewSchedule:
    account_id: int
    kind: str
    body: str
    sender: str
    recipients: Sequence[tuple[str, str | None]]  # (number, personalised text or None)
    recurrence: Recurrence
    first_local: datetime
    zone: str
    next_run_utc: str
    location: str = "local"
    bulk_run_id: int | None = None


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds")


def row_to_item(row: sqlite3.Row, last_run: dict[str, Any] | None = None) -> ScheduleItem:
    nxt = row["next_run_utc"]
    return ScheduleItem(
        id=row["id"],
        account_id=row["account_id"],
        account=row["account_name"],
        kind=row["kind"],
        body=row["body"],
        sender=row["sender"],
        recipient_count=row["recipient_count"],
        recurrence=Recurrence.from_json(row["recurrence"]),
        first_local=datetime.fromisoformat(row["first_local"]),
        zone=row["zone"],
        next_run=datetime.fromisoformat(nxt) if nxt else None,
        state=row["state"],
        location=row["location"],
        reason=row["reason"],
        version=row["version"],
        bulk_run_id=row["bulk_run_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        handed_off=bool(row["handed_off_at"]),
        last_run=last_run,
    )


# ---- writes ----------------------------------------------------------------------------------
def insert(conn: sqlite3.Connection, new: NewSchedule) -> int:
    now = utcnow()
    cur = conn.execute(
        """INSERT INTO schedules (account_id, kind, body, sender, bulk_run_id, recipient_count, recurrence,
             first_local, zone, next_run_utc, state, location, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?)""",
        (
            new.account_id,
            new.kind,
            new.body,
            new.sender,
            new.bulk_run_id,
            len(new.recipients),
            new.recurrence.to_json(),
            new.first_local.isoformat(timespec="seconds"),
            new.zone,
            new.next_run_utc,
            new.location,
            now,
            now,
        ),
    )
    sid = int(cur.lastrowid or 0)
    replace_recipients(conn, sid, new.recipients)
    return sid


def replace_recipients(conn: sqlite3.Connection, sid: int, recipients: Iterable[tuple[str, str | None]]) -> int:
    conn.execute("DELETE FROM schedule_recipients WHERE schedule_id = ?", (sid,))
    rows = [(sid, i, num, body) for i, (num, body) in enumerate(recipients)]
    conn.executemany("INSERT INTO schedule_recipients (schedule_id, position, number, body) VALUES (?, ?, ?, ?)", rows)
    conn.execute("UPDATE schedules SET recipient_count = ? WHERE id = ?", (len(rows), sid))
    return len(rows)


def update_item(conn: sqlite3.Connection, sid: int, version: int, states: Sequence[str], **fields: Any) -> None:
    """Set ``fields`` on item ``sid`` if it is still at ``version`` and in one of ``states``.

    Raises:
        Conflict: someone (a dispatcher, another window) changed it first.
    """
    cols = ", ".join(f"{k} = ?" for k in fields)
    marks = ",".join("?" * len(states))
    cur = conn.execute(
        f"""UPDATE schedules SET {cols}{", " if cols else ""}version = version + 1, updated_at = ?
            WHERE id = ? AND version = ? AND state IN ({marks}) AND {NOT_HANDING_OFF}""",
        (*fields.values(), utcnow(), sid, version, *states),
    )
    if cur.rowcount != 1:
        raise Conflict(sid)


def claim(conn: sqlite3.Connection, sid: int, version: int, due: str, me: str) -> bool:
    """Take a due item for this dispatcher; exactly one dispatcher wins (same transaction as the run)."""
    cur = conn.execute(
        """UPDATE schedules SET state = 'running', claimed_by = ?, version = version + 1, updated_at = ?
           WHERE id = ? AND version = ? AND next_run_utc = ? AND state IN ('scheduled', 'held')""",
        (me, utcnow(), sid, version, due),
    )
    return cur.rowcount == 1


def start_run(conn: sqlite3.Connection, sid: int, due: str, me: str, note: str = "", skipped: int = 0) -> int:
    cur = conn.execute(
        "INSERT INTO schedule_runs (schedule_id, due_utc, started_at, note, skipped, dispatcher)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (sid, due, utcnow(), note, skipped, me),
    )
    return int(cur.lastrowid or 0)


def link_messages(conn: sqlite3.Connection, run_id: int, message_ids: Iterable[int]) -> None:
    conn.executemany(
        "INSERT INTO schedule_messages (message_id, run_id) VALUES (?, ?)", [(m, run_id) for m in message_ids]
    )


def finish_runs(conn: sqlite3.Connection) -> list[int]:
    """Close runs whose messages have all left the outbox; running items go back to waiting.

    Returns the ids of items that changed (a one-off becomes ``done``; a recurring item
    ``scheduled`` again, or ``done`` when it has no next run).
    """
    rows = conn.execute(
        """SELECT r.id, r.schedule_id FROM schedule_runs r WHERE r.state = 'running'
             AND NOT EXISTS (SELECT 1 FROM schedule_messages sm JOIN messages m ON m.id = sm.message_id
                             WHERE sm.run_id = r.id AND m.status IN ('scheduled', 'queued')
                               AND NOT (m.status = 'scheduled' AND m.provider_message_id IS NOT NULL))"""
    ).fetchall()
    changed: list[int] = []
    now = utcnow()
    for r in rows:
        conn.execute("UPDATE schedule_runs SET state = 'done', finished_at = ? WHERE id = ?", (now, r["id"]))
        cur = conn.execute(
            """UPDATE schedules SET state = CASE WHEN next_run_utc IS NULL THEN 'done' ELSE 'scheduled' END,
                 claimed_by = NULL, version = version + 1, updated_at = ?
               WHERE id = ? AND state = 'running'""",
            (now, r["schedule_id"]),
        )
        if cur.rowcount:
            changed.append(int(r["schedule_id"]))
    return changed


def run_message_ids(conn: sqlite3.Connection, sid: int, statuses: Sequence[str], unclaimed: bool = True) -> list[int]:
    marks = ",".join("?" * len(statuses))
    sql = f"""SELECT m.id FROM schedule_messages sm JOIN schedule_runs r ON r.id = sm.run_id
              JOIN messages m ON m.id = sm.message_id
              WHERE r.schedule_id = ? AND m.status IN ({marks})"""
    if unclaimed:
        sql += " AND m.claimed_by IS NULL"
    return [int(r[0]) for r in conn.execute(sql, (sid, *statuses)).fetchall()]


def hold_messages(conn: sqlite3.Connection, ids: Sequence[int], raw: str) -> None:
    """Take unsent, unclaimed messages out of the outbox (pause). Nothing has gone, so moving a
    ``queued`` row back to ``scheduled`` is a person's decision, not a receipt going backwards."""
    now = utcnow()
    for mid in ids:
        cur = conn.execute(
            """UPDATE messages SET status = 'scheduled', send_at = NULL, raw_status = ?, updated_at = ?
               WHERE id = ? AND status IN ('queued', 'scheduled') AND claimed_by IS NULL
                 AND provider_message_id IS NULL""",
            (raw, now, mid),
        )
        if cur.rowcount:
            conn.execute(
                "INSERT INTO message_transitions (message_id, status, raw_status, at) VALUES (?, 'scheduled', ?, ?)",
                (mid, raw, now),
            )


def release_messages(conn: sqlite3.Connection, plan: Sequence[tuple[int, str | None, str]]) -> None:
    """Resume: each (id, send_at or None for now, raw status) goes back to the outbox."""
    now = utcnow()
    for mid, send_at, raw in plan:
        if send_at is None:
            conn.execute(
                """UPDATE messages SET status = 'queued', send_at = NULL, raw_status = ?, updated_at = ?
                   WHERE id = ? AND status = 'scheduled' AND claimed_by IS NULL""",
                (raw, now, mid),
            )
            conn.execute(
                "INSERT INTO message_transitions (message_id, status, raw_status, at) VALUES (?, 'queued', ?, ?)",
                (mid, raw, now),
            )
        else:
            conn.execute(
                """UPDATE messages SET send_at = ?, raw_status = ?, updated_at = ?
                   WHERE id = ? AND status = 'scheduled' AND claimed_by IS NULL""",
                (send_at, raw, now, mid),
            )


def cancel_messages(conn: sqlite3.Connection, ids: Sequence[int], reason: str) -> list[int]:
    done = []
    for mid in ids:
        row = conn.execute("SELECT claimed_by FROM messages WHERE id = ?", (mid,)).fetchone()
        if row is None or row["claimed_by"] is not None:
            continue  # a dispatcher is sending it right now: it is no longer ours to stop
        if msg_store.apply_status(conn, mid, Status.CANCELLED, "cancelled", reason):
            done.append(mid)
    return done


def dead_hand_offs(conn: sqlite3.Connection, alive_since: str, me: str) -> list[sqlite3.Row]:
    """Provider hand-offs claimed by a process that is gone (a dead process of this computer, or
    a heartbeat older than ``alive_since``): (id, claimed_by) rows. Only reads."""
    rows = conn.execute(
        """SELECT s.id, s.claimed_by, kv.value FROM schedules s LEFT JOIN kv ON kv.key = 'dispatcher:' || s.claimed_by
           WHERE s.state = 'scheduled' AND s.location = 'provider' AND s.claimed_by IS NOT NULL
             AND s.claimed_by != ?""",
        (me,),
    ).fetchall()
    return [r for r in rows if msg_store.claimer_gone(r["claimed_by"], r["value"], alive_since)]


def abandon_dead_hand_offs(conn: sqlite3.Connection, alive_since: str, me: str, now: str) -> list[int]:
    """Provider hand-offs left half-done by a process that died (:func:`dead_hand_offs`): the
    provider may or may not hold the messages, so they go to review rather than being sent
    again. Returns the item ids."""
    rows = dead_hand_offs(conn, alive_since, me)
    for r in rows:
        ids = conn.execute(
            "SELECT id FROM messages WHERE claimed_by = ? AND status = 'scheduled'", (r["claimed_by"],)
        ).fetchall()
        for (mid,) in ids:
            msg_store.apply_status(
                conn,
                mid,
                Status.NEEDS_REVIEW,
                "interrupted",
                "smsdesk stopped while handing this to the provider; it may be scheduled there.",
            )
        conn.execute(
            """UPDATE schedules SET claimed_by = NULL, handed_off_at = ?, state = 'done', version = version + 1,
                 reason = 'smsdesk stopped while handing this to the provider; check its messages before resending.'
               WHERE id = ?""",
            (now, r["id"]),
        )
    return [int(r["id"]) for r in rows]


def promote_due(conn: sqlite3.Connection, now: str) -> list[int]:
    """Locally scheduled messages whose time has come join the outbox (quiet-hour deferrals,
    and messages SendService stored as ``scheduled``). Rows handed to a provider, paused rows
    (``send_at`` NULL) and rows being handed off (claimed) stay. A row whose number opted out
    while it waited is rejected instead, with the reason. Returns every id that changed."""
    rows = conn.execute(
        """SELECT id FROM messages WHERE status = 'scheduled' AND direction = 'out'
             AND provider_message_id IS NULL AND claimed_by IS NULL
             AND send_at IS NOT NULL AND send_at <= ?""",
        (now,),
    ).fetchall()
    due = [int(r[0]) for r in rows]
    rejected = msg_store.reject_opted_out(conn, due)
    gone = set(rejected)
    ids = [mid for mid in due if mid not in gone]
    for mid in ids:
        msg_store.apply_status(conn, mid, Status.QUEUED, "due")
    # Its time has come: the dispatcher must send it now, not hand the provider a send time
    # (a future send_at on a queued row means provider-side scheduling to the dispatcher, and
    # another process's clock may be a little behind ours).
    conn.executemany("UPDATE messages SET send_at = NULL WHERE id = ?", [(m,) for m in ids])
    return ids + rejected


# ---- reads -----------------------------------------------------------------------------------
class ScheduleRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _last_runs(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.query(
            f"""SELECT r.* FROM schedule_runs r WHERE r.id IN
                  (SELECT max(id) FROM schedule_runs WHERE schedule_id IN ({marks}) GROUP BY schedule_id)""",
            tuple(ids),
        )
        out = {}
        for r in rows:
            out[r["schedule_id"]] = self._run_dict(r)
        return out

    def _run_dict(self, r: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": r["id"],
            "due": r["due_utc"],
            "started": r["started_at"],
            "finished": r["finished_at"],
            "state": r["state"],
            "note": r["note"],
            "skipped": r["skipped"],
            "counts": self.run_counts(r["id"]),
        }

    def items(self, include_finished: bool = True, limit: int = 1000) -> list[ScheduleItem]:
        where = "" if include_finished else " WHERE s.state NOT IN ('done', 'cancelled')"
        rows = self.db.query(
            _SELECT
            + where
            + """ ORDER BY CASE s.state WHEN 'held' THEN 0 WHEN 'running' THEN 1
                 WHEN 'scheduled' THEN 2 WHEN 'paused' THEN 3 ELSE 4 END,
                 s.next_run_utc IS NULL, s.next_run_utc, s.id DESC LIMIT ?""",
            (limit,),
        )
        runs = self._last_runs([r["id"] for r in rows])
        return [row_to_item(r, runs.get(r["id"])) for r in rows]

    def get(self, sid: int) -> ScheduleItem | None:
        row = self.db.query_one(_SELECT + " WHERE s.id = ?", (sid,))
        return row_to_item(row, self._last_runs([sid]).get(sid)) if row else None

    def recipients(self, sid: int) -> list[tuple[str, str | None]]:
        rows = self.db.query(
            "SELECT number, body FROM schedule_recipients WHERE schedule_id = ? ORDER BY position", (sid,)
        )
        return [(r["number"], r["body"]) for r in rows]

    def first_recipients(self, sids: Sequence[int], n: int) -> dict[int, list[str]]:
        """The first ``n`` numbers of each item, in the order given (a primary-key range each)."""
        out: dict[int, list[str]] = {}
        for i in range(0, len(sids), 500):
            chunk = list(sids[i : i + 500])
            rows = self.db.query(
                f"""SELECT schedule_id, number FROM schedule_recipients
                    WHERE schedule_id IN ({",".join("?" * len(chunk))}) AND position < ?
                    ORDER BY schedule_id, position""",
                (*chunk, n),
            )
            for r in rows:
                out.setdefault(int(r["schedule_id"]), []).append(str(r["number"]))
        return out

    def due(self, now: str) -> list[ScheduleItem]:
        rows = self.db.query(
            _SELECT + " WHERE s.state = 'scheduled' AND s.next_run_utc IS NOT NULL AND s.next_run_utc <= ?"
            " AND (s.location = 'local' OR s.handed_off_at IS NULL) AND s.claimed_by IS NULL"
            " ORDER BY s.next_run_utc LIMIT 200",
            (now,),
        )
        return [row_to_item(r) for r in rows]

    def provider_passed(self, now: str) -> list[int]:
        rows = self.db.query(
            "SELECT id FROM schedules WHERE state = 'scheduled' AND location = 'provider'"
            " AND handed_off_at IS NOT NULL AND next_run_utc <= ?",
            (now,),
        )
        return [int(r[0]) for r in rows]

    def housekeeping_due(self, now: str) -> bool:
        """Whether :func:`promote_due` or :func:`finish_runs` would have anything to do."""
        row = self.db.query_one(
            """SELECT EXISTS (SELECT 1 FROM messages WHERE status = 'scheduled' AND direction = 'out'
                                AND provider_message_id IS NULL AND claimed_by IS NULL
                                AND send_at IS NOT NULL AND send_at <= ?)
                   OR EXISTS (SELECT 1 FROM schedule_runs WHERE state = 'running')""",
            (now,),
        )
        return bool(row and row[0])

    def held_count(self) -> int:
        row = self.db.query_one("SELECT count(*) FROM schedules WHERE state = 'held'")
        return int(row[0]) if row else 0

    def runs(self, sid: int, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM schedule_runs WHERE schedule_id = ? ORDER BY id DESC LIMIT ?", (sid, limit))
        return [self._run_dict(r) for r in rows]

    def run_counts(self, run_id: int) -> dict[str, int]:
        rows = self.db.query(
            """SELECT m.status, count(*) AS n FROM schedule_messages sm JOIN messages m ON m.id = sm.message_id
               WHERE sm.run_id = ? GROUP BY m.status""",
            (run_id,),
        )
        return {r["status"]: int(r["n"]) for r in rows}

    def message_ids(self, sid: int) -> list[int]:
        rows = self.db.query(
            """SELECT sm.message_id FROM schedule_messages sm JOIN schedule_runs r ON r.id = sm.run_id
               WHERE r.schedule_id = ? ORDER BY sm.message_id""",
            (sid,),
        )
        return [int(r[0]) for r in rows]

    def provider_scheduled(self, sid: int) -> list[sqlite3.Row]:
        """Messages of ``sid`` waiting at the provider (``scheduled`` with a provider id)."""
        return self.db.query(
            """SELECT m.id, m.provider_message_id, m.send_at FROM schedule_messages sm
               JOIN schedule_runs r ON r.id = sm.run_id JOIN messages m ON m.id = sm.message_id
               WHERE r.schedule_id = ? AND m.status = 'scheduled' AND m.provider_message_id IS NOT NULL""",
            (sid,),
        )


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)


__all__ = [
    "Conflict",
    "NewSchedule",
    "ScheduleRepository",
    "claim",
    "counts_text",
    "finish_runs",
    "insert",
    "promote_due",
    "update_item",
]


def end_bulk_run(conn: sqlite3.Connection, item: ScheduleItem) -> None:
    """A scheduled bulk send that will not run (cancelled, or its only run skipped) ends its import
    run too, in the same transaction: else the run stays "scheduled" for ever and the same file
    is refused as "already being sent"."""
    if item.bulk_run_id is not None:
        bulk_store.set_state(conn, item.bulk_run_id, "cancelled", BULK_ACTIVE)
        bulk_store.cancel_unsent(conn, item.bulk_run_id)
