"""Scheduling rules: recurrence, wall-clock time in an IANA zone, and quiet hours. Pure.

A schedule is kept as the person's *wall-clock* time plus their IANA zone (``09:00`` in
``Europe/London``), never as a fixed UTC offset: a daily 09:00 stays 09:00 local across
daylight-saving changes. Each run's UTC instant is derived from that with :func:`to_utc`.

Daylight-saving edge cases (documented behaviour, tested):

* **Skipped hour** (spring forward; Europe/London 01:00-02:00 on the last Sunday of March
  does not exist): a 01:30 run goes at 02:30 local, i.e. the instant 01:30 would have been
  without the jump (``fold=0``, as Temporal's "compatible" disambiguation). The next day it is
  01:30 again.
* **Repeated hour** (fall back; 01:00-02:00 happens twice on the last Sunday of October): the
  run goes once, at the *first* 01:30 (the summer-time one). It never goes twice, because
  the next run is computed from the next calendar date, not by adding 24 hours.

Recurrence: ``once``, ``daily`` (every N days), ``weekly`` on chosen weekdays (every N
weeks), ``monthly`` on a day of the month; a day the month lacks (31st in April, 29-31 in
February) runs on that month's last day and returns to the 31st in the months that have it.

Quiet hours are a daily window such as ``21:00-08:00`` in the
*recipient's* zone. A number may have several candidate zones (a US number, say); the most
restrictive reading wins: a message waits until it is outside quiet hours in every candidate
zone. Missed runs are never replayed one by one: after a pause the next run is the next one
after now. (The US TCPA window for marketing texts is 08:00-21:00 in the recipient's local time,
Florida's 08:00-20:00; the account's quiet hours are where a business sets its own.)
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsdesk.domain.errors import InvalidInput

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = ("once", "daily", "weekly", "monthly")
_MAX_STEPS = 5000  # safety bound on any search over calendar dates


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``.

    Raises:
        InvalidInput: the name is not a known zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"'{name}' is not a known time zone (use a name like Europe/London).") from exc


def to_utc(wall: datetime, zone_name: str) -> datetime:
    """The UTC instant of the naive wall-clock time ``wall`` in ``zone_name``.

    A time in a skipped hour maps forward by the gap; a repeated time maps to its first
    occurrence (see the module docstring).
    """
    local = wall.replace(tzinfo=zone(zone_name), fold=0)
    return local.astimezone(UTC)


def to_local(instant: datetime, zone_name: str) -> datetime:
    """``instant`` (aware) as an aware datetime in ``zone_name``."""
    return instant.astimezone(zone(zone_name))


def is_skipped(wall: datetime, zone_name: str) -> bool:
    """True when ``wall`` does not exist in ``zone_name`` (it falls in a spring-forward gap)."""
    z = zone(zone_name)
    back = wall.replace(tzinfo=z).astimezone(UTC).astimezone(z).replace(tzinfo=None)
    return back != wall


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How a schedule repeats.

    Attributes:
        kind: ``once``, ``daily``, ``weekly`` or ``monthly``.
        interval: every N days / weeks / months (1 = every).
        weekdays: for ``weekly``, 0 = Monday .. 6 = Sunday; empty means the first run's weekday.
        month_day: for ``monthly``, 1..31; None means the first run's day of month.
    """

    kind: str = "once"
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"Repeat must be one of {', '.join(KINDS)}, not '{self.kind}'.")
        if self.interval < 1:
            raise InvalidInput("A repeat interval must be 1 or more.")
        if any(d not in range(7) for d in self.weekdays):
            raise InvalidInput("Weekdays are 0 (Monday) to 6 (Sunday).")
        if self.month_day is not None and not 1 <= self.month_day <= 31:
            raise InvalidInput("A day of the month is 1 to 31.")

    @property
    def repeats(self) -> bool:
        return self.kind != "once"

    @classmethod
    def parse(cls, text: str | None) -> Recurrence:
        """Read the CLI form: ``once``, ``daily``, ``daily/2``, ``weekly:mon,thu``, ``monthly:31``.

        Raises:
            InvalidInput: with the accepted forms.
        """
        raw = (text or "once").strip().lower()
        m = re.fullmatch(r"(once|daily|weekly|monthly)(?:/(\d+))?(?::([a-z0-9,]+))?", raw)
        if not m:
            raise InvalidInput(
                f"'{text}' is not a repeat rule; use once, daily, daily/2, weekly:mon,wed,fri or monthly:31."
            )
        kind, every, arg = m.group(1), int(m.group(2) or 1), m.group(3)
        weekdays: tuple[int, ...] = ()
        month_day = None
        if arg and kind == "weekly":
            try:
                weekdays = tuple(sorted({WEEKDAY_NAMES.index(d[:3]) for d in arg.split(",") if d}))
            except ValueError as exc:
                raise InvalidInput(f"Weekdays are {', '.join(WEEKDAY_NAMES)}; got '{arg}'.") from exc
        elif arg and kind == "monthly":
            if not arg.isdigit():
                raise InvalidInput(f"monthly:{arg} needs a day number (1-31).")
            month_day = int(arg)
        elif arg:
            raise InvalidInput(f"'{kind}' takes no ':{arg}' part.")
        return cls(kind, every, weekdays, month_day)

    def text(self) -> str:
        """The inverse of :meth:`parse`."""
        out = self.kind + (f"/{self.interval}" if self.interval != 1 else "")
        if self.kind == "weekly" and self.weekdays:
            out += ":" + ",".join(WEEKDAY_NAMES[d] for d in self.weekdays)
        if self.kind == "monthly" and self.month_day:
            out += f":{self.month_day}"
        return out

    def describe(self) -> str:
        """Words for a person, e.g. ``Every week on Mon, Thu``."""
        n = self.interval
        if self.kind == "once":
            return "Once"
        if self.kind == "daily":
            return "Every day" if n == 1 else f"Every {n} days"
        if self.kind == "weekly":
            days = ", ".join(WEEKDAY_NAMES[d].capitalize() for d in self.weekdays)
            head = "Every week" if n == 1 else f"Every {n} weeks"
            return f"{head} on {days}" if days else head
        head = "Every month" if n == 1 else f"Every {n} months"
        return f"{head} on day {self.month_day}" if self.month_day else head

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "interval": self.interval, "weekdays": list(self.weekdays), "month_day": self.month_day}
        )

    @classmethod
    def from_json(cls, text: str | None) -> Recurrence:
        data: dict[str, Any] = json.loads(text) if text else {}
        return cls(
            data.get("kind", "once"),
            int(data.get("interval", 1)),
            tuple(data.get("weekdays") or ()),
            data.get("month_day"),
        )


def _add_months(d: date, months: int, day: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day, last))


def _dates(rule: Recurrence, first: date, near: date) -> Iterator[date]:
    """Run dates of ``rule`` in order, starting at or a little before ``near`` (never before ``first``)."""
    n = rule.interval
    if rule.kind == "once":
        yield first
        return
    if rule.kind == "daily":
        k = max(0, (near - first).days // n - 1)
        while True:
            yield first + timedelta(days=k * n)
            k += 1
    if rule.kind == "weekly":
        days = rule.weekdays or (first.weekday(),)
        week0 = first - timedelta(days=first.weekday())
        k = max(0, (near - week0).days // (7 * n) - 1)
        while True:
            start = week0 + timedelta(weeks=k * n)
            for wd in days:
                d = start + timedelta(days=wd)
                if d >= first:
                    yield d
            k += 1
    # monthly
    day = rule.month_day or first.day
    months_apart = (near.year - first.year) * 12 + near.month - first.month
    k = max(0, months_apart // n - 1)
    while True:
        d = _add_months(first.replace(day=1), k * n, day)
        if d >= first:
            yield d
        k += 1


def occurrences(
    rule: Recurrence, first_local: datetime, zone_name: str, after: datetime | None = None
) -> Iterator[datetime]:
    """UTC instants of the runs of a schedule, in order, each later than ``after`` (if given).

    Args:
        rule: the recurrence.
        first_local: naive wall-clock date and time of the first run.
        zone_name: the IANA zone the wall-clock time is in.
        after: an aware instant; only runs strictly after it are produced.
    """
    first_utc = to_utc(first_local, zone_name)
    near = first_local.date()
    if after is not None:
        near = max(near, to_local(after, zone_name).date() - timedelta(days=1))
    wall = first_local.time()
    for steps, d in enumerate(_dates(rule, first_local.date(), near)):
        if steps > _MAX_STEPS:
            return
        instant = to_utc(datetime.combine(d, wall), zone_name)
        if instant < first_utc:
            continue
        if after is None or instant > after:
            yield instant


def next_run(rule: Recurrence, first_local: datetime, zone_name: str, after: datetime) -> datetime | None:
    """The first run strictly after ``after`` (aware), or None when the schedule is over."""
    return next(occurrences(rule, first_local, zone_name, after), None)


# ---- quiet hours ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, in the recipient's local time, when nothing is sent (``start`` < ``end``
    is a same-day window; otherwise it runs overnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        """``"21:00-08:00"`` -> a window; empty -> None (no quiet hours).

        Raises:
            InvalidInput: the text is not ``HH:MM-HH:MM``.
        """
        raw = (text or "").strip()
        if not raw or raw.lower() in ("off", "none"):
            return None
        m = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", raw)
        if not m:
            raise InvalidInput(f"Quiet hours '{raw}' should look like 21:00-08:00.")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise InvalidInput(f"Quiet hours '{raw}' has an impossible time.")
        if (h1, m1) == (h2, m2):
            raise InvalidInput(f"Quiet hours '{raw}' start and end at the same time.")
        return cls(time(h1, m1), time(h2, m2))

    def text(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def opening(self, local: datetime) -> datetime:
        """The naive wall-clock time the window that contains ``local`` (naive) ends."""
        end_today = datetime.combine(local.date(), self.end)
        if self.start < self.end or local.time() < self.end:
            return end_today
        return end_today + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Deferral:
    """When a message may go, and why it waits (None when it need not wait)."""

    at: datetime  # aware UTC
    reason: str | None = None


def defer_for_quiet(when: datetime, zones: Iterable[str], quiet: QuietHours | None) -> Deferral:
    """Move ``when`` (aware) out of quiet hours in every one of ``zones`` (most restrictive).

    When the zones are so far apart that no moment is outside quiet hours in all of them, the
    first zone decides (the reason says so) rather than the message waiting for ever.
    """
    zone_list = [z for z in zones if z]
    if quiet is None or not zone_list:
        return Deferral(when)
    t = when
    blocking: str | None = None
    for _ in range(len(zone_list) * 3 + 1):
        later = t
        for z in zone_list:
            local = to_local(t, z).replace(tzinfo=None)
            if quiet.contains(local.time()):
                opens = to_utc(quiet.opening(local), z)
                if opens > later:
                    later, blocking = opens, z
        if later == t:
            break
        t = later
    else:
        z0 = zone_list[0]
        local = to_local(when, z0).replace(tzinfo=None)
        t = to_utc(quiet.opening(local), z0) if quiet.contains(local.time()) else when
        blocking = z0
        if t == when:
            return Deferral(when)
        return Deferral(
            t,
            f"Quiet hours {quiet.text()}: no common window across {', '.join(zone_list)}; "
            f"waits until {to_local(t, z0):%H:%M} in {z0}.",
        )
    if t == when:
        return Deferral(when)
    z = blocking or zone_list[0]
    return Deferral(
        t, f"Quiet hours {quiet.text()} in {z}: waits until {to_local(t, z):%a %H:%M} there ({t:%H:%M} UTC)."
    )


# ---- the stored item, as services and views see it -----------------------------------------
STATES = ("scheduled", "paused", "running", "done", "cancelled", "held")
EDITABLE_STATES = ("scheduled", "paused", "held")
STATE_LABELS = {
    "scheduled": "Scheduled",
    "paused": "Paused",
    "running": "Sending",
    "done": "Done",
    "cancelled": "Cancelled",
    "held": "Held: confirm",
}


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    """One scheduled send (single, multi-recipient or a bulk run), possibly recurring.

    ``first_local`` is naive wall-clock time in ``zone``; ``next_run`` is the aware UTC
    instant of the next run (None when over). ``location`` is ``local`` (smsdesk sends it)
    or ``provider`` (handed to the provider with its own scheduling).
    """

    id: int
    account_id: int
    account: str
    kind: str
    body: str
    sender: str
    recipient_count: int
    recurrence: Recurrence
    first_local: datetime
    zone: str
    next_run: datetime | None
    state: str
    location: str
    reason: str
    version: int
    bulk_run_id: int | None
    created_at: str
    updated_at: str
    handed_off: bool = False  # provider-side: the provider holds the messages
    last_run: dict[str, Any] | None = None  # {"due", "state", "note", "counts"} of the newest run
    group_id: int | None = None  # each run takes this contact group's members at that moment

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "kind": self.kind,
            "text": self.body,
            "sender": self.sender,
            "recipients": self.recipient_count,
            "repeat": self.recurrence.text(),
            "local_time": self.first_local.isoformat(timespec="minutes"),
            "zone": self.zone,
            "next_run_utc": self.next_run.isoformat(timespec="seconds") if self.next_run else None,
            "state": self.state,
            "where": self.location,
            "handed_off": self.handed_off,
            "reason": self.reason,
            "last_run": self.last_run,
        }


def counts_text(counts: dict[str, int], skipped: int = 0) -> str:
    """``3 delivered, 1 failed`` for the history list."""
    parts = [f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    if skipped:
        parts.append(f"{skipped} skipped (opted out)")
    return ", ".join(parts) or "no messages"


__all__ = [
    "counts_text",
    "ScheduleItem",
    "Deferral",
    "QuietHours",
    "Recurrence",
    "defer_for_quiet",
    "is_skipped",
    "next_run",
    "occurrences",
    "to_local",
    "to_utc",
    "zone",
]
