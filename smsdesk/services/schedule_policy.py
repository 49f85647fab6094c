"""Time for the scheduled queue: its clock, the zone a typed time is read in, and quiet hours.

Shared by the scheduler's commands, its due-time runner, run planning and the provider
hand-off, so all of them agree on "now" (tests and benchmarks set :attr:`SchedulePolicy.clock`)
and on who is in quiet hours when.

Quiet hours are an account setting (``quiet_hours = "21:00-08:00"``) read in the recipient's
time zone: a number's zones come from its country (several for some, such as the UK's with
Guernsey and Jersey; the sender's own zone is tried first when it is one of them).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from smsdesk.config.settings import Settings
from smsdesk.domain import phone
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.schedule import QuietHours, defer_for_quiet, zone
from smsdesk.services.accounts import AccountService

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


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


class SchedulePolicy:
    def __init__(
        self,
        accounts: AccountService,
        clock: Clock = utc_now,
        zones_for: Callable[[str], Sequence[str]] = phone.time_zones,
        default_zone: Callable[[], str] = local_zone_name,
    ) -> None:
        self.accounts = accounts
        self.clock = clock
        self.zones_for = zones_for
        self.default_zone = default_zone

    def now(self) -> datetime:
        return self.clock()

    def quiet_hours(self, account_id: int) -> QuietHours | None:
        account = self.accounts.get(account_id)
        try:
            return QuietHours.parse(str(account.settings.get("quiet_hours") or ""))
        except InvalidInput:
            log.warning("account %s has unreadable quiet hours; ignoring them", account.name)
            return None

    def zones(self, number: str, preferred: str) -> tuple[str, ...]:
        """The number's candidate zones, the sender's own zone first when it is one of them (a UK
        mobile's candidates include Guernsey and Jersey; "London" reads better and ties go first)."""
        found = tuple(self.zones_for(number))
        if not found:
            return (preferred,)
        return tuple(sorted(found, key=lambda z: z != preferred))

    def quiet_note(self, account_id: int, numbers: Sequence[str], when: datetime) -> str:
        """What quiet hours would do to a send at ``when`` (aware), for a warning before saving."""
        quiet = self.quiet_hours(account_id)
        waits = [
            d for d in (defer_for_quiet(when, self.zones(n, self.default_zone()), quiet) for n in numbers) if d.reason
        ]
        if not waits:
            return ""
        return f"{len(waits)} of {len(numbers)} recipient(s) are in quiet hours then. {waits[0].reason}"


def business_zone(settings: Settings) -> ZoneInfo:
    """The business's time zone (Settings -> General), else this computer's; UTC if unknown here."""
    try:
        return zone(settings.business_zone or local_zone_name())
    except InvalidInput:  # a zone the settings file holds but this machine's zone data lacks
        return ZoneInfo("UTC")
