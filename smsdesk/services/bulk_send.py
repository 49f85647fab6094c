"""BulkSendService: a validated import becomes a persisted run that the dispatcher sends.

How a run travels:

1. :meth:`BulkSendService.start` stores the run and one item per data row (accepted or
   rejected, with its reason) in one transaction. Nothing is sent before that commit.
2. Send now: the run feeds the outbox a window at a time (``storage.bulk_sends.materialise``:
   the next rows in file order become ``queued`` messages with ``run_id`` in the same
   transaction that links them). The dispatcher sends them, through the provider's bulk
   endpoint where the adapter has one, else singly within the account's concurrency and
   rate limit. The window keeps 100,000 rows from flooding the outbox, makes pause act
   within a window, and lets progress move smoothly.
   Schedule: the scheduled queue (``SchedulerService``) takes the recipients and their
   personalised texts; it makes the messages, with this run's id, when the time comes.
3. Pause / resume / cancel change the run's state; the dispatcher does not claim messages
   of a paused or cancelled run (a filter in its row query and in its claim transaction).
   Cancel also cancels the run's messages still waiting.
4. After a crash or kill: :meth:`recover` (called at start) marks the rows a dead process
   of this computer was sending as ``needs_review`` (they may have gone out; never resent)
   and the window continues from the first row without a message. A row becomes a
   message once (its item is linked in the same transaction), so nobody gets it twice.

Progress is announced as ``Changes(bulk=True)``; views read :meth:`progress`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from smsdesk.domain.errors import InvalidInput, NotFound, OverLimit, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.cpu_pool import CpuPool
from smsdesk.services.imports.mapping import NAME, PHONE, ColumnMapping
from smsdesk.services.imports.readers import Table
from smsdesk.services.imports.validate import ACCEPTED, REASONS, Report, ValidationContext
from smsdesk.services.ports import OutboxHandle, ScheduledQueue
from smsdesk.services.spending import SpendGuard
from smsdesk.storage.api import BulkSendStore
from smsdesk.storage.records import BULK_ACTIVE, NewItem, NewRun, RunRow

log = logging.getLogger(__name__)

WINDOW = 2000
PAST_GRACE = timedelta(minutes=1)  # as the scheduled queue: a time picked a moment ago is now
_PASS_MIN_S = 0.1


@dataclass(slots=True)
class BulkSendRequest:
    """Everything needed to start a run from a validated import."""

    account_id: int
    table: Table
    mapping: ColumnMapping
    report: Report
    template: str
    source: str = ""
    source_hash: str = ""
    send_at: datetime | None = None  # None: now
    group: str | None = None  # save the accepted recipients as this contact group
    contact_policy: str = "merge"
    sender: str | None = None
    over_limit_ok: bool = False  # the person agreed to go over the account's monthly spending limit


@dataclass(slots=True)
class BulkSendProgress:
    """Counts a progress bar needs. ``finished`` counts rows that left the outbox."""

    run_id: int
    state: str
    rows_in: int
    accepted: int
    rejected: int
    waiting: int = 0
    sending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    needs_review: int = 0
    cancelled: int = 0
    scheduled: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> int:
        return self.sent + self.delivered + self.failed + self.needs_review + self.cancelled

    @property
    def done(self) -> bool:
        return self.state in ("done", "cancelled")

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "state": self.state,
            "rows": self.rows_in,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "waiting": self.waiting,
            "sending": self.sending,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "needs_review": self.needs_review,
            "cancelled": self.cancelled,
            "scheduled": self.scheduled,
        }


def file_hash(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_items(table: Table, mapping: ColumnMapping, report: Report) -> list[NewItem]:
    """One stored item per data row: accepted rows keep text and contact fields, rejects their cells."""
    items: list[NewItem] = []
    for chunk in iter_items(table, mapping, report, len(report.items) or 1):
        items += chunk
    return items


def iter_items(table: Table, mapping: ColumnMapping, report: Report, chunk: int = 2000) -> Iterator[list[NewItem]]:
    """:func:`build_items` in chunks, so an event loop can breathe between them."""
    name_col = mapping.name
    own = {k: i for k, i in mapping.fields.items() if k not in (PHONE, NAME) and k not in mapping.first_word}
    out: list[NewItem] = []
    for r in report.items:
        row = table.rows[r.index]
        if r.status == ACCEPTED:
            name = row[name_col].strip() if name_col is not None and name_col < len(row) else ""
            fields = {k: row[i] for k, i in own.items() if i < len(row) and row[i].strip()}
            out.append(NewItem(r.row, r.status, r.number, None, "", r.text, r.segments, r.encoding, (), name, fields))
        else:
            out.append(NewItem(r.row, r.status, r.number, r.reason, r.detail, cells=row))
        if len(out) >= chunk:
            yield out
            out = []
    if out:
        yield out


class BulkSendService:
    def __init__(
        self,
        repo: BulkSendStore,
        accounts: AccountService,
        bus: EventBus,
        outbox: OutboxHandle,
        scheduler: ScheduledQueue | None = None,
        window: int = WINDOW,
        spending: SpendGuard | None = None,
        cpu: CpuPool | None = None,
    ) -> None:
        """``scheduler``: where a run for later goes (None: its messages are stored as scheduled);
        ``spending``: the accounts' monthly spending limits; ``cpu``: worker processes that
        check a big file's rows (:mod:`smsdesk.services.cpu_pool`)."""
        self.repo = repo
        self.spending = spending
        self.cpu = cpu
        self.accounts = accounts
        self.bus = bus
        self._kick = outbox.kick
        self._scheduler = scheduler
        self.me = outbox.id
        self.window = max(1, window)
        self._wake = asyncio.Event()
        self._stopping = False
        self._last: dict[int, tuple[int, ...]] = {}
        self._unsubscribe: Callable[[], None] | None = None

    # ---- validation inputs ---------------------------------------------------------------
    def context(self, account_id: int | None, contact_policy: str = "merge") -> ValidationContext:
        """Opt-outs, saved contacts and the account's price per segment, for validation."""
        price: float | None = None  # unknown until the account says: estimates say "cost unknown"
        if account_id is not None:
            try:
                price = self.accounts.price_per_segment(self.accounts.get(account_id))
            except SmsdeskError:
                price = None
        how = self.repo.optout_how()
        return ValidationContext(
            optouts=how,  # also answers for an erased person's opted-out number
            optout_how=how,
            contacts=self.repo.contact_numbers(),
            contact_policy=contact_policy,
            price_per_segment=price,
            prices=None if account_id is None else self.accounts.prices(account_id),
        )

    # ---- starting ------------------------------------------------------------------------
    def over_limit(self, account_id: int, cost: float | None) -> str:
        """Why a run costing ``cost`` would go over the account's monthly limit ("" when it would not)."""
        return self.spending.over_limit(account_id, cost) if self.spending is not None else ""

    async def start(self, req: BulkSendRequest) -> RunRow:
        """Store the run and start (or schedule) it.

        Raises:
            InvalidInput: nothing accepted, an incomplete validation, or the same file is
                already being sent on this account (resume that run instead).
        """
        report = req.report
        if not report.complete:
            raise InvalidInput("Validation was cancelled; validate the whole file before sending.")
        if report.accepted == 0:
            raise InvalidInput("No row was accepted; there is nothing to send.")
        if report.rows != report.accepted + report.rejected:  # the invariant, checked where it matters
            raise SmsdeskError("Row accounting failed; nothing was stored.")
        if req.source_hash:
            other = self.repo.unfinished_for(req.account_id, req.source_hash)
            if other is not None:
                raise InvalidInput(
                    f"This file is already being sent as run {other.id} ({other.state}); "
                    f"resume that run instead of starting it again."
                )
        over = self.over_limit(req.account_id, report.cost)
        if over and not req.over_limit_ok:
            raise InvalidInput(f"{over} Tick 'Send over the limit' to send anyway, or raise the limit in Settings.")
        account = self.accounts.get(req.account_id)
        sender = req.sender or account.sender or "smsdesk"
        send_at_iso = None
        state = "running"
        if req.send_at is not None and req.send_at.astimezone(UTC) < datetime.now(UTC) - PAST_GRACE:
            # A time that has gone is a mistake, not "now": say so rather than send at once.
            raise InvalidInput(f"{req.send_at:%d %b %Y %H:%M} is in the past; pick a later time or send now.")
        if req.send_at is not None and req.send_at.astimezone(UTC) > datetime.now(UTC):
            send_at_iso = req.send_at.astimezone(UTC).isoformat(timespec="milliseconds")
            state = "scheduled"
        new = NewRun(
            req.account_id,
            req.source,
            req.source_hash,
            req.template,
            sender,
            req.table.headers,
            report.rows,
            report.accepted,
            report.rejected,
            report.by_reason,
            state,
            send_at_iso,
        )
        items: list[NewItem] = []
        for chunk in iter_items(req.table, req.mapping, report):
            items += chunk
            await asyncio.sleep(0)  # 100,000 rows are ~0.5 s of Python: never in one go on the GUI loop
        group = (req.group or "").strip()
        merge = req.contact_policy != "skip"

        # Checked again as it is written, with its own rows: another desktop's run or send
        # written meanwhile may leave no room for it.
        cap = None if req.over_limit_ok or self.spending is None else self.spending.cap(req.account_id)
        try:
            run_id = await self.repo.create(
                new,
                items,
                group,
                merge,
                account.name,
                cap,
                rows=report.rows,
                accepted=report.accepted,
                at=send_at_iso,
            )
        except OverLimit as exc:
            raise InvalidInput(
                f"{exc} Nothing was sent. Tick 'Send over the limit' to send anyway, or raise the limit in Settings."
            ) from exc
        if state == "scheduled":
            await self._schedule(run_id, req, account.id)
        else:
            await self.pump(run_id)
        self.bus.publish(Changes(bulk=True, contacts=bool(group)))
        self._wake.set()
        return self.get(run_id)

    async def _schedule(self, run_id: int, req: BulkSendRequest, account_id: int) -> None:
        assert req.send_at is not None
        scheduler = self._scheduler
        accepted = [r for r in req.report.items if r.status == ACCEPTED]
        if scheduler is not None:
            from smsdesk.services.scheduler import ScheduleRequest

            item = await scheduler.create(
                ScheduleRequest(
                    account_id,
                    [r.number for r in accepted if r.number],
                    req.template or (accepted[0].text or ""),
                    req.send_at,
                    personalised={r.number: r.text or "" for r in accepted if r.number},
                    bulk_run_id=run_id,
                    sender=req.sender,
                )
            )
            await self.repo.link_schedule(run_id, item.id)
            return
        # No scheduled queue in this process: store the messages as scheduled ourselves.
        await self.repo.store_scheduled(run_id, req.send_at.astimezone(UTC).isoformat(timespec="milliseconds"))

    # ---- control -------------------------------------------------------------------------
    def get(self, run_id: int) -> RunRow:
        run = self.repo.get(run_id)
        if run is None:
            raise NotFound(f"No bulk run {run_id}.")
        return run

    async def pause(self, run_id: int) -> bool:
        ok = await self.repo.change_state(run_id, "paused", ("running",), "bulk.pause")
        if ok:
            self.bus.publish(Changes(bulk=True))
        return bool(ok)

    async def resume(self, run_id: int) -> bool:
        ok = await self.repo.change_state(run_id, "running", ("paused",), "bulk.resume")
        if ok:
            await self.pump(run_id)
            self._kick()
            self.bus.publish(Changes(bulk=True))
        return bool(ok)

    async def cancel(self, run_id: int) -> int:
        """Stop a run: nothing more is sent; returns how many waiting messages were cancelled."""
        run = self.get(run_id)
        ids = await self.repo.cancel(run_id)
        if ids is None:
            return 0
        scheduler = self._scheduler
        if run.schedule_id and scheduler is not None:
            try:
                await scheduler.cancel(run.schedule_id)
            except SmsdeskError as exc:
                log.info("cancelling the scheduled part of run %s: %s", run_id, exc)
        self.bus.publish(Changes(message_ids=set(ids), bulk=True))
        return len(ids)

    # ---- the loop --------------------------------------------------------------------------
    async def pump(self, run_id: int) -> int:
        """Top the run's window up; returns how many messages were queued."""
        run = self.repo.get(run_id)
        if run is None or run.state != "running":
            return 0
        room = self.window - self.repo.in_outbox(run_id)
        if room <= 0 or not self.repo.unmaterialised(run_id):
            return 0
        ids = await self.repo.queue_next(run_id, room)
        if ids:
            self.bus.publish(Changes(message_ids=set(ids), bulk=True))
            self._kick()
        return len(ids)

    async def recover(self) -> None:
        """After a restart: account for interrupted sends, then carry on with active runs."""
        for run in self.repo.runs(BULK_ACTIVE):
            ids = await self.repo.recover(run.id, self.me)
            if ids:
                log.info("bulk run %s: %d interrupted sends marked for review", run.id, len(ids))
                self.bus.publish(Changes(message_ids=set(ids), bulk=True))
            await self.pump(run.id)

    def _on_changes(self, changes: Changes) -> None:
        if changes.message_ids:
            self._wake.set()

    async def run(self) -> None:
        """Keep active runs' windows full and close finished runs, until :meth:`stop`."""
        self._unsubscribe = self.bus.subscribe(self._on_changes)
        try:
            await self.recover()
            while not self._stopping:
                self._wake.clear()
                try:
                    await self.tick()
                except SmsdeskError:
                    log.exception("bulk run pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                await asyncio.sleep(_PASS_MIN_S)  # coalesce bursts of receipts into one pass
        finally:
            if self._unsubscribe is not None:
                self._unsubscribe()

    async def tick(self) -> None:
        for run in self.repo.runs(("running", "scheduled")):
            if run.state == "running":
                await self.pump(run.id)
            if self._finished(run) and await self.repo.change_state(run.id, "done", ("running", "scheduled")):
                self.bus.publish(Changes(bulk=True))

    def _finished(self, run: RunRow) -> bool:
        # Index-only checks: this runs on every pass, and a GROUP BY over a 100,000-message run
        # on the GUI loop would stall the window.
        if self.repo.unmaterialised(run.id):
            return False
        return self.repo.has_messages(run.id) and not self.repo.has_waiting(run.id)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    # ---- reading -------------------------------------------------------------------------
    def progress(self, run_id: int) -> BulkSendProgress:
        """Counts for a progress bar (one indexed pass over the run's messages).

        Views with big runs call this from a worker thread (it only reads).
        """
        run = self.get(run_id)
        counts, sending = self.repo.message_counts_claimed(run_id)
        not_made = self.repo.unmaterialised(run_id) if run.state != "scheduled" else 0
        p = BulkSendProgress(run.id, run.state, run.rows_in, run.accepted, run.rejected, by_status=counts)
        p.sending = sending
        p.waiting = counts.get("queued", 0) - sending + (not_made if run.state != "cancelled" else 0)
        p.scheduled = counts.get("scheduled", 0) + (
            run.accepted - sum(counts.values()) if run.state == "scheduled" else 0
        )
        p.sent = counts.get("sent", 0) + counts.get("unknown", 0)
        p.delivered = counts.get("delivered", 0)
        p.failed = counts.get("failed", 0) + counts.get("rejected", 0) + counts.get("expired", 0)
        p.needs_review = counts.get("needs_review", 0)
        p.cancelled = counts.get("cancelled", 0) + (not_made if run.state == "cancelled" else 0)
        return p

    def rejects_csv(self, run_id: int) -> str:
        """The run's rejected rows: original columns, then ``row``, ``reason``, ``detail``."""
        run = self.get(run_id)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow([*run.headers, "row", "reason", "detail"])
        for r in self.repo.rejects(run_id):
            w.writerow([*r.cells, r.row_no, REASONS.get(r.reason, r.reason), r.detail])
        return buf.getvalue()

    def summary(self, run_id: int) -> dict[str, Any]:
        """The end-of-run report: the row accounting and what happened to the accepted rows."""
        run = self.get(run_id)
        p = self.progress(run_id)
        out = p.as_json()
        out.update(
            {
                "source": run.source,
                "by_reason": run.by_reason,
                "created_at": run.created_at,
                "finished_at": run.finished_at,
                "send_at": run.send_at,
            }
        )
        return out

    # ---- what the Bulk page asks (appended: views ask the service, not its repository) ----
    def active_runs(self) -> list[RunRow]:
        """Runs sending now or paused, newest first (a scheduled one waits in the Scheduled queue)."""
        return self.repo.runs(("running", "paused"))
