"""The send path's front half: validate, then write to the outbox in one transaction.

Nothing is sent here. A message exists (status ``queued`` or ``scheduled``, a fresh
``local_id``) before any HTTP happens; the :class:`Dispatcher` does the sending.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from smsdesk.config.settings import Settings
from smsdesk.domain import phone
from smsdesk.domain.errors import InvalidInput, InvalidNumber, OptedOut, OverLimit
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account, Message
from smsdesk.domain.segments import MAX_MESSAGE_CHARS, analyze, normalise_newlines
from smsdesk.domain.sender import check_sender
from smsdesk.domain.status import Status
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.ports import OutboxDoor, SpendingLimit
from smsdesk.storage.api import MessageStore, OptOutStore
from smsdesk.storage.records import AuditEntry, NewOutgoing

MAX_TEXT = MAX_MESSAGE_CHARS


@dataclass(slots=True)
class Recipient:
    """One recipient as checked: ``number`` is +E.164 when valid, else ``error`` says why."""

    raw: str
    number: str | None = None
    error: str | None = None


@dataclass(slots=True)
class Draft:
    account_id: int
    recipients: Sequence[str]
    text: str
    sender: str | None = None
    send_at: datetime | None = None  # None: now
    personalised: dict[str, str] = field(default_factory=dict)  # number -> text (bulk)
    skip_opted_out: bool = False  # the person agreed to send to the others (see SendService.plan)
    over_limit_ok: bool = False  # the person agreed to go over the account's monthly spending limit


@dataclass(frozen=True, slots=True)
class Skipped:
    """A typed number left out because it opted out: ``how`` as "replied STOP on 3 Dec 2026"."""

    number: str
    how: str
    message: str  # the full sentence :meth:`SendService.blocked` gives


@dataclass(frozen=True, slots=True)
class SendPlan:
    """What a send would do, for the confirmation a person sees before anything is written."""

    account: str
    sender: str
    text: str
    numbers: list[str]  # +E.164, deduplicated, in the order typed; these would be sent
    opted_out: list[Skipped]  # typed numbers on the opt-out list: skipped if the person agrees
    segments: int  # of one message
    total_segments: int
    price_per_segment: float | None  # None: the account does not say (cost unknown)
    confirm: bool  # as many recipients as the confirmation threshold, or more
    estimate: Decimal | None = None  # every message at its country's price; None: unknown
    currency: str = ""
    by_country: bool = False  # the account has prices for some countries
    over_limit: str = ""  # why this send would go over the account's monthly spending limit ("" when not)

    @property
    def cost(self) -> float | None:
        """The estimated cost of all segments, or None when the price is unknown."""
        return None if self.estimate is None else round(float(self.estimate), 4)


class SendService:
    def __init__(
        self,
        messages: MessageStore,
        optouts: OptOutStore,
        accounts: AccountService,
        bus: EventBus,
        settings: Settings,
        outbox: OutboxDoor | None = None,
        spending: SpendingLimit | None = None,
    ) -> None:
        self.messages = messages
        self.spending = spending  # the accounts' monthly spending limits
        self.optouts = optouts
        self.accounts = accounts
        self.bus = bus
        # default_region; confirm_send_threshold: recipients from which Send asks first (0: never)
        self._settings = settings
        self._outbox = outbox  # woken when something was queued

    def _region(self) -> str:
        return self._settings.default_region

    def check_recipient(self, raw: str) -> Recipient:
        """Inline validation for one typed number (no writes)."""
        try:
            num = phone.parse(raw, self._region())
        except InvalidNumber as exc:
            return Recipient(raw, None, str(exc))
        blocked = self.blocked(num.e164)
        if blocked:
            return Recipient(raw, num.e164, blocked)
        return Recipient(raw, num.e164)

    def blocked(self, number: str) -> str | None:
        """Why sending to ``number`` is blocked (it is on the opt-out list, and how it got there)."""
        how = self.optouts.reason(number)
        return None if how is None else _blocked_text(phone.display(number, self._region()), how)

    def check_text(self, account: Account, text: str) -> str:
        text = normalise_newlines(text)
        if not text.strip():
            raise InvalidInput("The message is empty.")
        if len(text) > MAX_TEXT:
            raise InvalidInput(f"The message is {len(text)} characters; the limit is {MAX_TEXT}.")
        return text

    def plan(self, draft: Draft) -> SendPlan:
        """What :meth:`send` would do with ``draft``, checked but not written: who gets it,
        which typed numbers opted out, how many segments and what it may cost.

        Raises:
            InvalidInput: the text, the sender or a number cannot be used (nothing would be
                sent); :class:`OptedOut` when every number opted out.
        """
        account = self.accounts.get(draft.account_id)
        text = self.check_text(account, draft.text)
        spec = self.accounts.spec(account)
        sender = check_sender(draft.sender or account.sender or "smsdesk", numeric_only=spec.numeric_sender_only)
        if not draft.recipients:
            raise InvalidInput("Add at least one recipient.")
        from smsdesk.services.imports.numbers import quick_e164  # phonenumbers: not before the first paint

        typed: dict[str, None] = {}  # in the order typed, once each (a list here was quadratic)
        problems: list[str] = []
        region = self._region()
        for raw in draft.recipients:
            try:
                typed[quick_e164(raw, region) or phone.parse(raw, region).e164] = None
            except InvalidNumber as exc:
                problems.append(str(exc))
        hows = self.optouts.reasons(list(typed))
        numbers = [num for num in typed if num not in hows]
        opted_out = [
            Skipped(num, hows[num], _blocked_text(phone.display(num, region), hows[num]))
            for num in typed
            if num in hows
        ]
        if problems:
            raise InvalidInput(" ".join(problems))
        if not numbers:
            raise OptedOut(" ".join(s.message for s in opted_out))
        info = analyze(text)
        parts = [
            (n, analyze(draft.personalised[n]).segments if n in draft.personalised else info.segments) for n in numbers
        ]
        total = sum(p for _n, p in parts)
        prices = self.accounts.prices(account.id)
        estimate = prices.total(parts)
        over_limit = self.spending.over_limit(account.id, estimate) if self.spending is not None else ""
        threshold = self._settings.confirm_send_threshold
        return SendPlan(
            account=account.name,
            sender=sender,
            text=text,
            numbers=numbers,
            opted_out=opted_out,
            segments=info.segments,
            total_segments=total,
            price_per_segment=self.accounts.price_per_segment(account),
            confirm=0 < threshold <= len(numbers) or bool(over_limit),
            estimate=estimate,
            currency=prices.currency,
            by_country=bool(prices.by_country),
            over_limit=over_limit,
        )

    async def send(self, draft: Draft) -> list[Message]:
        """:meth:`queue`, answering with the queued messages (one per recipient, in order)."""
        return self.messages.get_many(await self.queue(draft))

    async def queue(self, draft: Draft) -> list[int]:
        """Validate everything, then queue every recipient in one transaction; returns the
        messages' ids in the recipients' order (reading back 10,000 queued rows cost as much
        as a tenth of queueing them, for callers that only count them).

        With ``draft.skip_opted_out`` (the person agreed to it), numbers on the opt-out list
        are left out and the others sent; without it, one such number stops the whole send.

        Raises:
            InvalidInput: nothing was written; the message says which recipient and why.
        """
        plan = self.plan(draft)
        if plan.opted_out and not draft.skip_opted_out:
            raise OptedOut(" ".join(s.message for s in plan.opted_out))
        if plan.over_limit and not draft.over_limit_ok:
            raise OverLimit(plan.over_limit)
        account = self.accounts.get(draft.account_id)
        text, sender, numbers = plan.text, plan.sender, plan.numbers
        send_at_iso = None
        status = Status.QUEUED
        if draft.send_at is not None:
            send_at = draft.send_at.astimezone(UTC)
            if send_at > datetime.now(UTC):
                send_at_iso = send_at.isoformat(timespec="milliseconds")
                status = Status.SCHEDULED
        items = []
        plain = analyze(text)
        for num in numbers:
            body = draft.personalised.get(num, text)
            info = analyze(body) if num in draft.personalised else plain
            items.append(NewOutgoing(account.id, num, sender, body, info.segments, info.encoding, status, send_at_iso))

        audit = AuditEntry("send", account.name, {"scheduled": send_at_iso, "skipped_opted_out": len(plan.opted_out)})
        # Checked again as the rows are written: another desktop may have sent meanwhile.
        cap = None if draft.over_limit_ok or self.spending is None else self.spending.cap(account.id)
        ids = await self.messages.queue(items, audit, cap)
        self.bus.publish(Changes(message_ids=set(ids)))
        if status == Status.QUEUED and self._outbox is not None:
            self._outbox.queued(account.id, ids)  # due now: no need to read them back
        else:
            self._kick()
        return ids

    def _kick(self) -> None:
        if self._outbox is not None:
            self._outbox.kick()

    def history(self, account_id: int | None = None, limit: int | None = None) -> Iterator[Message]:
        """Every message (of one account), newest first, read in pages as it is consumed."""
        return self.messages.stream(account_id, limit)

    async def retry(self, message_id: int) -> bool:
        """Send a failed or undecided message again (a person's decision)."""
        msg = self.messages.get(message_id)
        if msg is None:
            return False
        blocked = self.blocked(msg.remote)
        if blocked:
            raise OptedOut(blocked)
        if self.accounts.get(msg.account_id).provider == "removed":  # storage.accounts.delete_account
            # Queued again it could never be sent, and the dispatcher would retry it for ever.
            raise InvalidInput(f"The account '{msg.account}' was removed; send this again from another account.")
        ok = await self.messages.requeue_for_retry(message_id, AuditEntry("retry", msg.local_id))
        if ok:
            self.bus.publish(Changes(message_ids={message_id}))
            self._kick()
        return ok

    # ---- what the Compose page lists (appended: views ask the service, not its repository) ----
    def recent_outgoing(self, limit: int = 500) -> list[Message]:
        """The ``limit`` newest messages sent from this data folder, newest first."""
        return self.messages.recent(limit, direction="out")

    def outgoing(self, ids: Iterable[int]) -> list[Message]:
        """The outgoing messages among ``ids`` (replies are left out), in no particular order."""
        return [m for m in self.messages.get_many(ids) if m.direction == "out"]


def _blocked_text(shown: str, how: str) -> str:
    """Why a number may not be messaged; ``shown`` is the number as people write it."""
    return (
        f"{shown} has opted out ({how}); sending to it is blocked until it is taken off the "
        "opt-out list (they text START, or you remove it on the Opt-outs page)."
    )
