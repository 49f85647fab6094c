"""Bulk runs, their rows, and the contacts / contact groups an import may save.

A run keeps one ``bulk_run_items`` row per data row of the file (accepted or rejected, with
the reason and, for rejects, the original cells), so the report and the rejects CSV survive
a restart. Accepted rows become outbox messages (``messages.run_id``) a window at a time:
:func:`materialise` takes the next rows without a message, in file order, and links each to
the message it made in the same transaction. A row therefore becomes a message exactly once,
and after a crash the run continues from the first row without one.

Module functions take the writer's connection (the statement layer); the
:class:`BulkSendRepository` methods are what the bulk send service calls: reads, and writes
that are one transaction each.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from smsdesk.domain.optout import how_opted_out
from smsdesk.domain.status import Status
from smsdesk.storage import contact_writes, erasure
from smsdesk.storage import messages as msg_store
from smsdesk.storage.audit import audit
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.dialect import is_postgres
from smsdesk.storage.messages import NewOutgoing
from smsdesk.storage.records import BULK_ACTIVE as ACTIVE
from smsdesk.storage.records import BulkReject, NewItem, NewRun, OptOutHow, RunRow, SpendCap
from smsdesk.storage.spend_cap import PARTS_LEFT_OF_ROWS, check_cap, item_parts

HELD = ("paused", "cancelled")  # the dispatcher does not claim these runs' rows


def _run(row: sqlite3.Row) -> RunRow:
    return RunRow(
        row["id"],
        row["account_id"],
        row["source"],
        row["source_hash"],
        row["template"],
        row["sender"],
        row["state"],
        row["send_at"],
        row["rows_in"],
        row["accepted"],
        row["rejected"],
        json.loads(row["by_reason"] or "{}"),
        json.loads(row["headers"] or "[]"),
        row["group_id"],
        row["schedule_id"],
        row["created_at"],
        row["finished_at"],
    )


def create_run(conn: sqlite3.Connection, run: NewRun, items: Iterable[NewItem]) -> int:
    now = utcnow()
    cur = conn.execute(
        """INSERT INTO bulk_runs (account_id, source, source_hash, template, sender, state, send_at, rows_in,
             accepted, rejected, by_reason, headers, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            run.account_id,
            run.source,
            run.source_hash,
            run.template,
            run.sender,
            run.state,
            run.send_at,
            run.rows_in,
            run.accepted,
            run.rejected,
            json.dumps(run.by_reason),
            json.dumps(list(run.headers)),
            now,
            now,
        ),
    )
    run_id = int(cur.lastrowid or 0)
    conn.executemany(
        """INSERT INTO bulk_run_items (run_id, row_no, status, number, reason, detail, body, segments,
             encoding, cells, name, fields)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            (
                run_id,
                it.row_no,
                it.status,
                it.number,
                it.reason,
                it.detail,
                it.body,
                it.segments,
                it.encoding,
                json.dumps(list(it.cells), ensure_ascii=False) if it.status == "rejected" else "[]",
                it.name,
                json.dumps(it.fields or {}, ensure_ascii=False),
            )
            for it in items
        ),
    )
    if run.state in ("running", "paused"):  # (a scheduled run's rows count once it starts)
        count_parts_left(conn, run_id)
    return run_id


def count_parts_left(conn: sqlite3.Connection, run_id: int) -> None:
    """Set the run's ``parts_left`` from its rows (``storage/spend_cap.py``)."""
    conn.execute(f"UPDATE bulk_runs SET parts_left = {PARTS_LEFT_OF_ROWS} WHERE id = ?", (run_id,))


def set_state(conn: sqlite3.Connection, run_id: int, state: str, allowed_from: Sequence[str]) -> bool:
    marks = ",".join("?" * len(allowed_from))
    done = ", finished_at = ?" if state in ("done", "cancelled") else ""
    params: list[Any] = [state, utcnow()]
    if done:
        params.append(utcnow())
    cur = conn.execute(
        f"UPDATE bulk_runs SET state = ?, updated_at = ?{done} WHERE id = ? AND state IN ({marks})",
        (*params, run_id, *allowed_from),
    )
    return cur.rowcount == 1


def set_schedule(conn: sqlite3.Connection, run_id: int, schedule_id: int) -> None:
    conn.execute("UPDATE bulk_runs SET schedule_id = ? WHERE id = ?", (schedule_id, run_id))
    # The scheduled queue makes these rows' messages; mark them so the run never makes them too.
    conn.execute(
        "UPDATE bulk_run_items SET message_id = 0 WHERE run_id = ? AND status = 'accepted' AND message_id IS NULL",
        (run_id,),
    )
    conn.execute("UPDATE bulk_runs SET parts_left = 0 WHERE id = ?", (run_id,))


def materialise(
    conn: sqlite3.Connection, run_id: int, limit: int, status: Status = Status.QUEUED, send_at: str | None = None
) -> list[int]:
    """Turn the next ``limit`` accepted rows without a message into outbox messages.

    On PostgreSQL several relays top runs up at once: the run's row is locked first, so a
    second relay waits for the first one's commit and then finds those rows materialised
    (read, then write, would otherwise turn each row into two messages). SQLite has one
    writer at a time anyway.
    """
    lock = " FOR UPDATE" if is_postgres(conn) else ""
    run = conn.execute(f"SELECT account_id, sender, state FROM bulk_runs WHERE id = ?{lock}", (run_id,)).fetchone()
    if run is None or run["state"] not in ("running", "paused"):
        return []
    rows = conn.execute(
        """SELECT row_no, number, body, segments, encoding FROM bulk_run_items
           WHERE run_id = ? AND status = 'accepted' AND message_id IS NULL ORDER BY row_no LIMIT ?""",
        (run_id, limit),
    ).fetchall()
    if not rows:
        return []
    # A run can take hours: someone may have replied STOP since the file was checked.
    numbers = [r["number"] for r in rows]
    marks = ",".join("?" * len(numbers))
    opted = {
        o[0]: how_opted_out(o[1], o[2])
        for o in conn.execute(f"SELECT number, source, created_at FROM optouts WHERE number IN ({marks})", numbers)
    }
    opted.update((n, erasure.HOW) for n in erasure.erased_among(conn, [n for n in numbers if n not in opted]))
    items = [
        NewOutgoing(
            run["account_id"],
            r["number"],
            run["sender"],
            r["body"] or "",
            r["segments"] or 0,
            r["encoding"] or "",
            Status.REJECTED if r["number"] in opted else status,
            send_at,
            run_id,
        )
        for r in rows
    ]
    ids = msg_store.insert_outgoing(conn, items)
    conn.executemany(
        "UPDATE bulk_run_items SET message_id = ? WHERE run_id = ? AND row_no = ?",
        ((mid, run_id, r["row_no"]) for mid, r in zip(ids, rows, strict=True)),
    )
    made = sum(item_parts(r["segments"]) for r in rows)  # now messages: spending counts them there
    conn.execute("UPDATE bulk_runs SET parts_left = parts_left - ? WHERE id = ?", (made, run_id))
    if opted:
        conn.executemany(
            "UPDATE messages SET raw_status = 'opted out', error = ? WHERE id = ?",
            (
                (
                    f"Not sent: {it.remote} opted out ({opted[it.remote]}) after the import was checked. "
                    "Send again only if they opt back in.",
                    mid,
                )
                for mid, it in zip(ids, items, strict=True)
                if it.status == Status.REJECTED
            ),
        )
    return ids


def cancel_unsent(conn: sqlite3.Connection, run_id: int) -> list[int]:
    """Cancel the run's messages that no dispatcher holds; rows never materialised stay unsent."""
    rows = conn.execute(
        """SELECT id FROM messages WHERE run_id = ? AND status IN ('queued', 'scheduled') AND claimed_by IS NULL""",
        (run_id,),
    ).fetchall()
    ids = [r[0] for r in rows]
    for mid in ids:
        msg_store.apply_status(conn, mid, Status.CANCELLED, "cancelled", "The bulk run was cancelled.")
    return ids


def held_ids(conn: sqlite3.Connection, ids: Sequence[int]) -> set[int]:
    """Of ``ids``, the messages whose bulk run is paused or cancelled (not to be claimed)."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"""SELECT m.id FROM messages m JOIN bulk_runs b ON b.id = m.run_id
            WHERE m.id IN ({marks}) AND b.state IN ('paused', 'cancelled')""",
        tuple(ids),
    ).fetchall()
    return {r[0] for r in rows}


def recover_interrupted(conn: sqlite3.Connection, run_id: int, me: str) -> list[int]:
    """Rows a killed process of this computer was sending: ``needs_review``, never resent.

    A dead process id of this computer (``messages.claimer_alive_here``) is certain at once,
    so a run resumed right after a crash accounts for them before sending anything else;
    other claims are left to the dispatcher's heartbeat rule (``messages.claimer_gone``).
    """
    rows = conn.execute(
        "SELECT id, claimed_by FROM messages WHERE run_id = ? AND status = 'queued' AND claimed_by IS NOT NULL",
        (run_id,),
    ).fetchall()
    ids = [r["id"] for r in rows if r["claimed_by"] != me and msg_store.claimer_alive_here(r["claimed_by"]) is False]
    for mid in ids:
        msg_store.apply_status(
            conn,
            mid,
            Status.NEEDS_REVIEW,
            "interrupted",
            "smsdesk stopped while this was being sent; it may or may not have gone out. "
            "Check with the recipient before sending again.",
        )
    return ids


def save_group(conn: sqlite3.Connection, name: str, run_id: int, merge: bool = True) -> int:
    """Save the run's accepted recipients as contacts in group ``name``; returns the group id.

    Existing contacts keep their name unless ``merge`` (then an empty name is filled and
    the imported fields are added to theirs).
    """
    now = utcnow()
    conn.execute(
        "INSERT INTO contact_groups (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, now)
    )
    gid = int(conn.execute("SELECT id FROM contact_groups WHERE name = ?", (name,)).fetchone()[0])
    rows = conn.execute(
        "SELECT number, name, fields FROM bulk_run_items WHERE run_id = ? AND status = 'accepted'", (run_id,)
    ).fetchall()
    for r in rows:
        # Any of a contact's numbers finds them; the columns become custom fields by name.
        old = contact_writes.owner_row(conn, r["number"])
        imported = contact_writes.field_names(conn, json.loads(r["fields"] or "{}"))
        if old is None:
            cid = int(
                conn.execute(
                    "INSERT INTO contacts (number, name, fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    (r["number"], r["name"] or "", json.dumps(imported, ensure_ascii=False), now, now),
                ).lastrowid
                or 0
            )
        else:
            cid = int(old["id"])
            if merge:
                fields = json.loads(old["fields"] or "{}")
                fields.update(imported)
                conn.execute(
                    "UPDATE contacts SET name = ?, fields = ?, updated_at = ? WHERE id = ?",
                    (old["name"] or r["name"] or "", json.dumps(fields, ensure_ascii=False), now, cid),
                )
        conn.execute(
            "INSERT INTO contact_group_members (group_id, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING", (gid, cid)
        )
    conn.execute("UPDATE bulk_runs SET group_id = ? WHERE id = ?", (gid, run_id))
    return gid


class BulkSendRepository:
    """Bulk runs for the bulk send service: reads, and writes of one transaction each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- writes --------------------------------------------------------------------------
    async def create(
        self,
        new: NewRun,
        items: Sequence[NewItem],
        group: str,
        merge: bool,
        account_name: str,
        cap: SpendCap | None = None,
        **detail: Any,
    ) -> int:
        """Store a run with all its rows (and save its recipients as ``group``, if named); audited.

        Raises:
            OverLimit: with the run's rows, the account's spending would pass ``cap`` (sends
                written meanwhile by other desktops or runs); nothing was stored.
        """

        def write(conn: sqlite3.Connection) -> int:
            run_id = create_run(conn, new, items)
            check_cap(conn, cap)  # its rows count from now on (storage/spend_cap.py)
            if group:
                save_group(conn, group, run_id, merge)
            audit(conn, "bulk.start", account_name, run=run_id, group=group or None, **detail)
            return run_id

        return await self.db.write(write)

    async def link_schedule(self, run_id: int, schedule_id: int) -> None:
        await self.db.write(lambda c: set_schedule(c, run_id, schedule_id))

    async def store_scheduled(self, run_id: int, send_at: str) -> None:
        """Make every accepted row a message scheduled for ``send_at`` (no scheduled queue runs here)."""

        def start(conn: sqlite3.Connection) -> None:
            if set_state(conn, run_id, "running", ("scheduled",)):
                count_parts_left(conn, run_id)

        await self.db.write(start)
        while await self.db.write(lambda c: materialise(c, run_id, 5000, Status.SCHEDULED, send_at)):
            pass

    async def change_state(self, run_id: int, state: str, allowed_from: Sequence[str], action: str = "") -> bool:
        """Move the run to ``state`` if it is in one of ``allowed_from``; audited as ``action``."""

        def write(conn: sqlite3.Connection) -> bool:
            ok = set_state(conn, run_id, state, allowed_from)
            if ok and action:
                audit(conn, action, str(run_id))
            return ok

        return await self.db.write(write)

    async def cancel(self, run_id: int) -> list[int] | None:
        """Stop an active run; the ids of waiting messages it cancelled, or None (not active)."""

        def write(conn: sqlite3.Connection) -> list[int] | None:
            if not set_state(conn, run_id, "cancelled", ACTIVE):
                return None
            audit(conn, "bulk.cancel", str(run_id))
            return cancel_unsent(conn, run_id)

        return await self.db.write(write)

    async def queue_next(self, run_id: int, room: int) -> list[int]:
        """Make the next ``room`` accepted rows outbox messages (:func:`materialise`)."""
        return await self.db.write(lambda c: materialise(c, run_id, room))

    async def recover(self, run_id: int, me: str) -> list[int]:
        """Send interrupted sends of the run to review (:func:`recover_interrupted`)."""
        return await self.db.write(lambda c: recover_interrupted(c, run_id, me))

    # ---- reads ---------------------------------------------------------------------------

    def get(self, run_id: int) -> RunRow | None:
        row = self.db.query_one("SELECT * FROM bulk_runs WHERE id = ?", (run_id,))
        return _run(row) if row else None

    def runs(self, states: Sequence[str] | None = None, limit: int = 200) -> list[RunRow]:
        if states:
            marks = ",".join("?" * len(states))
            rows = self.db.query(
                f"SELECT * FROM bulk_runs WHERE state IN ({marks}) ORDER BY id DESC LIMIT ?", (*states, limit)
            )
        else:
            rows = self.db.query("SELECT * FROM bulk_runs ORDER BY id DESC LIMIT ?", (limit,))
        return [_run(r) for r in rows]

    def unfinished_for(self, account_id: int, source_hash: str) -> RunRow | None:
        row = self.db.query_one(
            "SELECT * FROM bulk_runs WHERE account_id = ? AND source_hash = ?"
            " AND state IN ('scheduled', 'running', 'paused') ORDER BY id DESC LIMIT 1",
            (account_id, source_hash),
        )
        return _run(row) if row else None

    def message_counts_claimed(self, run_id: int) -> tuple[dict[str, int], int]:
        """Messages per status (from the covering index alone), and queued ones a dispatcher holds.

        Two queries on purpose: reading ``claimed_by`` for every row would visit the table for
        all 100,000 messages of a big run; only the queued window (a few thousand) needs it.
        """
        rows = self.db.query("SELECT status, count(*) AS n FROM messages WHERE run_id = ? GROUP BY status", (run_id,))
        counts = {r["status"]: r["n"] for r in rows}
        claimed = 0
        if counts.get("queued"):
            row = self.db.query_one(
                "SELECT count(*) FROM messages WHERE run_id = ? AND status = 'queued' AND claimed_by IS NOT NULL",
                (run_id,),
            )
            claimed = int(row[0]) if row else 0
        return counts, claimed

    def has_messages(self, run_id: int) -> bool:
        return self.db.query_one("SELECT 1 FROM messages WHERE run_id = ? LIMIT 1", (run_id,)) is not None

    def has_waiting(self, run_id: int) -> bool:
        return (
            self.db.query_one(
                "SELECT 1 FROM messages WHERE run_id = ? AND status IN ('queued', 'scheduled') LIMIT 1", (run_id,)
            )
            is not None
        )

    def unmaterialised(self, run_id: int) -> int:
        row = self.db.query_one(
            "SELECT count(*) FROM bulk_run_items WHERE run_id = ? AND status = 'accepted' AND message_id IS NULL",
            (run_id,),
        )
        return int(row[0]) if row else 0

    def in_outbox(self, run_id: int) -> int:
        row = self.db.query_one("SELECT count(*) FROM messages WHERE run_id = ? AND status = 'queued'", (run_id,))
        return int(row[0]) if row else 0

    def rejects(self, run_id: int) -> list[BulkReject]:
        rows = self.db.query(
            "SELECT row_no, number, reason, detail, cells FROM bulk_run_items WHERE run_id = ? AND status = 'rejected'"
            " ORDER BY row_no",
            (run_id,),
        )
        return [
            BulkReject(r["row_no"], r["number"], r["reason"] or "", r["detail"] or "", json.loads(r["cells"] or "[]"))
            for r in rows
        ]

    def optout_how(self) -> OptOutHow:
        """Each opted-out number and how it got on the list, in words (an erased person's
        opted-out number is found too, by its hash)."""
        plain = {
            r[0]: how_opted_out(r[1], r[2]) for r in self.db.query("SELECT number, source, created_at FROM optouts")
        }
        return OptOutHow(plain, erasure.ErasedLookup(self.db.reader()), erasure.HOW)

    def contact_numbers(self) -> frozenset[str]:
        """Every number of every contact."""
        return frozenset(r[0] for r in self.db.query("SELECT number FROM contact_numbers"))
