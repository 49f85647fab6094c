"""The scheduled queue as the scheduler sees it: reads, and writes of one transaction each.

Each write method is one use case of :class:`smsdesk.services.scheduler.SchedulerService` (create,
edit, cancel, pause, resume, a run, the provider hand-off...), built from the statements of
:mod:`smsdesk.storage.schedule` and :mod:`smsdesk.storage.schedule_handoff`. Methods that change
an item take the version the caller read and raise :class:`~smsdesk.storage.records.Conflict`
when it moved on; nothing is written then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from smsdesk.domain.schedule import ScheduleItem
from smsdesk.storage import schedule as store
from smsdesk.storage import schedule_handoff as handoff
from smsdesk.storage.audit import audit
from smsdesk.storage.db import Database
from smsdesk.storage.records import AuditEntry, NewOutgoing, NewSchedule, ProviderHeld, RunMessages, SpendCap
from smsdesk.storage.schedule import _SELECT, row_to_item
from smsdesk.storage.spend_cap import check_cap


class ScheduleRepository:
    """Schedule items, their recipients, runs and messages (a ``storage.api.ScheduleStore``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- commands ------------------------------------------------------------------------
    async def create(self, new: NewSchedule, account_name: str, **detail: Any) -> int:
        """Store a new item; audited as ``schedule.create``."""

        def write(conn: sqlite3.Connection) -> int:
            sid = store.insert(conn, new)
            audit(conn, "schedule.create", account_name, id=sid, **detail)
            return sid

        return await self.db.write(write)

    async def edit(
        self,
        sid: int,
        version: int,
        states: Sequence[str],
        fields: dict[str, Any],
        recipients: Sequence[tuple[str, str | None]] | None,
        entry: AuditEntry,
    ) -> None:
        """Set ``fields`` (and replace the recipients, unless None) of an item in ``states``."""

        def write(conn: sqlite3.Connection) -> None:
            store.update_item(conn, sid, version, states, **fields)
            if recipients is not None:
                store.replace_recipients(conn, sid, recipients)
            audit(conn, entry.action, entry.subject, **entry.detail)

        await self.db.write(write)

    async def update(self, sid: int, version: int, states: Sequence[str], **fields: Any) -> None:
        """Set ``fields`` of an item still at ``version`` and in one of ``states`` (not audited)."""
        await self.db.write(lambda c: store.update_item(c, sid, version, states, **fields))

    async def cancel(self, item: ScheduleItem, now: str, reason: str) -> tuple[int, int]:
        """Cancel ``item`` and its unsent messages (and its bulk send's import run); returns
        (messages stopped, messages a dispatcher already holds, which may still go)."""

        def write(conn: sqlite3.Connection) -> tuple[int, int]:
            stopped, in_flight = store.cancel_item(conn, item.id, now, reason)
            store.end_bulk_run(conn, item)
            audit(conn, "schedule.cancel", item.account, id=item.id, stopped=stopped)
            return stopped, in_flight

        return await self.db.write(write)

    async def pause(self, item: ScheduleItem) -> None:
        """Pause ``item``; a run in progress holds its unsent rest."""

        def write(conn: sqlite3.Connection) -> None:
            store.update_item(conn, item.id, item.version, (item.state,), state="paused")
            if item.state == "running":
                store.pause_run(conn, item.id)
            audit(conn, "schedule.pause", item.account, id=item.id)

        await self.db.write(write)

    async def resume(
        self, item: ScheduleItem, fields: dict[str, Any], release: Sequence[tuple[int, str | None, str]] | None
    ) -> None:
        """Resume a paused item; a paused run's messages go back as ``release`` says (None: no run)."""

        def write(conn: sqlite3.Connection) -> None:
            store.update_item(conn, item.id, item.version, ("paused",), **fields)
            if release is not None:
                store.resume_run(conn, item.id, release)
            audit(conn, "schedule.resume", item.account, id=item.id)

        await self.db.write(write)

    async def skip(self, item: ScheduleItem, fields: dict[str, Any], ends: bool) -> None:
        """Drop the item's current run; ``ends``: it has no other, so its bulk send ends too."""

        def write(conn: sqlite3.Connection) -> None:
            store.update_item(conn, item.id, item.version, ("held", "scheduled", "paused"), **fields)
            if ends:
                store.end_bulk_run(conn, item)

        await self.db.write(write)

    async def start_run(
        self,
        item: ScheduleItem,
        run: RunMessages,
        due: str,
        me: str,
        new_next: str | None,
        now: bool,
        cap: SpendCap | None = None,
    ) -> list[int] | None:
        """Claim ``item`` for a run (the due one, or ``now``: an extra run asked for by a person)
        and store the run's messages, in one transaction; the message ids, or None when the
        claim was lost (another dispatcher ran it, or it changed since it was read).

        Raises:
            OverLimit: the run's messages would take the account's spending past ``cap``
                (counting sends written meanwhile); nothing was stored or claimed.
        """

        def write(conn: sqlite3.Connection) -> list[int] | None:
            won = (
                store.claim_now(conn, item.id, item.version, me)
                if now
                else store.claim(conn, item.id, item.version, due, me)
            )
            if not won:
                return None
            run_id, ids = store.write_run(conn, item, run, due, me, new_next)
            check_cap(conn, cap)
            audit(conn, "schedule.run", item.account, id=item.id, run=run_id, messages=len(ids), skipped=run.skipped)
            return ids

        return await self.db.write(write)

    async def housekeeping(self, now: str) -> tuple[list[int], list[int]]:
        """Due scheduled messages join the outbox, finished runs close: (message ids, item ids)."""
        return await self.db.write(lambda c: (store.promote_due(c, now), store.finish_runs(c)))

    def dead_hand_offs(self, alive_since: str, me: str) -> bool:
        """Whether a process that is gone left a provider hand-off half done (a read)."""
        return bool(store.dead_hand_offs(self.db.reader(), alive_since, me))

    async def abandon_dead_hand_offs(self, alive_since: str, me: str, now: str) -> list[int]:
        """Send those hand-offs' messages to review and end their items; the item ids."""
        return await self.db.write(lambda c: store.abandon_dead_hand_offs(c, alive_since, me, now))

    # ---- the provider hand-off -------------------------------------------------------------
    async def claim_hand_off(
        self, item: ScheduleItem, due: str, me: str, news: Sequence[NewOutgoing]
    ) -> list[int] | None:
        return await self.db.write(lambda c: handoff.claim(c, item.id, item.version, due, me, news))

    async def record_hand_off(
        self,
        sid: int,
        accepted: Sequence[tuple[int, str, str]],
        refused: Sequence[tuple[int, str]],
        now: str,
        reason: str,
    ) -> None:
        await self.db.write(lambda c: handoff.record(c, sid, accepted, refused, now, reason))

    async def hand_off_failed(self, sid: int, ids: Sequence[int], ambiguous: bool, error: str, now: str) -> None:
        await self.db.write(lambda c: handoff.failed(c, sid, ids, ambiguous, error, now))

    async def withdrawn(self, sid: int, cancelled: Sequence[int], all_of_them: bool, now: str) -> None:
        await self.db.write(lambda c: handoff.withdrawn(c, sid, cancelled, all_of_them, now))

    async def provider_passed_done(self, sids: Sequence[int], now: str) -> None:
        await self.db.write(lambda c: handoff.passed(c, sids, now))

    def waiting_hand_offs(self, now: str) -> list[int]:
        """Provider-side items not handed off yet whose time is still to come (retry them)."""
        rows = self.db.query(
            "SELECT id FROM schedules WHERE state = 'scheduled' AND location = 'provider' AND handed_off_at IS NULL"
            " AND claimed_by IS NULL AND next_run_utc > ?",
            (now,),
        )
        return [int(r[0]) for r in rows]

    # ---- reads -----------------------------------------------------------------------------

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

    async def set_recipients(self, sid: int, recipients: Sequence[tuple[str, str | None]]) -> None:
        await self.db.write(lambda conn: store.replace_recipients(conn, sid, recipients))

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

    def provider_scheduled(self, sid: int) -> list[ProviderHeld]:
        """Messages of ``sid`` waiting at the provider (``scheduled`` with a provider id)."""
        rows = self.db.query(
            """SELECT m.id, m.provider_message_id, m.send_at FROM schedule_messages sm
               JOIN schedule_runs r ON r.id = sm.run_id JOIN messages m ON m.id = sm.message_id
               WHERE r.schedule_id = ? AND m.status = 'scheduled' AND m.provider_message_id IS NOT NULL""",
            (sid,),
        )
        return [ProviderHeld(r["id"], r["provider_message_id"], r["send_at"]) for r in rows]
