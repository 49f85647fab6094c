"""Low-balance warnings, for providers that report what is left on the account (Send-2).

An account with a warning level (``low_balance``, in the provider's units) has its balance
read when smsdesk starts, every few minutes after, and soon after each send; below the level,
:attr:`BalanceWatch.low` holds a sentence for the window's banner. A balance that cannot be
read is not a warning here (Settings -> Accounts says why on the account itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus

LOW_KEY = "low_balance"
EVERY = 600.0  # seconds between checks
SPACING = 60.0  # at least this long between checks asked for by sends
log = logging.getLogger(__name__)


def warning_level(account: Account) -> float | None:
    raw = str(account.settings.get(LOW_KEY) or "").strip()
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def low_words(account: Account, provider: str, balance: float, level: float) -> str:
    return (
        f"{account.name}'s balance is {balance:,g} units, below your warning level of {level:,g}: "
        f"top it up with {provider} before sends start to fail."
    )


class BalanceWatch:
    def __init__(self, accounts: AccountService, bus: EventBus, every: float = EVERY, spacing: float = SPACING) -> None:
        self.accounts = accounts
        self.bus = bus
        self.every = every
        self.spacing = spacing
        self.low: dict[int, str] = {}  # account id -> the warning, while the balance is low
        self._kick = asyncio.Event()
        self._stopping = False
        self._any: bool | None = None  # whether any account has a warning level (None: not read yet)

    def watched(self) -> list[Account]:
        return [a for a in self.accounts.all() if self.accounts.spec(a).caps.balance and warning_level(a) is not None]

    async def check(self, account: Account) -> str:
        """Read ``account``'s balance now; returns the warning ("" when above the level or unknown)."""
        level = warning_level(account)
        if level is None:
            return ""
        try:
            balance = await self.accounts.balance(account)
        except SmsdeskError as exc:
            log.info("balance of %s unavailable: %s", account.name, exc)
            return self.low.get(account.id, "")
        if balance is None or balance >= level:
            return ""
        return low_words(account, self.accounts.spec(account).name, balance, level)

    async def check_all(self) -> None:
        found = {a.id: words for a in self.watched() if (words := await self.check(a))}
        if found != self.low:
            self.low = found
            self.bus.publish(Changes(balances=True))

    def kick(self) -> None:
        """Check again soon (after a send, or a change to an account)."""
        self._kick.set()

    def on_changes(self, changes: Changes) -> None:
        """Messages went out: what is left may have crossed the warning level. Called for every
        change the bus carries (each batch of a send), so it reads the accounts only when they
        change."""
        if changes.accounts or changes.everything:
            self._any = None
        if not changes.message_ids:
            return
        if self._any is None:
            self._any = bool(self.watched())
        if self._any:
            self.kick()

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.check_all()
            except Exception:  # noqa: BLE001 - a warning must never stop smsdesk
                log.warning("balance check failed", exc_info=True)
            self._kick.clear()
            await asyncio.sleep(self.spacing)  # a burst of sends is one check
            if not self._kick.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), timeout=max(0.0, self.every - self.spacing))

    def stop(self) -> None:
        self._stopping = True
        self._kick.set()
