"""The scheduled queue: create, edit, pause, resume, cancel and send-now, plus the due loop.

A schedule item is a promise ("send this at 9 tomorrow") kept in SQLite. The due loop
(:meth:`SchedulerService.run`, started by ``Runtime.start`` wherever a dispatcher runs: the
GUI and ``smsdesk serve``) does, once a second or when kicked:

1. promote locally scheduled messages whose time has come (quiet-hour deferrals and
   ``SendService`` rows stored as ``scheduled``) into the outbox;
2. close runs whose messages have all left the outbox (a recurring item waits again);
3. for each due item: *claim* it in the same write transaction that materialises its
   messages into the outbox and advances its recurrence. The claim checks the version the
   plan was made from, so when the GUI and ``smsdesk serve`` share a database exactly one of
   them makes the run, and an edit racing the loop either lands first or is refused.

An item found more than ``settings.overdue_limit_minutes`` late (smsdesk was not running)
is *held* with a reason until a person confirms (send now) or skips it. Quiet hours (per
account, ``quiet_hours = "21:00-08:00"`` in the recipient's zone) defer single messages, not
the whole run; the run's note says who waits and why. Provider-side scheduling lives in
:mod:`smsdesk.services.scheduler_provider`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from smsdesk.config.settings import Settings
from smsdesk.domain import phone
from smsdesk.domain.errors import InvalidInput, NotFound, OverLimit, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.schedule import (
    QuietHours,
    Recurrence,
    ScheduleItem,
    defer_for_quiet,
    next_run,
    to_local,
)
from smsdesk.domain.segments import analyze
from smsdesk.domain.sender import check_sender
from smsdesk.domain.status import Status
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.groups import GroupService
from smsdesk.services.ports import OutboxHandle
from smsdesk.services.schedule_plan import (
    ScheduleRequest,
    check_request,
    first_run,
    iso,
    make_plan,
    off_loop,
)
from smsdesk.services.schedule_policy import Clock, SchedulePolicy, local_zone_name, utc_now
from smsdesk.services.scheduler_provider import ProviderScheduling
from smsdesk.services.send import SendService
from smsdesk.storage.api import ScheduleStore
from smsdesk.storage.records import AuditEntry, Conflict, NewSchedule

log = logging.getLogger(__name__)
T = TypeVar("T")
DEAD_AFTER_S = 45.0  # as the dispatcher: a process whose heartbeat is older is gone
CHECK_DEAD_S = 10.0  # as the dispatcher's heartbeat: how often to look for a dead process's hand-offs
STARTED = "It has started sending and can no longer be changed; pause or cancel what is left instead."
BULK_TEXT = (
    "The text of a bulk send is personalised for each recipient from its import; to change it, "
    "cancel this send and import the file again with the new message."
)
CONFIRM_OVER = "Confirm to send it anyway (Send now), or skip it."
CHANGED = "It was changed elsewhere (another window or smsdesk serve) a moment ago; look again and retry."


class SchedulerService:
    def __init__(
        self,
        repo: ScheduleStore,
        accounts: AccountService,
        sending: SendService,
        bus: EventBus,
        settings: Settings,
        outbox: OutboxHandle,
        clock: Clock = utc_now,
        zones_for: Callable[[str], Sequence[str]] = phone.time_zones,
        default_zone: Callable[[], str] = local_zone_name,
        groups: GroupService | None = None,
    ) -> None:
        self.accounts = accounts
        self.groups = groups  # a group send takes the members at each run
        self.sending = sending
        self.bus = bus
        self.repo = repo
        self.settings = settings  # overdue_limit_minutes: later than this, a run waits for a person
        self.id = outbox.id
        self.kick_dispatcher = outbox.kick
        self.policy = SchedulePolicy(accounts, clock, zones_for, default_zone)
        self.provider = ProviderScheduling(
            accounts, repo, sending.optouts, sending.messages, bus, self.policy, outbox.id
        )
        self._wake = asyncio.Event()
        self._stopping = False
        # Whether this process does the singleton work: always, but on a team workspace only
        # the relay holding the lease (set by the runtime; a standby relay waits).
        self.leads: Callable[[], bool] = lambda: True

    # ---- reading -----------------------------------------------------------------------------
    def items(self, include_finished: bool = True) -> list[ScheduleItem]:
        return self.repo.items(include_finished)

    def get(self, sid: int) -> ScheduleItem:
        item = self.repo.get(sid)
        if item is None:
            raise NotFound(f"No scheduled send with id {sid}.")
        return item

    def recipients(self, sid: int) -> list[str]:
        return [num for num, _ in self.repo.recipients(sid)]

    def first_recipients(self, sids: list[int], n: int = 3) -> dict[int, list[str]]:
        """The first ``n`` numbers (+E.164) of each item, for a list that names a few."""
        return self.repo.first_recipients(sids, n)

    def history(self, sid: int) -> list[dict[str, Any]]:
        return self.repo.runs(sid)

    def held_count(self) -> int:
        return self.repo.held_count()

    # ---- time and quiet hours (the policy's; assignable, for tests and benchmarks) -----------
    @property
    def clock(self) -> Clock:
        return self.policy.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.policy.clock = clock

    @property
    def default_zone(self) -> Callable[[], str]:
        return self.policy.default_zone

    @default_zone.setter
    def default_zone(self, zone: Callable[[], str]) -> None:
        self.policy.default_zone = zone

    def quiet_hours(self, account_id: int) -> QuietHours | None:
        return self.policy.quiet_hours(account_id)

    def zones(self, number: str, preferred: str) -> tuple[str, ...]:
        return self.policy.zones(number, preferred)

    def quiet_note(self, account_id: int, numbers: Sequence[str], when: datetime) -> str:
        """What quiet hours would do to a send at ``when`` (aware), for a warning before saving."""
        return self.policy.quiet_note(account_id, numbers, when)

    # ---- commands ----------------------------------------------------------------------------
    async def create(self, req: ScheduleRequest) -> ScheduleItem:
        """Validate and store a scheduled send (nothing is sent now).

        Raises:
            InvalidInput: nothing was stored; the message says why.
        """
        account = self.accounts.get(req.account_id)
        if req.group_id is not None:
            req = self._group_request(req)
        recipients = await off_loop(
            len(req.recipients),
            check_request,
            self.accounts,
            self.sending,
            req.account_id,
            req.recipients,
            req.text,
            req.personalised,
        )
        zone_name = req.zone or self.default_zone()
        wall, first = first_run(req.when, zone_name, req.recurrence, self.clock())
        spec = self.accounts.spec(account)
        sender = check_sender(req.sender or account.sender or "smsdesk", numeric_only=spec.numeric_sender_only)
        provider_side = req.provider_side if req.group_id is None else False  # members are taken at each run
        if provider_side is None:  # the account's opt-in; repeating sends stay local (one hand-off per run)
            provider_side = self.provider.wanted(account) and not req.recurrence.repeats
        if provider_side:
            self.provider.check_usable(account, req.recurrence)
        kind = (
            "bulk" if req.bulk_run_id is not None or req.personalised else "multi" if len(recipients) > 1 else "single"
        )
        new = NewSchedule(
            req.account_id,
            kind,
            req.text,
            sender,
            recipients,
            req.recurrence,
            wall,
            zone_name,
            iso(first),
            "provider" if provider_side else "local",
            req.bulk_run_id,
            req.group_id,
        )
        sid = await self.repo.create(
            new,
            account.name,
            recipients=len(recipients),
            at=iso(first),
            repeat=req.recurrence.text(),
            where=new.location,
        )
        self._changed()
        if provider_side:
            await self.provider.hand_off(self.get(sid))
        return self.get(sid)

    def _group_request(self, req: ScheduleRequest) -> ScheduleRequest:
        """``req`` with the group's members now as its recipients (checked like any others)."""
        if self.groups is None:
            raise InvalidInput("Sends to a group cannot be scheduled here.")
        assert req.group_id is not None
        group = self.groups.get(req.group_id)
        rows, left = self.groups.send_list(group.id, req.text)
        if not rows:
            why = f" ({'; '.join(left[:3])})" if left else ""
            raise InvalidInput(f"No one in '{group.name}' can be texted now{why}. Nothing was scheduled.")
        personalised = {number: text for number, text in rows if text is not None}
        return replace(req, recipients=[number for number, _ in rows], personalised=personalised)

    async def edit(
        self,
        sid: int,
        version: int,
        *,
        text: str | None = None,
        when: datetime | None = None,
        zone_name: str | None = None,
        recipients: Sequence[str] | None = None,
        recurrence: Recurrence | None = None,
    ) -> ScheduleItem:
        """Change text, time, zone, recipients or repeat of an item that has not started.

        Raises:
            InvalidInput: bad input, or the item started / changed meanwhile (nothing changed).
        """
        item = self.get(sid)
        if not item.editable:
            raise InvalidInput(STARTED if item.state == "running" else f"It is {item.state_label.lower()}.")
        if item.version != version:
            raise InvalidInput(CHANGED)
        if item.kind == "bulk" and item.group_id is None and text is not None and text != item.body:
            # Each recipient's text was made from the import's template and their row; changing
            # the shared text here would change nothing that is sent. (A group's members get
            # their texts made again from the item's text at each run, so that one can change.)
            raise InvalidInput(BULK_TEXT)
        fields: dict[str, object] = {}
        new_text = item.body if text is None else text
        rcpts: list[tuple[str, str | None]] | None = None
        if recipients is not None or text is not None:
            rcpts = check_request(
                self.accounts,
                self.sending,
                item.account_id,
                recipients if recipients is not None else self.recipients(sid),
                new_text,
                {},
            )
            if recipients is None:  # keep personalised texts when only other fields change
                rcpts = self.repo.recipients(sid)
        if text is not None:
            fields["body"] = new_text
        rule = recurrence or item.recurrence
        zname = zone_name or item.zone
        if when is not None or zone_name is not None or recurrence is not None:
            base = when if when is not None else item.first_local
            wall, first = first_run(base, zname, rule, self.clock())
            fields.update(
                first_local=wall.isoformat(timespec="seconds"),
                zone=zname,
                recurrence=rule.to_json(),
                next_run_utc=iso(first),
            )
            if item.state == "held":
                fields.update(state="scheduled", reason="")
        if item.location == "provider" and item.handed_off:
            await self.provider.withdraw(item)  # raises when the provider cannot cancel
            fields["handed_off_at"] = None
            item = self.get(sid)
        entry = AuditEntry("schedule.edit", item.account, {"id": sid, "fields": sorted(fields)})
        try:
            await self.repo.edit(sid, item.version, ("scheduled", "paused", "held"), fields, rcpts, entry)
        except Conflict as exc:
            raise InvalidInput(STARTED if self.get(sid).state == "running" else CHANGED) from exc
        self._changed()
        fresh = self.get(sid)
        if fresh.location == "provider" and fresh.state == "scheduled":
            await self.provider.hand_off(fresh)
        self.kick()
        return self.get(sid)

    async def cancel(self, sid: int) -> str:
        """Cancel an item; for a run in progress, cancel what has not gone yet. Returns a summary."""
        item = self.get(sid)
        if item.state in ("done", "cancelled"):
            raise InvalidInput(f"It is {item.state_label.lower()} already.")
        withdrawn = await self.provider.withdraw(item) if item.location == "provider" else 0
        try:
            stopped, in_flight = await self.repo.cancel(item, iso(self.clock()), "Cancelled in the scheduled queue.")
        except Conflict as exc:
            raise InvalidInput(CHANGED) from exc
        self._changed(bulk=item.bulk_run_id is not None)
        parts = ["Cancelled."]
        if stopped or withdrawn:
            parts.append(f"{stopped} unsent message(s) stopped.")
        if in_flight:
            parts.append(f"{in_flight} were already being handed to the provider and may still go.")
        return " ".join(parts)

    async def pause(self, sid: int) -> None:
        """Stop an item (or the unsent rest of its current run) until :meth:`resume`."""
        item = self.get(sid)
        if item.state not in ("scheduled", "held", "running"):
            raise InvalidInput(f"It is {item.state_label.lower()}; only waiting or sending items can be paused.")
        if item.location == "provider" and item.handed_off:
            raise InvalidInput("It is scheduled at the provider; cancel it instead (pausing would need a resend).")
        try:
            await self.repo.pause(item)
        except Conflict as exc:
            raise InvalidInput(CHANGED) from exc
        self._changed()

    async def resume(self, sid: int) -> None:
        """Resume a paused item. Recurring runs missed while paused are skipped, not replayed."""
        item = self.get(sid)
        if item.state != "paused":
            raise InvalidInput("Only a paused item can be resumed.")
        now = self.clock()
        paused_run = bool(item.last_run and item.last_run.get("state") == "paused")
        plan: list[tuple[int, str | None, str]] = []
        if paused_run:
            quiet = self.quiet_hours(item.account_id)
            ids = self.repo.message_ids(sid)
            for m in self.sending.messages.get_many(ids):
                if m.status != Status.SCHEDULED or m.raw_status != "paused":
                    continue
                d = defer_for_quiet(now, self.zones(m.remote, item.zone), quiet)
                plan.append((m.id, iso(d.at) if d.reason else None, "quiet hours" if d.reason else "resumed"))
        fields: dict[str, object] = {"state": "running" if paused_run else "scheduled", "reason": ""}
        if not paused_run and item.recurrence.repeats and item.next_run and item.next_run < now:
            nxt = next_run(item.recurrence, item.first_local, item.zone, now)
            fields["next_run_utc"] = iso(nxt) if nxt else None
            fields["reason"] = "Runs missed while paused were skipped."
        try:
            await self.repo.resume(item, fields, plan if paused_run else None)
        except Conflict as exc:
            raise InvalidInput(CHANGED) from exc
        self._changed()
        self.kick()
        self.kick_dispatcher()

    async def send_now(self, sid: int, *, over_limit_ok: bool = False) -> ScheduleItem:
        """Run an item now (also a held item's confirmation).

        An overdue or held run is replaced by this one; a recurring item that was not due yet
        keeps its next run (this is an extra run).

        Raises:
            OverLimit: the run would take its account over the monthly spending limit and
                ``over_limit_ok`` is not set, as a Compose send asks (an item held for that
                reason is not asked about again: Send now is the confirmation it waits for).
        """
        item = self.get(sid)
        if item.state not in ("scheduled", "paused", "held"):
            raise InvalidInput(STARTED if item.state == "running" else f"It is {item.state_label.lower()}.")
        held_for_limit = item.state == "held" and item.reason.endswith(CONFIRM_OVER)
        if not (over_limit_ok or held_for_limit) and (over := self._over_limit(item)):
            raise OverLimit(over)
        if item.location == "provider" and item.handed_off:
            await self.provider.withdraw(item)  # raises when the provider cannot cancel
            item = self.get(sid)
        now = self.clock()
        if item.next_run is None or item.next_run <= now:
            nxt = next_run(item.recurrence, item.first_local, item.zone, now)
            new_next = iso(nxt) if nxt else None
        else:
            new_next = iso(item.next_run)
        if not await self._materialise(item, now, iso(now), new_next, at_once=True):
            raise InvalidInput(CHANGED)
        return self.get(sid)

    async def skip(self, sid: int) -> ScheduleItem:
        """Drop a held (or waiting) item's current run; a one-off item is cancelled."""
        item = self.get(sid)
        if item.state not in ("held", "scheduled", "paused"):
            raise InvalidInput(f"It is {item.state_label.lower()}.")
        after = max(self.clock(), item.next_run or self.clock())
        nxt = next_run(item.recurrence, item.first_local, item.zone, after)
        fields: dict[str, object] = {
            "next_run_utc": iso(nxt) if nxt else None,
            "reason": "The overdue run was skipped.",
        }
        fields["state"] = "scheduled" if nxt else "cancelled"
        try:
            await self.repo.skip(item, fields, ends=nxt is None)
        except Conflict as exc:
            raise InvalidInput(CHANGED) from exc
        self._changed(bulk=item.bulk_run_id is not None and nxt is None)
        return self.get(sid)

    # ---- the due loop ------------------------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Run until :meth:`stop`: a tick a second, or sooner when kicked."""
        last_check = -CHECK_DEAD_S
        while not self._stopping:
            self._wake.clear()
            if not self.leads():  # a standby relay of a workspace: the leading one fires the runs
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                continue
            try:
                if time.monotonic() - last_check >= CHECK_DEAD_S:
                    last_check = time.monotonic()
                    await self._abandon_dead_hand_offs()
                await self.tick()
            except SmsdeskError:
                log.exception("scheduler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def _abandon_dead_hand_offs(self) -> None:
        """At start and every few seconds: hand-offs of a process that died (killed mid-way) go to
        review, so the item is not locked against edit and cancel for ever."""
        alive_since = iso(utc_now() - timedelta(seconds=DEAD_AFTER_S))
        if not self.repo.dead_hand_offs(alive_since, self.id):
            return
        dead = await self.repo.abandon_dead_hand_offs(alive_since, self.id, iso(self.clock()))
        if dead:
            log.warning("%d interrupted provider hand-offs marked for review", len(dead))
            self._changed()

    async def tick(self) -> int:
        """One pass; returns how many items started a run (for tests with injected clocks)."""
        now = self.clock()
        now_iso = iso(now)

        promoted: list[int] = []
        finished: list[int] = []
        if self.repo.housekeeping_due(now_iso):  # a read first: no fsync a second when idle
            promoted, finished = await self.repo.housekeeping(now_iso)
        if promoted or finished:
            self.bus.publish(Changes(message_ids=set(promoted), queue=True))
        if promoted:
            self.kick_dispatcher()
        started = 0
        limit = timedelta(minutes=max(0, int(self.settings.overdue_limit_minutes)))
        for item in self.repo.due(now_iso):
            if item.next_run is not None and now - item.next_run > limit:
                await self._hold(item, now)
            elif over := self._over_limit(item):
                await self._hold(item, now, f"{over} {CONFIRM_OVER}")
            else:
                try:
                    started += await self._run_due(item, now)
                except OverLimit as exc:  # sends written meanwhile (another desktop, a bulk run) took the room
                    await self._hold(self.get(item.id), now, f"{exc} {CONFIRM_OVER}")
        await self.provider.tick(now)
        return started

    def _over_limit(self, item: ScheduleItem) -> str:
        """Why this run would take its account over the monthly spending limit ("" when not);
        estimated at the account's price per part for each recipient."""
        spending = self.sending.spending
        if spending is None:
            return ""
        base = self.accounts.prices(item.account_id).base
        if base is None:
            return ""
        cost = Decimal(base) * analyze(item.body).segments * max(1, item.recipient_count)
        return spending.over_limit(item.account_id, cost)

    async def _hold(self, item: ScheduleItem, now: datetime, reason: str = "") -> None:
        assert item.next_run is not None
        late = int((now - item.next_run).total_seconds() // 60)
        local = to_local(item.next_run, item.zone)
        reason = reason or (
            f"Was due {local:%a %d %b %H:%M} ({late} min ago) while smsdesk was not running; "
            "confirm to send it now, or skip it."
        )
        try:
            await self.repo.update(item.id, item.version, ("scheduled",), state="held", reason=reason)
        except Conflict:
            return
        log.info("scheduled send %d held: %s", item.id, reason)
        self._changed()

    async def _materialise(
        self,
        item: ScheduleItem,
        now: datetime,
        due: str,
        new_next: str | None,
        *,
        at_once: bool = False,
    ) -> bool:
        """Claim ``item`` and put its messages in the outbox, in one transaction (``at_once``: an
        extra run a person asked for, not the due one).

        Returns False when the claim was lost (another dispatcher ran it, or it was edited,
        paused or cancelled since ``item`` was read): then nothing was written.
        """
        left: list[str] = []
        if item.group_id is not None and self.groups is not None:
            # Whoever is in the group now, each with their own text; opt-outs are checked again below.
            rows, left = await off_loop(item.recipient_count, self.groups.send_list, item.group_id, item.body)
            await self.repo.set_recipients(item.id, rows)
        plan = await off_loop(item.recipient_count, make_plan, self.policy, self.repo, self.sending.optouts, item, now)
        if left:
            plan.note = f"{plan.note} {len(left)} of the group left out: {'; '.join(left[:3])}.".strip()
        # A due run's cost is checked again as it is written (a person's Send now is their say).
        spending = self.sending.spending
        cap = None if at_once or spending is None else spending.cap(item.account_id)
        ids = await self.repo.start_run(item, plan, due, self.id, new_next, now=at_once, cap=cap)
        if ids is None:
            return False
        self.bus.publish(Changes(message_ids=set(ids), queue=True, bulk=item.bulk_run_id is not None))
        self.kick_dispatcher()
        return True

    async def _run_due(self, item: ScheduleItem, now: datetime) -> bool:
        assert item.next_run is not None
        due = iso(item.next_run)
        nxt = next_run(item.recurrence, item.first_local, item.zone, max(now, item.next_run))
        return await self._materialise(item, now, due, iso(nxt) if nxt else None)

    def _changed(self, bulk: bool = False) -> None:
        self.bus.publish(Changes(queue=True, bulk=bulk))


__all__ = ["ScheduleRequest", "SchedulerService", "local_zone_name"]
