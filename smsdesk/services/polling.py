"""Polling: ask providers for statuses and replies when they cannot (or cannot yet) call in.

Which accounts: those whose provider declares ``caps.status_poll`` / ``caps.inbound_poll``,
when no tunnel is up for them (a provider without webhooks, such as Send-2, is always polled).
An account setting ``polling`` may say ``always`` or ``off``; the default is ``auto``.

- Status: every outgoing message with a provider id and a non-final status is polled on its
  own back-off (first after ``first_delay``, then doubling up to ``max_delay``) until the
  provider says something final, or it is older than ``max_age`` (receipts are best-effort;
  some networks never send one).
- Replies: ``poll_inbound(since)`` every ``inbound_every`` seconds; the cursor is kept in
  ``kv`` with an overlap (duplicates are dropped by provider id when stored).
- Every provider call for an account passes one rate limiter (``poll_per_second`` account
  setting, default 2/s, never above the provider's own send limit), one call at a time.
- Results go through ``InboundService.apply_receipts`` / ``store_inbound``: the same
  forward-only path as webhooks.
- A provider error backs the whole account off (5 s doubling to 5 min, and never sooner than
  the provider's ``Retry-After``) and is shown, worded for a person, in :attr:`PollingService.state`.
- While a relay (``smsdesk serve``) on the same database is alive, this process leaves the
  polling to it (``RelayService.elsewhere``): two processes polling one account would halve its
  rate limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smsdesk.domain.errors import ProviderError, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account, StatusEvent
from smsdesk.providers.base import Provider
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.inbound import InboundService
from smsdesk.services.relay import RelayService
from smsdesk.services.tunnel import TunnelService
from smsdesk.storage.api import PollStore

log = logging.getLogger(__name__)

BACKOFF_START_S = 5.0
BACKOFF_MAX_S = 300.0
RETRY_AFTER_MAX_S = 3600.0  # a provider asking for more than an hour is capped (and says so)


@dataclass
class PollState:
    """One account's polling, for the Settings -> Webhooks panel and ``smsdesk serve``."""

    active: bool = False
    reason: str = ""  # why it is (not) polling, in words
    tracked: int = 0  # open messages being polled
    last_poll: float = 0.0  # wall clock
    last_error: str = ""
    polls: int = 0


@dataclass
class _Track:
    due: float
    delay: float


class _Limiter:
    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        wait = self._next - now
        self._next = max(now, self._next) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class PollingService:
    """Runs on the app loop until :meth:`stop`."""

    def __init__(
        self,
        polls: PollStore,
        accounts: AccountService,
        inbound: InboundService,
        bus: EventBus,
        tunnel: TunnelService,
        relay: RelayService,
        *,
        tick: float = 1.0,
        first_delay: float = 5.0,
        max_delay: float = 600.0,
        inbound_every: float = 20.0,
        max_age: timedelta = timedelta(days=3),
        overlap: timedelta = timedelta(minutes=2),
    ) -> None:
        self.accounts = accounts
        self.inbound = inbound
        self.bus = bus
        self.repo = polls
        self._tunnel = tunnel
        self._relay = relay
        self.tick = tick
        self.backoff_start = BACKOFF_START_S
        self.backoff_max = BACKOFF_MAX_S
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.inbound_every = inbound_every
        self.max_age = max_age
        self.overlap = overlap
        self.state: dict[int, PollState] = {}
        self._tracks: dict[int, dict[int, _Track]] = {}  # account -> message id -> schedule
        self._pmids: dict[int, str] = {}  # message id -> provider message id
        self._limiters: dict[int, _Limiter] = {}
        self._inbound_due: dict[int, float] = {}
        self._backoff: dict[int, tuple[float, float]] = {}  # account -> (resume at, delay)
        self._dirty = True
        self._last_refresh = 0.0
        self._stopping = False
        self._wake = asyncio.Event()
        self._warned: set[tuple[int, str]] = set()
        bus.subscribe(self._on_changes)

    # ---- control -----------------------------------------------------------------------
    def _on_changes(self, ch: Changes) -> None:
        if ch.message_ids or ch.accounts or ch.webhooks or ch.everything:
            self._dirty = True
        if ch.accounts or ch.everything:
            self._limiters.clear()  # an edited "Polls per second" applies to the next poll
        if ch.reception:
            self.kick()  # a tunnel or a relay came or went: who polls what changed

    def kick(self) -> None:
        """Re-read open messages and poll what is due now (e.g. after the tunnel changed)."""
        self._dirty = True
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def should_poll(self, account: Account) -> tuple[bool, str]:
        """(poll?, why) for an account: its capabilities, its setting and the tunnel."""
        try:
            caps = self.accounts.spec(account).caps
        except SmsdeskError as exc:
            return False, str(exc)
        if not (caps.status_poll or caps.inbound_poll):
            return False, "the provider has no status or reply endpoints"
        mode = str(account.settings.get("polling") or "auto").lower()
        if mode == "off":
            return False, "polling is switched off for this account"
        relay = self._relay.elsewhere()
        if relay:
            return False, f"{relay} polls it"
        if mode == "always":
            return True, "polling is switched on for this account"
        if not caps.webhooks:
            return True, "the provider has no webhooks"
        if self._tunnel.is_up(account.id):
            return False, "a tunnel is up: the provider calls in"
        return True, "no tunnel is up"

    # ---- the loop ----------------------------------------------------------------------
    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep polling whatever one round did
                log.exception("polling round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick)

    async def poll_once(self) -> None:
        """One round: refresh the plan, then poll every account that has something due."""
        now = time.monotonic()
        refresh = self._dirty or now - self._last_refresh > 30
        accounts = self.accounts.all()
        seen: set[int] = set()
        jobs = []
        for account in accounts:
            seen.add(account.id)
            st = self.state.setdefault(account.id, PollState())
            active, reason = self.should_poll(account)
            st.active, st.reason = active, reason
            if not active:
                self._tracks.pop(account.id, None)
                st.tracked, st.last_error = 0, ""
                continue
            if refresh:
                self._refresh(account.id, now)
            st.tracked = len(self._tracks.get(account.id, {}))
            resume = self._backoff.get(account.id, (0.0, 0.0))[0]
            if now >= resume:
                jobs.append(self._poll_account(account, now))
        for gone in set(self.state) - seen:
            self.state.pop(gone, None)
            self._tracks.pop(gone, None)
        if refresh:
            self._dirty = False
            self._last_refresh = now
        if jobs:
            await asyncio.gather(*jobs)

    def _refresh(self, account_id: int, now: float) -> None:
        after = (datetime.now(UTC) - self.max_age).isoformat(timespec="milliseconds")
        rows = self.repo.open_sends(account_id, after)
        old = self._tracks.get(account_id, {})
        fresh: dict[int, _Track] = {}
        for r in rows:
            fresh[r.id] = old.get(r.id) or _Track(now + self.first_delay, self.first_delay)
            self._pmids[r.id] = r.provider_message_id
        for gone in set(old) - set(fresh):
            self._pmids.pop(gone, None)
        self._tracks[account_id] = fresh

    def _limiter(self, account: Account, adapter: Provider) -> _Limiter:
        lim = self._limiters.get(account.id)
        if lim is None:
            try:
                wanted = float(account.settings.get("poll_per_second") or 2.0)
            except (TypeError, ValueError):
                wanted = 2.0
            if not math.isfinite(wanted) or wanted <= 0:  # "at most N per second": never unlimited
                wanted = 2.0
            rate = min(wanted, adapter.spec.limits.per_second or wanted)
            lim = self._limiters[account.id] = _Limiter(rate)
        return lim

    async def _poll_account(self, account: Account, now: float) -> None:
        st = self.state[account.id]
        try:
            adapter = self.accounts.adapter(account.id)
            caps = adapter.spec.caps
            limiter = self._limiter(account, adapter)
            if caps.status_poll:
                await self._poll_statuses(account, adapter, limiter, now)
            if caps.inbound_poll and now >= self._inbound_due.get(account.id, 0.0):
                await self._poll_replies(account, adapter, limiter)
                self._inbound_due[account.id] = time.monotonic() + self.inbound_every
        except ProviderError as exc:
            self._failed(account, str(exc), retry_after=exc.retry_after)
            return
        except SmsdeskError as exc:
            self._failed(account, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not stop every account's polling
            if (account.id, repr(exc)) not in self._warned:
                log.exception("polling %s failed unexpectedly", account.name)
            self._failed(account, f"{type(exc).__name__}: {exc}", key=repr(exc))
            return
        self._backoff.pop(account.id, None)
        if st.last_error:
            log.info("polling %s works again", account.name)
            self._warned = {w for w in self._warned if w[0] != account.id}
        st.last_error = ""

    def _failed(self, account: Account, error: str, key: str | None = None, retry_after: float | None = None) -> None:
        st = self.state[account.id]
        _, prev = self._backoff.get(account.id, (0.0, 0.0))
        delay = min(self.backoff_max, max(self.backoff_start, prev * 2))
        wait, seen = delay, (account.id, key or error)
        if retry_after and retry_after > 0:
            # The provider said when to come back (429 / 503 Retry-After): asking sooner only
            # prolongs the block. The doubling goes on from our own delay, not from its figure.
            asked = min(float(retry_after), RETRY_AFTER_MAX_S)
            wait = max(delay, asked)
            error = f"{error} (the provider asked to wait {asked:.0f} s)"
        self._backoff[account.id] = (time.monotonic() + wait, delay)
        st.last_error = error
        if seen not in self._warned:  # once per distinct error, not every round
            self._warned.add(seen)
            if key is None:
                log.warning("polling %s failed: %s (retrying with back-off)", account.name, error)
        self.bus.publish(Changes(webhooks=True))

    async def _poll_statuses(self, account: Account, adapter: Provider, limiter: _Limiter, now: float) -> None:
        tracks = self._tracks.get(account.id, {})
        due = [mid for mid, t in tracks.items() if t.due <= now]
        if not due:
            return
        events: list[StatusEvent] = []
        st = self.state[account.id]
        try:
            for mid in due:
                pmid = self._pmids.get(mid)
                if not pmid or self._stopping:
                    continue
                await limiter.acquire()
                ev = await adapter.poll_status(pmid)
                st.polls += 1
                st.last_poll = time.time()
                track = tracks.get(mid)
                if ev is not None:
                    # Match on the id we asked about, whatever id shape the answer carries.
                    events.append(dataclasses.replace(ev, provider_message_id=pmid))
                    if ev.status.is_final:
                        tracks.pop(mid, None)
                        continue
                if track is not None:
                    track.delay = min(self.max_delay, track.delay * 2)
                    track.due = time.monotonic() + track.delay
        finally:
            if events:  # what we learnt before an error is still applied
                await self.inbound.apply_receipts(account.id, events)

    async def _poll_replies(self, account: Account, adapter: Provider, limiter: _Limiter) -> None:
        started = datetime.now(UTC)
        cursor = self.repo.cursor(account.id)
        # The first poll asks for recent replies, not the whole history.
        since = datetime.fromisoformat(cursor) - self.overlap if cursor else started - timedelta(hours=1)
        await limiter.acquire()
        replies = await adapter.poll_inbound(since)
        st = self.state[account.id]
        st.polls += 1
        st.last_poll = time.time()
        if replies:
            await self.inbound.store_inbound(account.id, list(replies))
        value = started.isoformat(timespec="milliseconds")
        await self.repo.set_cursor(account.id, value)
