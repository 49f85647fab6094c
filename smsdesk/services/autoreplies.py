"""Automatic replies: keyword rules, HELP and an out-of-hours answer, per account.

When replies are stored (webhook or poll), :meth:`AutoReplyService.answer_soon` looks at each
new incoming message, picks the rule that answers it (:func:`smsdesk.domain.autoreply.choose`:
opt-out words never, HELP to the HELP rule, then the first matching keyword rule, then the
out-of-hours rule when the business is closed), fills the reply in for the contact
(``{{first_name|there}}``, their fields by name) and queues it through the same outbox as any
send (durable, retried, claimed once). The guards hold in the database write that queues it:

- never to a number on the opt-out list;
- once per incoming message and rule (a unique index backs it up);
- one answer per rule per number in :data:`SAME_RULE_WINDOW` (two auto-responders cannot loop);
- at most :data:`IN_A_ROW` automatic replies in a conversation until a person writes in it;
- at most :data:`RATE` automatic replies per account in :data:`RATE_WINDOW`.

A keyword rule can also put the sender in a group (``JOIN`` joins the newsletter list). The
business name (for HELP), its time zone, opening hours and holidays are settings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from smsdesk.domain.autoreply import BusinessHours, Match, Rule, RuleKind, check_keywords, choose, help_text
from smsdesk.domain.errors import InvalidInput, NotFound, OverLimit, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Message
from smsdesk.domain.segments import analyze
from smsdesk.domain.template import compile_template
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.contacts import ContactService
from smsdesk.services.groups import GroupService
from smsdesk.services.ports import OutboxKick
from smsdesk.services.spending import SpendGuard
from smsdesk.storage.api import AutoReplyStore, MessageStore
from smsdesk.storage.records import AuditEntry, AutoReplyGuards, NewOutgoing

log = logging.getLogger(__name__)

SAME_RULE_WINDOW = timedelta(hours=12)
IN_A_ROW = 2
RATE = 30
RATE_WINDOW = timedelta(minutes=10)
WEEK_DEFAULT = ("09:00-17:00",) * 5 + ("", "")


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


class AutoReplyService:
    def __init__(
        self,
        repo: AutoReplyStore,
        messages: MessageStore,
        accounts: AccountService,
        contacts: ContactService,
        groups: GroupService,
        bus: EventBus,
        business: Callable[[], tuple[str, BusinessHours]],
        outbox: OutboxKick | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        spending: SpendGuard | None = None,
    ) -> None:
        self.repo = repo
        self.spending = spending  # an account over its monthly limit sends no automatic reply
        self.messages = messages
        self.accounts = accounts
        self.contacts = contacts
        self.groups = groups
        self.bus = bus
        self._business = business  # (name, hours), read from the settings when needed
        self._outbox = outbox
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- rules ---------------------------------------------------------------------------
    def rules(self, account_id: int | None = None) -> list[Rule]:
        """The rules (of one account) in the order they are tried."""
        return self.repo.rules(account_id)

    def get(self, rule_id: int) -> Rule:
        rule = self.repo.get(rule_id)
        if rule is None:
            raise NotFound(f"There is no automatic reply #{rule_id}. See the list for their numbers.")
        return rule

    async def add(
        self,
        account_id: int,
        kind: RuleKind,
        reply: str,
        keywords: Sequence[str] = (),
        match: Match = Match.WORD,
        add_group_id: int | None = None,
        add_tag: str = "",
    ) -> Rule:
        """A new rule, tried after the account's others.

        Raises:
            InvalidInput: no reply text (a HELP rule may leave it empty for the standard
                one), a keyword that would shadow STOP, START or HELP, or a second HELP or
                out-of-hours rule for the account.
        """
        account = self.accounts.get(account_id)
        reply = reply.strip()
        words: tuple[str, ...] = ()
        if kind == RuleKind.KEYWORD:
            words = check_keywords(keywords)
        elif any(r.kind == kind for r in self.repo.rules(account_id)):
            raise InvalidInput(
                f"{account.name} already has a{'' if kind == RuleKind.HELP else 'n'} {kind} rule; edit it."
            )
        if not reply and kind != RuleKind.HELP:
            raise InvalidInput("Write the reply to send.")
        rule = Rule(0, account_id, kind, reply, words, match, add_group_id=add_group_id, add_tag=add_tag.strip())
        rid = await self.repo.add(rule, AuditEntry("autoreply.add", account.name, {"kind": kind.value}))
        self.bus.publish(Changes(autoreplies=True))
        return self.get(rid)

    async def edit(
        self,
        rule_id: int,
        *,
        reply: str | None = None,
        keywords: Sequence[str] | None = None,
        match: Match | None = None,
        enabled: bool | None = None,
    ) -> Rule:
        rule = self.get(rule_id)
        changed = replace(
            rule,
            reply=rule.reply if reply is None else reply.strip(),
            keywords=rule.keywords if keywords is None else check_keywords(keywords),
            match=rule.match if match is None else match,
            enabled=rule.enabled if enabled is None else enabled,
        )
        if not changed.reply and changed.kind != RuleKind.HELP:
            raise InvalidInput("Write the reply to send.")
        await self.repo.update(changed, AuditEntry("autoreply.edit", str(rule_id)))
        self.bus.publish(Changes(autoreplies=True))
        return self.get(rule_id)

    async def move(self, rule_id: int, up: bool) -> list[Rule]:
        """Swap a rule with the one before (``up``) or after it; the first match wins."""
        rule = self.get(rule_id)
        order = self.repo.rules(rule.account_id)
        i = next(i for i, r in enumerate(order) if r.id == rule_id)
        j = i - 1 if up else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
            for pos, r in enumerate(order, start=1):
                if r.position != pos:
                    await self.repo.update(replace(r, position=pos), AuditEntry("autoreply.move", str(r.id)))
            self.bus.publish(Changes(autoreplies=True))
        return self.repo.rules(rule.account_id)

    async def remove(self, rule_id: int) -> None:
        self.get(rule_id)
        await self.repo.remove(rule_id, AuditEntry("autoreply.remove", str(rule_id)))
        self.bus.publish(Changes(autoreplies=True))

    # ---- answering -----------------------------------------------------------------------
    def reply_for(
        self, account_id: int, text: str, number: str = "", at: datetime | None = None
    ) -> tuple[Rule, str] | None:
        """The rule that would answer ``text`` from ``number`` at ``at`` and its filled-in reply;
        None when no rule would (nothing is sent: ``smsdesk autoreplies test``)."""
        name, hours = self._business()
        rule = choose(self.repo.rules(account_id), text, at or self.clock(), hours)
        if rule is None:
            return None
        body = rule.reply or (help_text(name) if rule.kind == RuleKind.HELP else "")
        try:
            contact = self.contacts.by_number(number) if number else None
        except SmsdeskError:  # a sender this country cannot read (a short code): no fields
            contact = None
        values = contact.merge_values() if contact is not None else {}
        return rule, compile_template(body).render(values).strip()

    @property
    def busy(self) -> bool:
        """Incoming messages are being answered now."""
        return bool(self._tasks)

    def answer_soon(self, inbound_ids: set[int]) -> None:
        """Answer new incoming messages in the background (a failure is logged)."""
        task = asyncio.get_running_loop().create_task(self._answer_logged(inbound_ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_logged(self, inbound_ids: set[int]) -> None:
        try:
            await self.answer(inbound_ids)
        except Exception:  # noqa: BLE001 - an answer not sent must never stop receiving
            log.exception("automatic replies to %s failed", sorted(inbound_ids))

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def answer(self, inbound_ids: set[int]) -> list[int]:
        """Queue the automatic replies these incoming messages get; returns their ids."""
        queued: list[int] = []
        for msg in self.messages.get_many(sorted(inbound_ids)):
            if msg.direction != "in":
                continue
            mid = await self._answer_one(msg)
            if mid is not None:
                queued.append(mid)
        if queued:
            self.bus.publish(Changes(message_ids=set(queued)))
            if self._outbox is not None:
                self._outbox.kick()
        return queued

    async def _answer_one(self, msg: Message) -> int | None:
        at = datetime.fromisoformat(msg.created_at) if msg.created_at else self.clock()
        found = self.reply_for(msg.account_id, msg.body, msg.remote, at)
        if found is None:
            return None
        rule, body = found
        if not body:
            return None
        account = self.accounts.get(msg.account_id)
        info = analyze(body)
        sender = msg.local_number or account.sender
        item = NewOutgoing(account.id, msg.remote, sender, body, info.segments, info.encoding)
        if self.spending is not None:
            cost = self.accounts.prices(account.id).total([(msg.remote, info.segments)])
            over = self.spending.over_limit(account.id, cost)
            if over:
                log.info("no automatic reply to message %s by rule %s: %s", msg.id, rule.id, over)
                return None
        now = self.clock()
        guards = AutoReplyGuards(_iso(now - SAME_RULE_WINDOW), IN_A_ROW, _iso(now - RATE_WINDOW), RATE)
        audit = AuditEntry("autoreply.sent", account.name, {"rule": rule.id, "in_reply_to": msg.id})
        cap = self.spending.cap(account.id) if self.spending is not None else None
        try:
            mid, why = await self.repo.queue(item, msg.id, rule.id, guards, audit, cap)
        except OverLimit as exc:  # a desktop's send took the account to its limit meanwhile
            mid, why = None, exc.reason
        if mid is None:
            log.info("no automatic reply to message %s by rule %s: %s", msg.id, rule.id, why)
            return None
        if rule.add_group_id is not None or rule.add_tag:
            try:
                await self._file(msg.remote, rule)
            except (InvalidInput, NotFound) as exc:  # the group was deleted meanwhile
                log.warning("rule %s could not file the sender of %s: %s", rule.id, msg.id, exc)
        return mid

    async def _file(self, number: str, rule: Rule) -> None:
        """Put the sender in the rule's group and give them its tag (made a contact if need be)."""
        contact_id = await self.contacts.contact_for(number)
        if rule.add_group_id is not None:
            await self.groups.add_members(rule.add_group_id, [contact_id])
        contact = self.contacts.get(contact_id)
        if rule.add_tag and rule.add_tag.casefold() not in {t.casefold() for t in contact.tags}:
            draft = contact.to_draft()
            await self.contacts.edit(contact_id, replace(draft, tags=(*draft.tags, rule.add_tag)))


def business_hours(zone: str, week: Sequence[str], holidays: Sequence[str]) -> BusinessHours:
    """Hours from the settings' words (checked: a bad span or date is refused with the reason)."""
    days = tuple(week) if len(week) == 7 else WEEK_DEFAULT
    for span in days:
        BusinessHours.parse_span(span)
    try:
        off = frozenset(date.fromisoformat(d) for d in holidays)
    except ValueError as exc:
        raise InvalidInput(f"A holiday must be a date like 2026-12-25: {exc}.") from exc
    return BusinessHours(zone or "UTC", days, off)
