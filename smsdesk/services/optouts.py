"""Opt-outs: the suppression list a person sees and edits, kept in step with providers.

Inbound STOP/START keywords (``services/inbound.py``) and providers' opted-out refusals
(``services/dispatcher.py``) already write the list; this service lists it and adds the
manual side: add or remove a number (validated, and audited in the same transaction by the
store), then tells every provider that keeps its own list.

Provider sync: ``sync_hooks`` are awaited after each manual change with ``(number, opted_out)``,
and run in the background (:meth:`OptOutService.sync_later`) for the changes that STOP / START
replies and providers' opted-out refusals make, so every provider hears of them too.
The default hook calls ``optout_add`` / ``optout_remove`` on every configured account whose
adapter has them (Mobivate's address-book opt-out list today). A provider failure does not
undo the local change (the local list is what blocks sending); it is returned so the
person sees which provider is out of step.
"""

from __future__ import annotations

import asyncio
import builtins  # the classes here have a ``list`` method, which shadows the type in annotations
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smsdesk.config.settings import Settings
from smsdesk.domain import phone
from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.storage.api import OptOutStore

log = logging.getLogger(__name__)
SyncHook = Callable[[str, bool], Awaitable[list[str]]]

_SOURCE_LABELS = {"reply": "Replied STOP", "provider": "Provider refused", "manual": "Added by hand"}


@dataclass(frozen=True, slots=True)
class OptOut:
    number: str
    source: str  # reply | provider | manual | import ...
    note: str
    created_at: str
    name: str = ""

    @property
    def source_label(self) -> str:
        return _SOURCE_LABELS.get(self.source, self.source.capitalize())

    def as_json(self) -> dict[str, str]:
        return {
            "number": self.number,
            "name": self.name,
            "source": self.source,
            "note": self.note,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class OptOutResult:
    number: str
    changed: bool  # False: it was already on (add) / not on (remove) the list
    provider_errors: builtins.list[str]


class OptOutService:
    def __init__(self, optouts: OptOutStore, bus: EventBus, accounts: AccountService, settings: Settings) -> None:
        self.bus = bus
        self.accounts = accounts
        self.repo = optouts
        self._settings = settings  # default_region: how typed numbers are read
        self.sync_hooks: builtins.list[SyncHook] = [self._sync_providers]
        self._syncing: set[asyncio.Task[None]] = set()
        # FIFO (asyncio locks are fair): a quick STOP then START reach providers in that order.
        self._sync_order: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def list(self) -> builtins.list[OptOut]:
        return [OptOut(*r) for r in self.repo.list_with_names()]

    def is_opted_out(self, number: str) -> bool:
        return self.repo.is_opted_out(number)

    def normalise(self, raw: str) -> str:
        """+E.164 for what a person typed.

        Raises:
            InvalidNumber: with the reason.
        """
        return phone.parse(raw, self._settings.default_region).e164

    async def add(self, raw: str, note: str = "") -> OptOutResult:
        number = self.normalise(raw)
        changed = await self.repo.add(number, "manual", note.strip()[:200])
        return await self._after(number, changed, True)

    async def remove(self, raw: str) -> OptOutResult:
        number = self.normalise(raw)
        changed = await self.repo.remove(number, "manual")
        return await self._after(number, changed, False)

    async def _after(self, number: str, changed: bool, opted_out: bool) -> OptOutResult:
        if changed:
            self.bus.publish(Changes(optouts=True))
        errors: builtins.list[str] = []
        for hook in list(self.sync_hooks):
            try:
                errors += await hook(number, opted_out)
            except SmsdeskError as exc:
                errors.append(str(exc))
        return OptOutResult(number, changed, errors)

    def sync_later(self, changes: builtins.list[tuple[str, bool]]) -> None:
        """Tell providers of opt-out changes made elsewhere (a reply, a refusal), in the background.

        Called from the app loop after the change is committed; a provider that cannot be
        told is logged (the local list, which is what blocks sending, is already right).
        """
        if not changes:
            return
        task = asyncio.get_running_loop().create_task(self._sync_all(list(changes)))
        self._syncing.add(task)
        task.add_done_callback(self._syncing.discard)

    async def _sync_all(self, changes: builtins.list[tuple[str, bool]]) -> None:
        loop = asyncio.get_running_loop()
        if self._sync_order is None or self._sync_order[0] is not loop:
            self._sync_order = (loop, asyncio.Lock())
        async with self._sync_order[1]:
            await self._sync_each(changes)

    async def _sync_each(self, changes: builtins.list[tuple[str, bool]]) -> None:
        for number, opted_out in changes:
            for hook in builtins.list(self.sync_hooks):
                try:
                    errors = await hook(number, opted_out)
                except SmsdeskError as exc:
                    errors = [str(exc)]
                except Exception:  # noqa: BLE001 - a background task: log, never lose the loop
                    log.exception("opt-out sync of %s failed", number)
                    continue
                for err in errors:
                    log.warning("opt-out %s of %s not mirrored: %s", "add" if opted_out else "removal", number, err)

    async def drain(self, wait_s: float = 5.0) -> None:
        """Wait (at most ``wait_s`` seconds) for background syncs, then cancel what is left
        (shutdown: the HTTP clients close next), with one warning; the local list, which is
        what blocks sending, is already right."""
        if not self._syncing:
            return
        _done, late = await asyncio.wait(builtins.list(self._syncing), timeout=wait_s)
        for task in late:
            log.warning("an opt-out sync to a provider did not finish before shutdown")
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)

    async def _sync_providers(self, number: str, opted_out: bool) -> builtins.list[str]:
        errors: builtins.list[str] = []
        for account in self.accounts.all():
            try:
                adapter = self.accounts.adapter(account.id)
            except SmsdeskError:
                continue  # an account that cannot be built (missing key) has nothing to sync
            method = getattr(adapter, "optout_add" if opted_out else "optout_remove", None)
            if method is None:
                continue
            try:
                await method(number)
            except SmsdeskError as exc:
                log.warning("opt-out sync to %s failed: %s", account.name, exc)
                errors.append(f"{account.name}: {exc}")
        return errors
