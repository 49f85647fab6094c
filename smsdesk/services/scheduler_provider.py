"""Provider-side scheduling: hand a one-off scheduled send to the provider's own scheduler.

Opt-in per account (``provider_schedule = "on"`` in the account's settings) and only where
the adapter declares ``caps.schedule``. PureSMS takes ``sendAtUtc`` and can be cancelled with
``DELETE``; Mobivate takes ``scheduleDateTime`` but has no cancel, so :meth:`notice` says so
and :meth:`set_opt_in` needs the person's acknowledgement before it is switched on.

Hand-off: the messages are written as ``scheduled`` (with their send time, quiet hours
applied) and *claimed* by this process in one transaction, then sent with ``send_at``; the
provider ids are stored and the claims released. A refused hand-off falls back to local
scheduling (the item keeps its time; smsdesk sends it itself) and says why; an ambiguous one
(timeout after upload) marks the messages for review instead of risking a second copy.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime

from smsdesk.domain.errors import ErrorKind, InvalidInput, ProviderError, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account, OutboundMessage, SendResult
from smsdesk.domain.schedule import Recurrence, ScheduleItem, defer_for_quiet
from smsdesk.domain.segments import analyze
from smsdesk.domain.status import Status
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.schedule_policy import SchedulePolicy
from smsdesk.storage.api import MessageStore, OptOutStore, ScheduleStore
from smsdesk.storage.records import NewOutgoing

log = logging.getLogger(__name__)
ON = ("on", "1", "true", "yes")
RETRY_S = 60.0


class ProviderScheduling:
    """The provider-side half of the scheduled queue: the opt-in, the hand-off, withdrawing a
    handed-off send and noticing when its time has passed."""

    def __init__(
        self,
        accounts: AccountService,
        schedules: ScheduleStore,
        optouts: OptOutStore,
        messages: MessageStore,
        bus: EventBus,
        policy: SchedulePolicy,
        me: str,
    ) -> None:
        """``me``: this process's dispatcher id (its claims carry it)."""
        self.accounts = accounts
        self.schedules = schedules
        self.optouts = optouts
        self.messages = messages
        self.bus = bus
        self.policy = policy
        self.me = me
        self._last_try: dict[int, float] = {}

    # ---- opt-in ------------------------------------------------------------------------------
    def wanted(self, account: Account) -> bool:
        return str(account.settings.get("provider_schedule", "")).lower() in ON and self.supported(account)

    def supported(self, account: Account) -> bool:
        try:
            return self.accounts.spec(account).caps.schedule
        except SmsdeskError:
            return False

    def notice(self, account: Account) -> str:
        """What a person must know before opting in (shown in the dialog and the CLI)."""
        spec = self.accounts.spec(account)
        if not spec.caps.schedule:
            return f"{spec.name} has no scheduling of its own; smsdesk schedules these sends itself."
        text = (
            f"{spec.name} will hold one-off scheduled sends and send them at their time even while "
            "smsdesk is closed. Repeating sends stay in smsdesk."
        )
        if spec.caps.cancel:
            return text + f" Editing or cancelling asks {spec.name} to cancel its copy first."
        return text + (
            f" {spec.name} has NO cancel: once handed over, a scheduled send cannot be edited, "
            "paused or cancelled, and it will go at its time."
        )

    async def set_opt_in(self, account_id: int, enabled: bool, acknowledged: bool = False) -> Account:
        """Switch provider-side scheduling for an account.

        Raises:
            InvalidInput: the provider cannot schedule, or it cannot cancel and the person has
                not acknowledged that (the message is the notice to show).
        """
        account = self.accounts.get(account_id)
        if enabled:
            spec = self.accounts.spec(account)
            if not spec.caps.schedule:
                raise InvalidInput(self.notice(account))
            if not spec.caps.cancel and not acknowledged:
                raise InvalidInput(self.notice(account) + " Confirm to switch it on anyway.")
        return await self._set_setting(account, "provider_schedule", "on" if enabled else "off")

    async def set_quiet_hours(self, account_id: int, text: str) -> Account:
        from smsdesk.domain.schedule import QuietHours

        quiet = QuietHours.parse(text)  # raises InvalidInput with the accepted form
        return await self._set_setting(self.accounts.get(account_id), "quiet_hours", quiet.text() if quiet else "")

    async def _set_setting(self, account: Account, key: str, value: str) -> Account:
        updated = await self.accounts.set_setting(account, key, value)
        self.bus.publish(Changes(queue=True))  # the queue's notes depend on it
        return updated

    def check_usable(self, account: Account, rule: Recurrence) -> None:
        if not self.supported(account):
            raise InvalidInput(self.notice(account))
        if rule.repeats:
            raise InvalidInput("Provider-side scheduling is for one-off sends; a repeating send stays in smsdesk.")

    # ---- hand-off ----------------------------------------------------------------------------
    async def hand_off(self, item: ScheduleItem) -> bool:
        """Give ``item``'s messages to the provider now; True when the provider took them."""
        self._last_try[item.id] = time.monotonic()
        if item.next_run is None or item.state != "scheduled" or item.handed_off:
            return False
        if await self.accounts.relay_asks(self.accounts.get(item.account_id)):
            # A workspace desktop without the account's keys: a relay that holds them hands it
            # over at its next pass (tried here, the provider refused the keyless call and the
            # send fell back to being sent by smsdesk itself).
            return False
        quiet = self.policy.quiet_hours(item.account_id)
        news: list[NewOutgoing] = []
        for number, body in self.schedules.recipients(item.id):
            if self.optouts.is_opted_out(number):
                continue
            text = body or item.body
            info = analyze(text)
            at = defer_for_quiet(item.next_run, self.policy.zones(number, item.zone), quiet).at
            news.append(
                NewOutgoing(
                    item.account_id,
                    number,
                    item.sender,
                    text,
                    info.segments,
                    info.encoding,
                    Status.SCHEDULED,
                    at.isoformat(timespec="milliseconds"),
                    item.bulk_run_id,
                )
            )
        due = item.next_run.isoformat(timespec="milliseconds")
        ids = await self.schedules.claim_hand_off(item, due, self.me, news)
        if ids is None:
            return False
        msgs = self.messages.get_many(ids)
        try:
            adapter = self.accounts.adapter(item.account_id)
            results = await self._send(
                adapter,
                [
                    OutboundMessage(
                        m.local_id, m.remote, m.local_number, m.body, datetime.fromisoformat(m.send_at or due)
                    )
                    for m in msgs
                ],
            )
        except ProviderError as exc:
            await self._failed(item, ids, exc)
            return False
        by_local = {r.local_id: r for r in results}
        name = adapter.spec.name
        accepted: list[tuple[int, str, str]] = []
        refused: list[tuple[int, str]] = []
        for m in msgs:
            res = by_local.get(m.local_id)
            if res is None or res.provider_message_id is None or res.status in (Status.REJECTED, Status.FAILED):
                refused.append((m.id, (res.error if res else None) or f"{name} did not accept it."))
            else:
                accepted.append((m.id, res.provider_message_id, f"scheduled at {name}"))
        await self.schedules.record_hand_off(item.id, accepted, refused, self._now(), f"Scheduled at {name}.")
        self.bus.publish(Changes(message_ids=set(ids), queue=True))
        return True

    async def _send(self, adapter: object, outs: list[OutboundMessage]) -> list[SendResult]:
        # ``adapter`` comes from AccountService.adapter (typed for every caller as ``object`` to keep
        # the providers package out of this module's imports); every adapter has a spec and send.
        caps = adapter.spec.caps  # type: ignore[attr-defined]
        groups: dict[datetime | None, list[OutboundMessage]] = defaultdict(list)
        for o in outs:
            groups[o.send_at].append(o)
        results: list[SendResult] = []
        for group in groups.values():
            if len(group) > 1 and caps.bulk:
                results += await adapter.send_bulk(group)  # type: ignore[attr-defined]  # caps.bulk says it has it
            else:
                for o in group:
                    results.append(await adapter.send(o))  # type: ignore[attr-defined]  # as above
        return results

    async def _failed(self, item: ScheduleItem, ids: list[int], exc: ProviderError) -> None:
        ambiguous = exc.kind == ErrorKind.AMBIGUOUS
        await self.schedules.hand_off_failed(item.id, ids, ambiguous, str(exc), self._now())
        log.info("provider hand-off of scheduled send %d failed: %s", item.id, exc)
        self.bus.publish(Changes(message_ids=set(ids), queue=True))

    async def withdraw(self, item: ScheduleItem) -> int:
        """Cancel ``item``'s copies at the provider; returns how many were cancelled.

        Raises:
            InvalidInput: the provider has no cancel, or refused one (nothing local changed then).
        """
        rows = self.schedules.provider_scheduled(item.id)
        if not rows:
            return 0
        account = self.accounts.get(item.account_id)
        if await self.accounts.relay_asks(account):  # a workspace desktop: a relay holds the keys
            return int(await self.accounts.ask_relay("withdraw", account, item.id) or 0)
        adapter = self.accounts.adapter(item.account_id)
        if not adapter.spec.caps.cancel:
            raise InvalidInput(
                f"{adapter.spec.name} cannot cancel scheduled messages: {len(rows)} will still go at their time."
            )
        done: list[int] = []
        failed: list[str] = []
        for r in rows:
            try:
                await adapter.cancel(r.provider_message_id)
                done.append(r.id)
            except ProviderError as exc:
                failed.append(str(exc))
        await self.schedules.withdrawn(item.id, done, not failed, self._now())
        self.bus.publish(Changes(message_ids=set(done), queue=True))
        if failed:
            raise InvalidInput(
                f"{len(failed)} of {len(rows)} could not be cancelled at {adapter.spec.name}: {failed[0]}"
            )
        return len(done)

    async def tick(self, now: datetime) -> None:
        """Items whose time passed at the provider are done; failed hand-offs are retried."""
        now_iso = now.isoformat(timespec="milliseconds")
        passed = self.schedules.provider_passed(now_iso)
        if passed:
            await self.schedules.provider_passed_done(passed, now_iso)
            self.bus.publish(Changes(queue=True))
        for sid in self.schedules.waiting_hand_offs(now_iso):
            if time.monotonic() - self._last_try.get(sid, 0.0) < RETRY_S:
                continue
            try:
                item = self.schedules.get(sid)
                if item is not None:
                    await self.hand_off(item)
            except SmsdeskError as exc:
                log.info("hand-off of %s not possible yet: %s", sid, exc)

    def _now(self) -> str:
        return self.policy.now().isoformat(timespec="milliseconds")

    # ---- what the options dialog asks (appended: views ask the service, not its accounts) ----
    def can_cancel(self, account: Account) -> bool:
        """Whether ``account``'s provider can cancel a send it holds (else a scheduled send,
        once handed over, goes out whatever happens here)."""
        return self.accounts.spec(account).caps.cancel
