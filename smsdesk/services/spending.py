"""Spend protection: an account's monthly spending limit, checked before money is spent.

A send that would take this calendar month's spending (in the business's time zone, in the
account's currency) over the account's limit waits for a person: Compose and the bulk wizard
ask, the command line needs ``--over-limit``, and automatic replies are not sent. Spending is
every message queued this month at the price it was queued at (cancelled ones and those the
provider refused cost nothing), and the rows of running and paused bulk sends still to be
queued (a bulk send queues a window at a time) at the account's price per part; a message
whose price is unknown cannot be counted, and a send whose cost is unknown is not held (the
estimate says "cost unknown" instead).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.pricing import money
from smsdesk.services.accounts import AccountService
from smsdesk.storage.records import SpendCap
from smsdesk.storage.report_api import ReportStore

LIMIT_KEY = "monthly_limit"


class SpendGuard:
    def __init__(self, reports: ReportStore, accounts: AccountService, zone: Callable[[], ZoneInfo]) -> None:
        self.reports = reports
        self.accounts = accounts
        self.zone = zone

    def limit(self, account_id: int) -> Decimal | None:
        """The account's monthly limit, or None when it has none."""
        try:
            raw = str(self.accounts.get(account_id).settings.get(LIMIT_KEY) or "").strip()
            value = Decimal(raw) if raw else None
        except (InvalidOperation, SmsdeskError):  # a missing account, or a limit that does not read: none
            return None
        return value if value is not None and value.is_finite() and value >= 0 else None

    def month_start(self, now: datetime | None = None) -> datetime:
        local = (now or datetime.now(UTC)).astimezone(self.zone())
        return datetime.combine(local.date().replace(day=1), time(0), local.tzinfo).astimezone(UTC)

    def spent(self, account_id: int, now: datetime | None = None) -> Decimal:
        """This month's spending in the account's currency (other currencies are not added in)."""
        currency = self.accounts.prices(account_id).currency
        start = self.month_start(now).isoformat(timespec="milliseconds")
        total = Decimal(0)
        for cur, price, parts in self.reports.spend(account_id, start):
            if price and cur == currency:
                total += Decimal(price) * parts
        return total

    def cap(self, account_id: int, now: datetime | None = None) -> SpendCap | None:
        """The limit as the queueing write checks it again, with every send committed meanwhile
        counted (``storage/spend_cap.py``); None when the account has none.

        :meth:`over_limit` is asked first, before anything is written; this catches two sends
        that each fit alone (two desktops of a workspace, or a desktop and a relay's automatic
        reply, at the same moment) and together would not."""
        limit = self.limit(account_id)
        if limit is None:
            return None
        name = self.accounts.get(account_id).name
        currency = self.accounts.prices(account_id).currency
        reason = (
            f"Other sends took {name}'s spending this month close to its monthly limit of "
            f"{money(limit, currency)} meanwhile, and this one would go over it."
        )
        since = self.month_start(now).isoformat(timespec="milliseconds")
        base = self.accounts.prices(account_id).base or ""
        return SpendCap(account_id, since, str(limit), currency, reason, pending_price=base)

    def over_limit(self, account_id: int, cost: Decimal | float | None, now: datetime | None = None) -> str:
        """Why a send costing ``cost`` must wait for a person, or "" when it may go."""
        limit = self.limit(account_id)
        if limit is None or cost is None:
            return ""
        cost = Decimal(str(cost))
        if cost <= 0:
            return ""
        spent, coming = self.spent(account_id, now), self.still_to_send(account_id)
        if spent + coming + cost <= limit:
            return ""
        name = self.accounts.get(account_id).name
        currency = self.accounts.prices(account_id).currency
        also = f", {money(coming, currency)} more in bulk sends still sending" if coming else ""
        return (
            f"This would take {name}'s spending this month to {money(spent + coming + cost, currency)}, over "
            f"its monthly limit of {money(limit, currency)} ({money(spent, currency)} spent so far{also})."
        )

    def still_to_send(self, account_id: int) -> Decimal:
        """What the account's running and paused bulk sends will still spend: their rows not yet
        queued, at the account's price per part (a bulk send queues a window at a time)."""
        base = self.accounts.prices(account_id).base
        if not base:
            return Decimal(0)
        parts = self.reports.pending_parts(account_id)
        return Decimal(base) * parts if parts else Decimal(0)
