"""ReviewService: settle sends that may or may not have gone out, with the provider or a person.

A send is ``needs_review`` when nobody can tell whether the provider took it: smsdesk was
killed mid-request (a bulk request: up to 1,000 messages at once), or the answer was lost
after the upload. Such messages come in *batches* (an account's undecided messages of one
bulk run, or its undecided single sends), and each provider declares whether it can be asked
(``caps.settle``, providers/spec.py):

- ``lookup`` (Mobivate's message log): the batch is looked up in one request at once, then
  again on a back-off schedule (``first_delay`` doubling up to ``max_delay``), because a log
  may list a message only a while after the provider took it. What the log lists is settled
  as the log says; the rest wait for the next check. ``give_up_after`` the first check, the
  checks stop and the batch says the provider never listed them (most likely not sent).
- ``resend`` (a Channel API connector drops a repeat of our ``request_id``): the batch goes
  back to the outbox with the same reference at once, so nobody can get it twice; only
  within ``give_up_after`` of the send (a connector forgets request ids after a while).
- otherwise (PureSMS, Send-2) nothing is automatic, and the batch says so in the provider's
  words (``ProviderSpec.cannot_ask_note``).

A person settles what is left a batch at a time: :meth:`mark_sent`, or :meth:`send_again`
(whose warning says anyone who did get it gets it twice). Every process on the database may
run the checks: the schedule lives in the database and each check is claimed by one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

from smsdesk.domain.errors import InvalidInput, NotFound, ProviderError, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.providers.spec import SETTLE_LOOKUP, SETTLE_RESEND
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.ports import OutboxKick
from smsdesk.storage.api import ReviewStore
from smsdesk.storage.records import AuditEntry, BatchMessage, BatchRow

log = logging.getLogger(__name__)

FIRST_DELAY_S = 30.0
MAX_DELAY_S = 30 * 60.0
GIVE_UP_AFTER = timedelta(hours=24)
RESEND_MAX_ATTEMPTS = 6  # an interrupted send that keeps being interrupted is left to a person
LOG_MARGIN = timedelta(minutes=5)  # clocks differ: look a little before our own send time


@dataclass
class _Check:
    """A batch's check record (kv JSON)."""

    checks: int = 0
    next: str = ""  # UTC ISO: when the next check is due
    started: str = ""  # UTC ISO: the first check (give-up counts from here)
    max_id: int = 0  # the batch's newest message when the schedule (re)started
    done: bool = False  # given up: the provider never listed them
    error: str = ""  # the last check's failure, in words
    found: int = 0  # settled from the provider's answers so far

    @classmethod
    def parse(cls, text: str | None) -> _Check | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            return None

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True, slots=True)
class ReviewBatch:
    """One batch of undecided messages, as a person (or ``smsdesk review``) sees it."""

    key: str  # "run-3" or "account-2": the handle ``smsdesk review`` takes
    account_id: int
    account: str
    provider: str
    run_id: int | None
    count: int
    title: str
    settle: str  # lookup | resend | "" (the provider cannot be asked)
    checking: bool  # smsdesk is still asking the provider
    checks: int
    next_check: datetime | None
    status: str  # what smsdesk does (or cannot do) about them, in words
    can_send_again: bool
    why_not_again: str = ""

    @property
    def send_again_warning(self) -> str:
        if self.settle == SETTLE_RESEND:
            return f"{self.provider} drops a repeat of these, so nobody gets them twice."
        who = "this person" if self.count == 1 else f"any of these {self.count:,} people"
        return f"If it did go out, {who} will get the message twice."

    def as_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        out["next_check"] = self.next_check.isoformat() if self.next_check else None
        out["send_again_warning"] = self.send_again_warning
        return out


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def _at(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def batch_key(account_id: int, run_id: int | None) -> str:
    return f"run-{run_id}" if run_id is not None else f"account-{account_id}"


class ReviewService:
    """Runs its checks on the app loop until :meth:`stop`; the person's actions are methods."""

    def __init__(
        self,
        review: ReviewStore,
        accounts: AccountService,
        bus: EventBus,
        outbox: OutboxKick | None = None,
        *,
        tick: float = 5.0,
        first_delay: float = FIRST_DELAY_S,
        max_delay: float = MAX_DELAY_S,
        give_up_after: timedelta = GIVE_UP_AFTER,
    ) -> None:
        self.store = review
        self.accounts = accounts
        self.bus = bus
        self._outbox = outbox  # woken when messages go back to the outbox
        self.tick = tick
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.give_up_after = give_up_after
        self._stopping = False
        # Whether this process does the singleton work: always, but on a team workspace only
        # the relay holding the lease (set by the runtime; a standby relay waits).
        self.leads: Callable[[], bool] = lambda: True
        self._wake = asyncio.Event()

    # ---- reading -----------------------------------------------------------------------
    def batches(self, run_id: int | None = None) -> list[ReviewBatch]:
        """Every batch of undecided messages (only bulk run ``run_id``'s when given)."""
        checks = self.store.checks()
        out: list[ReviewBatch] = []
        for row in self.store.batches():
            if run_id is not None and row.run_id != run_id:
                continue
            batch = self._describe(row, _Check.parse(checks.get(self.store.check_key(row.account_id, row.run_id))))
            if batch is not None:
                out.append(batch)
        return out

    def batch(self, key: str) -> ReviewBatch:
        for b in self.batches():
            if b.key == key:
                return b
        raise NotFound(f"No messages wait for review in batch '{key}'. See the list with: smsdesk review")

    def _describe(self, row: BatchRow, check: _Check | None) -> ReviewBatch | None:
        try:
            account = self.accounts.get(row.account_id)
            spec = self.accounts.spec(account)
        except SmsdeskError:
            return None  # a removed account's messages: nothing can be asked or sent any more
        mode = spec.caps.settle
        if row.run_id is not None:
            name = PurePath(row.source).name if row.source else ""
            title = f"Bulk send {row.run_id}" + (f" ({name})" if name else "") + f" from {account.name}"
        else:
            title = f"Single messages from {account.name}"
        checking, next_check, checks = False, None, 0
        if mode == SETTLE_LOOKUP:
            fresh = check is None or row.max_id > check.max_id
            checks = 0 if fresh or check is None else check.checks
            if fresh or (check is not None and not check.done):
                checking = True
                next_check = None if fresh or check is None else _at(check.next)
                status = f"smsdesk is asking {spec.name}'s message log about these"
                if checks:
                    when = f"{next_check.astimezone():%H:%M}" if next_check else "soon"
                    status += f" (asked {checks} time{'s' if checks != 1 else ''}, next at {when})"
                status += "; any it lists are settled as it says."
                if check is not None and check.error and not fresh:
                    status += f" The last check failed: {check.error}"
            else:
                hours = self.give_up_after.total_seconds() / 3600
                status = (
                    f"{spec.name}'s message log did not list these in {hours:.0f} hours of checking, so "
                    "they were most likely not sent. Send them again, or mark them as sent if you know "
                    "they arrived."
                )
        elif mode == SETTLE_RESEND:
            status = (
                f"{spec.name} drops a repeat of the same message, so smsdesk sends these again "
                "by itself unless they were sent too long ago for it to recognise a repeat."
            )
        else:
            status = spec.cannot_ask_note
        why_not = ""
        if row.run_state == "cancelled":
            why_not = "This bulk send was cancelled, so its messages are not sent again."
        return ReviewBatch(
            batch_key(row.account_id, row.run_id),
            account.id,
            account.name,
            spec.name,
            row.run_id,
            row.count,
            title,
            mode,
            checking,
            checks,
            next_check,
            status,
            not why_not,
            why_not,
        )

    # ---- a person's decisions ----------------------------------------------------------
    async def mark_sent(self, key: str) -> int:
        """Every undecided message of the batch went out (the person checked). Returns how many."""
        b = self.batch(key)
        ids = await self.store.mark_sent(
            b.account_id, b.run_id, AuditEntry("review.mark_sent", b.account, {"run": b.run_id})
        )
        self.bus.publish(Changes(message_ids=set(ids), bulk=b.run_id is not None))
        return len(ids)

    async def send_again(self, key: str) -> list[int]:
        """Put every undecided message of the batch back in the outbox. Returns their ids.

        Raises:
            InvalidInput: the batch's bulk send was cancelled (its messages are never sent).
        """
        b = self.batch(key)
        if not b.can_send_again:
            raise InvalidInput(b.why_not_again)
        audit = AuditEntry("review.send_again", b.account, {"run": b.run_id})
        ids = await self.store.send_again(b.account_id, b.run_id, audit=audit)
        self.bus.publish(Changes(message_ids=set(ids), bulk=b.run_id is not None))
        if ids:
            self._kick()
        return ids

    def _kick(self) -> None:
        if self._outbox is not None:
            self._outbox.kick()

    # ---- the checks --------------------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            if not self.leads():  # a standby relay of a workspace: the leading one reconciles
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.tick)
                continue
            try:
                await self.check_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep checking whatever one pass did
                log.exception("checking undecided sends failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick)

    async def check_due(self) -> int:
        """One pass over every batch whose provider can be asked; returns how many messages settled."""
        rows, checks = await asyncio.to_thread(self._read)
        live = {self.store.check_key(r.account_id, r.run_id) for r in rows}
        if set(checks) - live:
            await self.store.forget_checks(live)
        settled = 0
        for row in rows:
            if self._stopping:
                break
            try:
                mode = self.accounts.spec(self.accounts.get(row.account_id)).caps.settle
            except SmsdeskError:
                continue
            if mode == SETTLE_LOOKUP:
                settled += await self._lookup(row, checks.get(self.store.check_key(row.account_id, row.run_id)))
            elif mode == SETTLE_RESEND:
                settled += await self._resend(row)
        return settled

    def _read(self) -> tuple[list[BatchRow], dict[str, str]]:
        return self.store.batches(), self.store.checks()

    async def _messages(self, row: BatchRow) -> list[BatchMessage]:
        # Read in a worker thread (the store reads on the calling thread's own connection).
        return await asyncio.to_thread(self.store.batch_messages, row.account_id, row.run_id)

    async def _claim(self, key: str, old: str | None, new: _Check) -> bool:
        return await self.store.claim_check(key, old, new.dump())

    async def _lookup(self, row: BatchRow, old: str | None) -> int:
        key = self.store.check_key(row.account_id, row.run_id)
        now = _now()
        check = _Check.parse(old)
        if check is None or row.max_id > check.max_id:
            # A new batch, or more messages joined it (another interruption): ask at once.
            check = _Check(next=_iso(now), started=_iso(now), max_id=row.max_id)
        due = _at(check.next)
        if check.done or (due is not None and due > now):
            return 0
        started = _at(check.started) or now
        if now - started > self.give_up_after:
            check.done = True
            if await self._claim(key, old, check):
                log.info("%s: the provider never listed %d undecided sends; left to a person", key, row.count)
                self.bus.publish(Changes(message_ids=set(), bulk=row.run_id is not None, queue=True))
            return 0
        delay = min(self.max_delay, self.first_delay * (2**check.checks))
        check.checks += 1
        check.next = _iso(now + timedelta(seconds=delay))
        check.error = ""
        if not await self._claim(key, old, check):
            return 0  # another process on this database makes this check
        claimed = check.dump()
        msgs = await self._messages(row)
        if not msgs:
            return 0
        since = min((_at(m.sent_at) or now) for m in msgs) - LOG_MARGIN
        found: dict[str, Any] = {}
        wait = delay
        try:
            adapter = self.accounts.adapter(row.account_id)
            found = await adapter.reconcile_many([m.local_id for m in msgs], since)
        except ProviderError as exc:
            check.error = str(exc)
            wait = max(delay, min(float(exc.retry_after or 0), self.max_delay))
            log.info("%s: asking the provider about undecided sends failed: %s", key, exc)
        except SmsdeskError as exc:
            check.error = str(exc)
        by_local = {m.local_id: m.id for m in msgs}
        pairs = [(by_local[ref], res) for ref, res in found.items() if ref in by_local]
        moved = await self.store.settle(pairs) if pairs else []
        check.found += len(moved)
        # The wait runs from the answer, not from the question: a slow log is not asked again
        # sooner than the schedule says.
        check.next = _iso(_now() + timedelta(seconds=wait))
        await self._claim(key, claimed, check)
        if moved:
            log.info("%s: %d of %d undecided sends settled from the provider's log", key, len(moved), len(msgs))
        self.bus.publish(Changes(message_ids=set(moved), bulk=row.run_id is not None))
        return len(moved)

    async def _resend(self, row: BatchRow) -> int:
        msgs = await self._messages(row)
        oldest = _now() - self.give_up_after
        ids = [m.id for m in msgs if (_at(m.sent_at) or oldest) > oldest and m.attempts < RESEND_MAX_ATTEMPTS]
        if not ids or row.run_state == "cancelled":
            return 0
        why = "sent again (the provider drops repeats)"
        queued = await self.store.send_again(row.account_id, row.run_id, ids, why)
        if queued:
            log.info(
                "%s: %d undecided sends queued again with the same reference",
                batch_key(row.account_id, row.run_id),
                len(queued),
            )
            self.bus.publish(Changes(message_ids=set(queued), bulk=row.run_id is not None))
            self._kick()
        return len(queued)
