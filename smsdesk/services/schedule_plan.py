"""Building blocks of the scheduler: the request a person makes, the plan of one run, clocks
and this computer's zone. Kept apart from :mod:`smsdesk.services.scheduler` to keep both short.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.schedule import Deferral, Recurrence, ScheduleItem, defer_for_quiet, zone
from smsdesk.domain.segments import analyze
from smsdesk.domain.status import Status
from smsdesk.storage.messages import NewOutgoing, opted_out_reason

if TYPE_CHECKING:
    from smsdesk.services.scheduler import SchedulerService


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def local_zone_name() -> str:
    """This computer's IANA zone name (``TZ``, ``/etc/timezone`` or ``/etc/localtime``), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                zone(name)
                return name
            except InvalidInput:
                continue
    return "UTC"


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


@dataclass(slots=True)
class RunPlan:
    items: list[NewOutgoing]
    deferred: dict[int, str]  # index in items -> why it waits
    skipped: int
    note: str
    rejected: dict[int, str] = field(default_factory=dict)  # index in items -> why it is not sent


def make_plan(svc: SchedulerService, item: ScheduleItem, now: datetime) -> RunPlan:
    """What a run of ``item`` at ``now`` writes: its messages (quiet-hour recipients deferred,
    opted-out ones skipped) and a note saying why.

    A bulk run's opted-out recipients are not skipped but written ``rejected`` with the reason:
    the import's report accounts for every accepted row (rows in = accepted + rejected).
    """
    quiet = svc.quiet_hours(item.account_id)
    items: list[NewOutgoing] = []
    deferred: dict[int, str] = {}
    rejected: dict[int, str] = {}
    skipped = 0
    analysed: dict[str, Any] = {}  # a bulk run repeats few distinct texts
    reader = svc.db.reader()
    for number, body in svc.repo.recipients(item.id):
        how = opted_out_reason(reader, number)
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
        d = defer_for_quiet(now, svc.zones(number, item.zone), quiet) if quiet else Deferral(now)
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
    return RunPlan(items, deferred, skipped, " ".join(notes), rejected)
