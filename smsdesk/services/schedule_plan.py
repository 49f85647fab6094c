"""Building blocks of the scheduler: the request a person makes, the plan of one run, clocks
and this computer's zone. Kept apart from :mod:`smsdesk.services.scheduler` to keep both short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.schedule import Deferral, Recurrence, ScheduleItem, defer_for_quiet, occurrences, to_local, zone
from smsdesk.domain.segments import analyze
from smsdesk.domain.status import Status
from smsdesk.storage.records import NewOutgoing, RunMessages

if TYPE_CHECKING:
    from smsdesk.services.accounts import AccountService
    from smsdesk.services.schedule_policy import SchedulePolicy
    from smsdesk.services.send import SendService
    from smsdesk.storage.api import OptOutStore, ScheduleStore


T = TypeVar("T")
OFF_LOOP_AT = 200  # recipients; below this the work takes a few milliseconds


async def off_loop(size: int, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` in a worker thread when the batch is big: checking and planning 10,000
    numbers takes seconds of phonenumbers work, which must not freeze the window (the GUI
    runs the scheduler's loop on its own thread). Reads use per-thread connections, so this is safe."""
    if size < OFF_LOOP_AT:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class ScheduleRequest:
    """What a person asks for. ``when`` is naive wall-clock time in ``zone`` or an aware instant."""

    account_id: int
    recipients: Sequence[str]
    text: str
    when: datetime
    zone: str | None = None  # None: this computer's zone
    recurrence: Recurrence = field(default_factory=Recurrence)
    sender: str | None = None
    personalised: dict[str, str] = field(default_factory=dict)  # number -> text (bulk)
    bulk_run_id: int | None = None
    provider_side: bool | None = None  # None: the account's opt-in decides
    group_id: int | None = None  # every run takes this group's members then (``recipients`` unused)


def make_plan(
    policy: SchedulePolicy, schedules: ScheduleStore, optouts: OptOutStore, item: ScheduleItem, now: datetime
) -> RunMessages:
    """What a run of ``item`` at ``now`` writes: its messages (quiet-hour recipients deferred,
    opted-out ones skipped) and a note saying why.

    A bulk run's opted-out recipients are not skipped but written ``rejected`` with the reason:
    the import's report accounts for every accepted row (rows in = accepted + rejected).
    """
    quiet = policy.quiet_hours(item.account_id)
    items: list[NewOutgoing] = []
    deferred: dict[int, str] = {}
    rejected: dict[int, str] = {}
    skipped = 0
    analysed: dict[str, Any] = {}  # a bulk run repeats few distinct texts
    recipients = schedules.recipients(item.id)
    opted_out = optouts.reasons([number for number, _ in recipients])
    for number, body in recipients:
        how = opted_out.get(number)
        text = body or item.body
        if how is not None:
            if item.bulk_run_id is None:
                skipped += 1
                continue
            info = analysed.get(text) or analysed.setdefault(text, analyze(text))
            rejected[len(items)] = (
                f"Not sent: {number} opted out ({how}) before it went. Send again only if they opt back in."
            )
            items.append(
                NewOutgoing(
                    item.account_id,
                    number,
                    item.sender,
                    text,
                    info.segments,
                    info.encoding,
                    Status.REJECTED,
                    None,
                    item.bulk_run_id,
                )
            )
            continue
        info = analysed.get(text) or analysed.setdefault(text, analyze(text))
        # Zone look-up is most of the cost of a big run: only when quiet hours are on.
        d = defer_for_quiet(now, policy.zones(number, item.zone), quiet) if quiet else Deferral(now)
        if d.reason:
            deferred[len(items)] = d.reason
            items.append(
                NewOutgoing(
                    item.account_id,
                    number,
                    item.sender,
                    text,
                    info.segments,
                    info.encoding,
                    Status.SCHEDULED,
                    iso(d.at),
                    item.bulk_run_id,
                )
            )
        else:
            items.append(
                NewOutgoing(
                    item.account_id,
                    number,
                    item.sender,
                    text,
                    info.segments,
                    info.encoding,
                    Status.QUEUED,
                    None,
                    item.bulk_run_id,
                )
            )
    notes = []
    if deferred:
        notes.append(f"{len(deferred)} of {len(items)} wait for quiet hours. {next(iter(deferred.values()))}")
    if skipped or rejected:
        notes.append(f"{skipped + len(rejected)} not sent: opted out.")
    return RunMessages(items, deferred, skipped, " ".join(notes), rejected)


def check_request(
    accounts: AccountService,
    sending: SendService,
    account_id: int,
    raw: Sequence[str],
    text: str,
    personalised: dict[str, str],
) -> list[tuple[str, str | None]]:
    """The recipients of a request as (+E.164, personalised text or None), duplicates dropped.

    Raises:
        InvalidInput: no recipient, a number that is not usable, or a text the account refuses.
    """
    account = accounts.get(account_id)
    sending.check_text(account, text)
    if not raw:
        raise InvalidInput("Add at least one recipient.")
    out: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    problems = []
    for r in raw:
        rec = sending.check_recipient(r)
        if rec.error:
            problems.append(rec.error)
        elif rec.number and rec.number not in seen:
            seen.add(rec.number)
            out.append((rec.number, personalised.get(rec.number) or personalised.get(r)))
    if problems:
        raise InvalidInput(" ".join(problems))
    return out


def first_run(when: datetime, zone_name: str, rule: Recurrence, now: datetime) -> tuple[datetime, datetime]:
    """(naive wall-clock first run in the zone, UTC instant of the first real run).

    Raises:
        InvalidInput: an unknown zone, a rule that never runs, or a time already past.
    """
    zone(zone_name)
    wall = to_local(when, zone_name).replace(tzinfo=None) if when.tzinfo else when
    first = next(occurrences(rule, wall, zone_name), None)
    if first is None:
        raise InvalidInput("That repeat rule never runs.")
    if first < now - timedelta(minutes=1):
        raise InvalidInput(f"{wall:%d %b %Y %H:%M} ({zone_name}) is in the past; pick a later time.")
    return wall.replace(second=0, microsecond=0), first
