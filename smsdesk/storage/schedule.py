"""The scheduled queue: schedule items, their recipients, their runs and the runs' messages.

Tables (migration V2 in ``migrations.py``): ``schedules`` (one row per scheduled send, with the
wall-clock time + IANA zone it was asked for and the next run in UTC), ``schedule_recipients``
(numbers and, for a bulk run, each one's personalised text), ``schedule_runs`` (history) and
``schedule_messages`` (which outbox rows a run made). Messages are linked through the join
table so the shared ``messages`` table needs no new column.

This module is the statement layer: functions taking the writer's connection. The scheduler
calls :class:`smsdesk.storage.schedule_repository.ScheduleRepository`, whose writes are one
transaction each; the provider hand-off's statements are in :mod:`.schedule_handoff`. Every
change to an item bumps ``version``; :func:`claim` and :func:`update_item` succeed only for the
version the caller read, so an edit racing the due loop either lands before the run starts or
is refused.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from smsdesk.domain.schedule import Recurrence, ScheduleItem, counts_text
from smsdesk.domain.status import Status
from smsdesk.storage import bulk_sends as bulk_store
from smsdesk.storage import messages as msg_store
from smsdesk.storage.db import utcnow
from smsdesk.storage.records import BULK_ACTIVE, Conflict, NewSchedule, RunMessages

# An item another process is handing to the provider right now: nobody may change it until
# that finishes (else the provider would hold the old text while the queue shows the new).
NOT_HANDING_OFF = "NOT (state = 'scheduled' AND claimed_by IS NOT NULL)"

# Statuses of a run's messages that still wait in the outbox (the run is not over).
WAITING = ("scheduled", "queued")
_SELECT = """SELECT s.*, a.name AS account_name FROM schedules s JOIN accounts a ON a.id = s.account_id"""


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
        group_id=row["group_id"],
    )


# ---- writes ----------------------------------------------------------------------------------
def insert(conn: sqlite3.Connection, new: NewSchedule) -> int:
    now = utcnow()
    cur = conn.execute(
        """INSERT INTO schedules (account_id, kind, body, sender, bulk_run_id, group_id, recipient_count, recurrence,
             first_local, zone, next_run_utc, state, location, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?)""",
        (
            new.account_id,
            new.kind,
            new.body,
            new.sender,
            new.bulk_run_id,
            new.group_id,
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
            cur = conn.execute(
                """UPDATE messages SET status = 'queued', send_at = NULL, raw_status = ?, updated_at = ?
                   WHERE id = ? AND status = 'scheduled' AND claimed_by IS NULL""",
                (raw, now, mid),
            )
            if cur.rowcount:  # a row that moved on meanwhile (cancelled, say) records no move
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


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)


__all__ = [
    "Conflict",
    "NewSchedule",
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


# ---- the scheduler's commands (one transaction each, called by the repository) ---------------
def claim_now(conn: sqlite3.Connection, sid: int, version: int, me: str) -> bool:
    """Take an item that is not due for a run now ("Send now", a held item's confirmation)."""
    cur = conn.execute(
        """UPDATE schedules SET state = 'running', claimed_by = ?, location = 'local', handed_off_at = NULL,
             version = version + 1 WHERE id = ? AND version = ? AND state IN ('scheduled', 'paused', 'held')
             AND """
        + NOT_HANDING_OFF,
        (me, sid, version),
    )
    return cur.rowcount == 1


def write_run(
    conn: sqlite3.Connection,
    item: ScheduleItem,
    run: RunMessages,
    due: str,
    me: str,
    new_next: str | None,
) -> tuple[int, list[int]]:
    """Store a claimed item's run: its messages (deferred ones marked, opted-out ones rejected with
    the reason), the run's history row and the item's next run. Returns (run id, message ids)."""
    run_id = start_run(conn, item.id, due, me, run.note, run.skipped)
    ids = msg_store.insert_outgoing(conn, run.items)
    for index in run.deferred:
        conn.execute("UPDATE messages SET raw_status = 'quiet hours' WHERE id = ?", (ids[index],))
    for index, why in run.rejected.items():
        conn.execute("UPDATE messages SET raw_status = 'opted out', error = ? WHERE id = ?", (why, ids[index]))
    link_messages(conn, run_id, ids)
    if item.bulk_run_id is not None:
        # The import's run page shows progress, and its Pause holds the rest, from now on.
        bulk_store.set_state(conn, item.bulk_run_id, "running", ("scheduled",))
    conn.execute("UPDATE schedules SET next_run_utc = ?, reason = ? WHERE id = ?", (new_next, run.note, item.id))
    return run_id, ids


def cancel_item(conn: sqlite3.Connection, sid: int, now: str, reason: str) -> tuple[int, int]:
    """Cancel an item and the unsent messages of its current run; (stopped, already with a dispatcher).

    Raises:
        Conflict: it finished, or is being handed to the provider, meanwhile.
    """
    states = ("scheduled", "paused", "held", "running")
    cur = conn.execute(
        "UPDATE schedules SET state = 'cancelled', next_run_utc = NULL, claimed_by = NULL,"
        " version = version + 1, updated_at = ? WHERE id = ? AND state IN (?, ?, ?, ?) AND " + NOT_HANDING_OFF,
        (now, sid, *states),
    )
    if cur.rowcount != 1:
        raise Conflict(sid)
    stopped = cancel_messages(conn, run_message_ids(conn, sid, WAITING), reason)
    in_flight = len(run_message_ids(conn, sid, ("queued",), unclaimed=False))
    conn.execute(
        "UPDATE schedule_runs SET state = 'cancelled', finished_at = ? WHERE schedule_id = ?"
        " AND state IN ('running', 'paused', 'at_provider')",
        (now, sid),
    )
    return len(stopped), in_flight


def pause_run(conn: sqlite3.Connection, sid: int) -> None:
    """Hold the unsent rest of an item's current run."""
    hold_messages(conn, run_message_ids(conn, sid, WAITING), "paused")
    conn.execute("UPDATE schedule_runs SET state = 'paused' WHERE schedule_id = ? AND state = 'running'", (sid,))


def resume_run(conn: sqlite3.Connection, sid: int, plan: Sequence[tuple[int, str | None, str]]) -> None:
    """Put a paused run's messages back (:func:`release_messages`) and mark the run running."""
    release_messages(conn, plan)
    conn.execute("UPDATE schedule_runs SET state = 'running' WHERE schedule_id = ? AND state = 'paused'", (sid,))
