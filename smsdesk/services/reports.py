"""Reports: how many messages went out and arrived, what became of them, what they cost, who replied.

Definitions (the same on the Reports page, in ``smsdesk report`` and in every export):

- A message counts in the period of its send time (when it was queued; an incoming one: when
  it arrived), with its status as of now. *Pending* (queued, scheduled, sent without a final
  receipt, unknown, needs review) is shown apart; cancelled messages were never sent and do
  not count.
- The delivered rate is delivered over messages with an outcome (delivered + failed).
- Cost = parts x the price per part the message was queued at (the provider's own part count
  where it gave one). A message with no price makes the total "cost unknown" for that part;
  several currencies give one total each, never summed. Messages not yet handed over
  (queued, scheduled), cancelled ones and those the provider rejected cost nothing.
- A reply is an incoming message from the number within 7 days of a send and before the next
  send to it. The reply rate is replied over delivered, for messages people sent (automatic
  replies are not asked anything). Time to first reply by staff runs from an incoming message
  to the next message a person sent in that conversation (automatic replies do not count).
- Days, weeks and hours are the business's (Settings -> General: time zone), so a day is a
  local day, across daylight-saving changes too. Hours are counted per UTC hour and placed in
  the local hour they start in (in zones half an hour off UTC, a day edge is half an hour off).
"""

from __future__ import annotations

import asyncio
import bisect
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from smsdesk.config.settings import Settings
from smsdesk.domain.pricing import money
from smsdesk.services.schedule_policy import business_zone, local_zone_name
from smsdesk.storage.report_api import ReportStore
from smsdesk.storage.report_records import HourTotals, LogRow, RunTotals
from smsdesk.storage.report_records import LogFilter as LogFilter  # what the Reports page and exports filter by
from smsdesk.storage.report_records import RunMessage as RunMessage  # one recipient of a send, for its detail view

PENDING = frozenset({"queued", "scheduled", "sent", "unknown", "needs_review"})
FAILED = frozenset({"failed", "rejected", "expired"})
NOT_CHARGED = frozenset({"queued", "scheduled", "cancelled", "rejected"})
_DAYS_MAX = 62  # longer periods are drawn by week
_WEEKS_MAX = 104  # ... and longer still by month


class PeriodKind(StrEnum):
    TODAY = "today"
    DAYS_7 = "7d"
    DAYS_30 = "30d"
    THIS_MONTH = "this-month"
    LAST_MONTH = "last-month"
    ALL = "all"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return _PERIOD_LABELS[self]


_PERIOD_LABELS = {
    PeriodKind.TODAY: "Today",
    PeriodKind.DAYS_7: "Last 7 days",
    PeriodKind.DAYS_30: "Last 30 days",
    PeriodKind.THIS_MONTH: "This month",
    PeriodKind.LAST_MONTH: "Last month",
    PeriodKind.ALL: "All time",
    PeriodKind.CUSTOM: "Custom",
}


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first`` to ``last``, both included (``first`` None: since the first message)."""

    kind: PeriodKind
    first: date | None
    last: date

    @property
    def text(self) -> str:
        if self.first is None:
            return f"All time, to {_day(self.last)}"
        if self.first == self.last:
            return _day(self.first)
        return f"{_day(self.first)} to {_day(self.last)}"


def _day(d: date) -> str:
    return f"{d.day} {d.strftime('%b')} {d.year}"


def period(kind: PeriodKind | str, today: date, first: date | None = None, last: date | None = None) -> Period:
    """The period ``kind`` as seen on ``today`` (``custom`` takes ``first`` and ``last``).

    Raises:
        ValueError: a custom period without both days, or one that ends before it starts.
    """
    kind = PeriodKind(kind)
    if kind is PeriodKind.TODAY:
        return Period(kind, today, today)
    if kind is PeriodKind.DAYS_7:
        return Period(kind, today - timedelta(days=6), today)
    if kind is PeriodKind.DAYS_30:
        return Period(kind, today - timedelta(days=29), today)
    if kind is PeriodKind.THIS_MONTH:
        return Period(kind, today.replace(day=1), today)
    if kind is PeriodKind.LAST_MONTH:
        end = today.replace(day=1) - timedelta(days=1)
        return Period(kind, end.replace(day=1), end)
    if kind is PeriodKind.ALL:
        return Period(kind, None, today)
    if first is None or last is None:
        raise ValueError("A custom period needs a first and a last day.")
    if last < first:
        raise ValueError(f"The period ends ({_day(last)}) before it starts ({_day(first)}).")
    return Period(kind, first, last)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (a day is 23 or 25 hours long across DST changes)."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


# -- what a report holds -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cost:
    """Money per currency (never summed across currencies) and how many parts had no price."""

    by_currency: dict[str, Decimal] = field(default_factory=dict)
    unknown_parts: int = 0

    @property
    def text(self) -> str:
        known = [money(v, c) for c, v in sorted(self.by_currency.items())]
        if not known:
            return "cost unknown" if self.unknown_parts else money(Decimal(0), "")
        text = " + ".join(known)
        if self.unknown_parts:
            text += f" (+ {self.unknown_parts:,} parts at an unknown price)"
        return text


class _CostSum:
    def __init__(self) -> None:
        self.by_currency: dict[str, Decimal] = defaultdict(Decimal)
        self.unknown = 0

    def add(self, status: str, currency: str, price: str, parts: int) -> None:
        if status in NOT_CHARGED or not parts:
            return
        if price:
            self.by_currency[currency] += Decimal(price) * parts
        else:
            self.unknown += parts

    def done(self) -> Cost:
        return Cost(dict(self.by_currency), self.unknown)


@dataclass(frozen=True, slots=True)
class Headline:
    sent: int = 0  # outgoing messages (not cancelled)
    parts: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    automatic: int = 0  # of ``sent``: automatic replies
    received: int = 0
    replied: int = 0  # sends (by people) that got a reply
    delivered_by_people: int = 0
    new_optouts: int = 0
    cost: Cost = field(default_factory=Cost)
    median_answer_s: float | None = None
    answers: int = 0

    @property
    def delivered_rate(self) -> float | None:
        done = self.delivered + self.failed
        return self.delivered / done if done else None

    @property
    def reply_rate(self) -> float | None:
        return self.replied / self.delivered_by_people if self.delivered_by_people else None


@dataclass(frozen=True, slots=True)
class Bucket:
    """One day, week or month of the charts (``first``: its first local day)."""

    first: date
    label: str
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    received: int = 0
    cost: dict[str, Decimal] = field(default_factory=dict)
    unknown_parts: int = 0


@dataclass(frozen=True, slots=True)
class SendSummary:
    """One bulk run, group send or scheduled run, and what became of it."""

    source: str
    run_id: int
    kind: str
    started_at: datetime  # local
    account_id: int
    title: str
    recipients: int
    delivered: int
    failed: int
    pending: int
    replied: int
    opted_out: int
    cost: Cost

    @property
    def kind_text(self) -> str:
        return {"bulk": "Bulk send", "group": "Group send", "scheduled": "Scheduled"}.get(self.kind, self.kind)

    @property
    def reply_rate(self) -> float | None:
        return self.replied / self.delivered if self.delivered else None


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str
    messages: int


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    account_id: int | None
    zone: str
    business: str
    step: str  # "day", "week" or "month"
    headline: Headline
    buckets: tuple[Bucket, ...]
    reply_hours: tuple[int, ...]  # replies received per local hour of the day, hour 0 first
    failures: tuple[Failure, ...]
    sends: tuple[SendSummary, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.headline.sent or self.headline.received)

    @property
    def currencies(self) -> list[str]:
        """Currencies with a known cost in the period, the largest spend first."""
        c = self.headline.cost.by_currency
        return sorted(c, key=lambda k: -c[k])


@dataclass(frozen=True, slots=True)
class SendDetail:
    summary: SendSummary
    messages: tuple[RunMessage, ...]


# -- building a report ---------------------------------------------------------------------------

_STATUS_WORDS = {"failed": "Failed", "rejected": "Refused by the provider", "expired": "Expired before delivery"}


def failure_reason(status: str, reason: str) -> str:
    """A failure's reason in words: the provider's own where it gave one."""
    return reason.strip() or _STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


class ReportService:
    """Builds reports from the store; heavy reads run off the GUI thread (:meth:`report`)."""

    def __init__(self, store: ReportStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    # -- settings ---------------------------------------------------------------------------

    @property
    def zone_name(self) -> str:
        return self.settings.business_zone or local_zone_name()

    def zone(self) -> ZoneInfo:
        return business_zone(self.settings)

    @property
    def business(self) -> str:
        return self.settings.business_name.strip()

    def today(self, now: datetime | None = None) -> date:
        return (now or datetime.now(UTC)).astimezone(self.zone()).date()

    # -- reports ----------------------------------------------------------------------------

    async def report(self, p: Period, account_id: int | None = None) -> Report:
        return await asyncio.to_thread(self.build, p, account_id)

    def bounds(self, p: Period) -> tuple[str, str]:
        """The period as a half-open UTC range of ISO text."""
        zone = self.zone()
        start = "0000" if p.first is None else _iso(local_midnight(p.first, zone))
        return start, _iso(local_midnight(p.last + timedelta(days=1), zone))

    def build(self, p: Period, account_id: int | None = None) -> Report:
        zone = self.zone()
        start, end = self.bounds(p)
        hours = self.store.hour_totals(start, end, account_id)
        first = p.first
        if first is None:
            first = self._local(min(h.hour for h in hours), zone).date() if hours else p.last
        step = _step(first, p.last)
        starts = _bucket_starts(first, p.last, step)
        buckets = [_BucketSum(d, _bucket_label(d, step)) for d in starts]
        firsts = [b.first for b in buckets]
        reply_hours = [0] * 24
        head = _HeadSum()
        local_of: dict[str, datetime] = {}
        for h in hours:
            local = local_of.get(h.hour)
            if local is None:
                local = local_of[h.hour] = self._local(h.hour, zone)
            b = buckets[_index(firsts, local.date())]
            head.add(h)
            b.add(h)
            if h.direction == "in":
                reply_hours[local.hour] += h.messages
        answers, median = self.store.answer_median(start, end, account_id)
        headline = head.done(new_optouts=self.store.new_optouts(start, end), median_answer_s=median, answers=answers)
        failures: dict[str, int] = defaultdict(int)
        for f in self.store.failures(start, end, account_id):
            failures[failure_reason(f.status, f.reason)] += f.messages
        sends = tuple(self.summary(t) for t in self.store.runs(start, end, account_id))
        return Report(
            period=p,
            account_id=account_id,
            zone=self.zone_name,
            business=self.business,
            step=step,
            headline=headline,
            buckets=tuple(b.done() for b in buckets),
            reply_hours=tuple(reply_hours),
            failures=tuple(Failure(r, n) for r, n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
            sends=sends,
        )

    def _local(self, hour: str, zone: ZoneInfo) -> datetime:
        return datetime.fromisoformat(hour + ":00:00+00:00").astimezone(zone)

    # -- sends ------------------------------------------------------------------------------

    def summary(self, t: RunTotals) -> SendSummary:
        n = delivered = failed = pending = replied = 0
        cost = _CostSum()
        for status, currency, price, messages, parts, rep in t.groups:
            if status == "cancelled":
                continue
            n += messages
            replied += rep
            if status == "delivered":
                delivered += messages
            elif status in FAILED:
                failed += messages
            elif status in PENDING:
                pending += messages
            cost.add(status, currency, price, parts)
        started = datetime.fromisoformat(t.started_at).astimezone(self.zone())
        return SendSummary(
            t.source, t.run_id, t.kind, started, t.account_id, t.title or _first_words(t.body), n, delivered, failed,
            pending, replied, t.opted_out, cost.done(),
        )  # fmt: skip

    def send_detail(self, source: str, run_id: int) -> SendDetail | None:
        """One send and each of its messages (who, status, why it failed, replied, opted out)."""
        t = self.store.run(source, run_id)
        if t is None:
            return None
        return SendDetail(self.summary(t), tuple(self.store.run_messages(source, run_id)))

    def message_log(self, f: LogFilter, batch: int = 5000) -> Iterator[list[LogRow]]:
        """Messages matching ``f``, oldest first, in batches, as exports write them."""
        return self.store.message_log(f, batch)

    async def send_detail_async(self, source: str, run_id: int) -> SendDetail | None:
        return await asyncio.to_thread(self.send_detail, source, run_id)


def _first_words(body: str, limit: int = 40) -> str:
    text = " ".join(body.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Tally:
    """Counts and cost over hourly totals, as one chart bucket shows them."""

    def __init__(self) -> None:
        self.n: dict[str, int] = defaultdict(int)
        self.cost = _CostSum()

    def add(self, h: HourTotals) -> bool:
        """Count ``h``; True when it is a message that was sent (not received, not cancelled)."""
        n = self.n
        if h.direction == "in":
            n["received"] += h.messages
            return False
        if h.status == "cancelled":
            return False
        if h.status == "delivered":
            n["delivered"] += h.messages
        elif h.status in FAILED:
            n["failed"] += h.messages
        elif h.status in PENDING:
            n["pending"] += h.messages
        self.cost.add(h.status, h.currency, h.price, h.parts)
        return True


class _HeadSum(_Tally):
    """The bucket's counts, and what only the headline says: parts, automatic, replied."""

    def add(self, h: HourTotals) -> bool:
        if not super().add(h):
            return False
        n = self.n
        n["sent"] += h.messages
        n["parts"] += h.parts
        if h.auto:
            n["automatic"] += h.messages
        elif h.status == "delivered":
            n["delivered_by_people"] += h.messages
            n["replied"] += h.replied
        return True

    def done(self, **more: object) -> Headline:
        return Headline(cost=self.cost.done(), **self.n, **more)  # type: ignore[arg-type]  # counters by name


class _BucketSum(_Tally):
    def __init__(self, first: date, label: str) -> None:
        super().__init__()
        self.first = first
        self.label = label

    def done(self) -> Bucket:
        c = self.cost.done()
        return Bucket(self.first, self.label, cost=c.by_currency, unknown_parts=c.unknown_parts, **self.n)


def _step(first: date, last: date) -> str:
    days = (last - first).days + 1
    return "day" if days <= _DAYS_MAX else ("week" if days <= _WEEKS_MAX * 7 else "month")


def _bucket_starts(first: date, last: date, step: str) -> list[date]:
    if step == "day":
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if step == "week":
        monday = first - timedelta(days=first.weekday())
        return [monday + timedelta(weeks=i) for i in range((last - monday).days // 7 + 1)]
    out, d = [], first.replace(day=1)
    while d <= last:
        out.append(d)
        d = (d + timedelta(days=32)).replace(day=1)
    return out


def _bucket_label(d: date, step: str) -> str:
    if step == "month":
        return d.strftime("%b %Y")
    return f"{d.day} {d.strftime('%b')}" if step == "day" else f"w/c {d.day} {d.strftime('%b')}"


def _index(firsts: Sequence[date], day: date) -> int:
    """The bucket holding ``day`` (firsts ascending)."""
    return max(0, bisect.bisect_right(firsts, day) - 1)


def duration_text(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``3 h 20 min``, ``2 days 4 h``; an em dash when unknown."""
    if seconds is None:
        return "\u2014"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(s // 3600, 24)
    return f"{d} day{'s' if d != 1 else ''} {h} h" if h else f"{d} day{'s' if d != 1 else ''}"


def percent_text(rate: float | None) -> str:
    return "\u2014" if rate is None else f"{rate * 100:.1f}%"
