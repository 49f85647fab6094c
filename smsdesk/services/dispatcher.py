"""The send path's back half: take due outbox rows and hand them to adapters.

Per account, a lane holds a bounded number of sends in flight (the account's concurrency
setting; unbounded httpx concurrency fails, ARCHITECTURE.md pitfall 3) under a token-bucket
rate limit. Each row is *claimed* in a transaction first, so when the GUI and ``smsdesk
serve`` share a database exactly one dispatcher sends it. Failures follow the error kind:
retryable -> back-off with jitter, honouring Retry-After; ambiguous -> ``needs_review``, which
``ReviewService`` settles with the provider where it can be asked; permanent -> ``failed`` with the provider's words,
or ``rejected`` when the provider refused that message (``ProviderError.rejected``, an
opted-out recipient, an item refused inside a batch). Just before a row is claimed its number
is checked against the opt-out list again (it may have replied STOP since it was queued).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import math
import os
import random
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smsdesk.domain.errors import ErrorKind, InvalidInput, ProviderError, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import OutboundMessage, SendResult
from smsdesk.domain.optout import PROVIDER_OPTED_OUT
from smsdesk.domain.status import Status, can_move
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.storage import bulk_sends as bulk_store
from smsdesk.storage import messages as msg_store
from smsdesk.storage import optouts as opt_store
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.messages import MessageRepository

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 120.0
HEARTBEAT_S = 10.0
DEAD_AFTER_S = 45.0


@dataclass(slots=True)
class _Claimed:
    id: int
    account_id: int
    local_id: str
    remote: str
    sender: str
    body: str
    send_at: str | None
    run_id: int | None
    attempts: int


def _claim_many(
    conn: sqlite3.Connection, ids: list[int], me: str, run_id: int | None = -1
) -> tuple[list[_Claimed], list[int]]:
    """Claim due queued rows (exactly one dispatcher wins each); ``run_id`` None: no bulk run.

    Returns the claimed rows and the ids rejected instead because the number opted out since
    the row was queued (the last check before anything goes; same transaction as the claim).
    """
    # a bulk run paused since these ids were queued up (rows outside a run cannot be held)
    held = bulk_store.held_ids(conn, ids) if run_id is not None else set()
    todo = [mid for mid in ids if mid not in held]
    rejected = msg_store.reject_opted_out(conn, todo)
    if rejected:
        gone = set(rejected)
        todo = [mid for mid in todo if mid not in gone]
    got = {r[0]: _Claimed(*r) for r in msg_store.claim_due(conn, todo, me)}
    return [got[mid] for mid in todo if mid in got], rejected  # in queue order, as before


def backoff_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Full-jitter exponential back-off, never shorter than the provider's Retry-After."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** max(0, attempt - 1)))
    delay = rng.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 3600.0))
    return delay


class _RateLimiter:
    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class _Lane:
    """One account's queue of claimed-to-be ids, its workers and its limits."""

    def __init__(self, concurrency: int, per_second: float) -> None:
        self.queue: collections.deque[tuple[int, int | None]] = collections.deque()
        self.workers: set[asyncio.Task[None]] = set()
        self.concurrency = max(1, concurrency)
        self.limiter = _RateLimiter(per_second)


class Dispatcher:
    """Runs until :meth:`stop`; :meth:`kick` wakes it when something was queued."""

    def __init__(
        self,
        db: Database,
        accounts: AccountService,
        bus: EventBus,
        dispatcher_id: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.db = db
        self.accounts = accounts
        self.bus = bus
        self.messages = MessageRepository(db)
        self.id = dispatcher_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lanes: dict[int, _Lane] = {}
        self._pending: set[int] = set()
        bus.subscribe(self._on_changes)
        # Told, after COMMIT, each number a provider refused as opted out (it joined our list),
        # so providers that keep their own list are kept in step (OptOutService.sync_later).
        self.on_optouts: Callable[[list[tuple[str, bool]]], None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._rng = random.Random(seed)
        self.sent_count = 0
        self._last_beat = 0.0
        self._recording: set[asyncio.Task[None]] = set()  # result writes still committing

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    @property
    def busy(self) -> bool:
        return bool(self._pending or self._recording)

    async def run(self) -> None:
        await self._beat(force=True)
        while not self._stopping:
            self._wake.clear()
            try:
                await self._beat()
                # Scheduled rows are promoted by SchedulerService (services/scheduler.py).
                self._fill()
            except SmsdeskError:
                log.exception("dispatcher pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
        for lane in self._lanes.values():
            for task in list(lane.workers):
                task.cancel()
        if self._recording:
            await asyncio.gather(*self._recording, return_exceptions=True)

    async def _beat(self, force: bool = False) -> None:
        """Say we are alive and, as often, look for claims of dispatchers that are not.

        Not only at start: when ``smsdesk serve`` is killed while the GUI runs on (or the app
        is killed and reopened before its heartbeat is stale), its claimed rows would
        otherwise stay claimed for ever and their scheduled item "running".
        """
        now = time.monotonic()
        if force or now - self._last_beat > HEARTBEAT_S:
            self._last_beat = now
            await self.db.write(lambda c: msg_store.heartbeat(c, self.id))
            await self._abandon_dead()

    async def _abandon_dead(self) -> None:
        alive_since = _ago(DEAD_AFTER_S)
        if not msg_store.dead_claimers(self.db.reader(), alive_since, self.id):
            return  # the common case: a read, no write
        abandoned = await self.db.write(lambda c: msg_store.abandon_dead_claims(c, alive_since, self.id))
        if abandoned:
            log.warning("%d interrupted sends marked for review", len(abandoned))
            self.bus.publish(Changes(message_ids=set(abandoned), queue=True, bulk=True))

    def _fill(self) -> None:
        for r in self.messages.due_outbox(utcnow()):
            mid = r["id"]
            if mid in self._pending:
                continue
            lane = self._lane(r["account_id"])
            if lane is None:
                continue
            self._pending.add(mid)
            lane.queue.append((mid, r["run_id"]))
            self._start_workers(r["account_id"], lane)
        # A lane whose sends in flight were raised gets its extra workers for what it holds.
        for account_id, lane in self._lanes.items():
            if lane.queue and len(lane.workers) < lane.concurrency:
                self._start_workers(account_id, lane)

    def _lane(self, account_id: int) -> _Lane | None:
        lane = self._lanes.get(account_id)
        if lane is None:
            limits = self._limits(account_id)
            if limits is None:
                return None
            lane = _Lane(*limits)
            self._lanes[account_id] = lane
        return lane

    def _limits(self, account_id: int) -> tuple[int, float] | None:
        """The account's sends in flight and sends per second (its settings, else its provider's)."""
        try:
            account = self.accounts.get(account_id)
            # A removed account has no provider spec: skip its rows, as for a missing one;
            # raising here would abort the whole pass and stall every later message.
            spec = self.accounts.spec(account)
        except SmsdeskError:
            return None
        try:
            conc = int(account.settings.get("concurrency") or spec.limits.concurrency)
            rate = float(account.settings.get("rate_per_second") or spec.limits.per_second)
        except (TypeError, ValueError):  # "1.5 sends in flight": the provider's limits, not a halt
            log.warning("account %s has unusable send limits; using %s's", account.name, spec.name)
            return spec.limits.concurrency, float(spec.limits.per_second)
        if not math.isfinite(rate) or rate < 0:
            rate = float(spec.limits.per_second)
        return conc, rate

    def _on_changes(self, changes: Changes) -> None:
        """An account's limits edited in Settings apply to its next sends, not after a restart."""
        if not (changes.accounts or changes.everything):
            return
        for account_id, lane in list(self._lanes.items()):
            limits = self._limits(account_id)
            if limits is None:
                continue
            conc, rate = limits
            lane.concurrency = max(1, conc)
            if lane.limiter.interval != (1.0 / rate if rate > 0 else 0.0):
                lane.limiter = _RateLimiter(rate)
        self.kick()  # a raised limit starts its extra workers at once (_fill)

    def _start_workers(self, account_id: int, lane: _Lane) -> None:
        while len(lane.workers) < lane.concurrency and len(lane.workers) < len(lane.queue):
            task = asyncio.get_running_loop().create_task(self._worker(account_id, lane))
            lane.workers.add(task)
            task.add_done_callback(lane.workers.discard)

    async def _worker(self, account_id: int, lane: _Lane) -> None:
        while lane.queue and not self._stopping:
            if len(lane.workers) > lane.concurrency:
                # Sends in flight were lowered while a backlog runs: this worker bows out now
                # (leaving the set at once, so the others count right and do not all leave).
                lane.workers.discard(asyncio.current_task())
                return
            mid, run_id = lane.queue.popleft()
            batch = [mid]
            try:
                adapter = self.accounts.adapter(account_id)
                caps = adapter.spec.caps
                if run_id is not None and caps.bulk:
                    while lane.queue and len(batch) < caps.max_batch and lane.queue[0][1] == run_id:
                        batch.append(lane.queue.popleft()[0])
                await lane.limiter.acquire()
                claimed, rejected = await self.db.write(
                    functools.partial(_claim_many, ids=batch, me=self.id, run_id=run_id)
                )
                if rejected:
                    self.bus.publish(Changes(message_ids=set(rejected)))
                if not claimed:
                    continue
                if len(claimed) > 1:
                    await self._send_bulk(account_id, claimed)
                else:
                    await self._send_one(account_id, claimed[0])
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bug must not kill the lane; the row stays claimed
                log.exception("dispatch of %s failed unexpectedly", batch)
            finally:
                self._pending.difference_update(batch)
        if not self._stopping:
            # The lane ran dry: look for more now rather than at the next 1 s tick (at 5,000
            # rows per pass, a 10,000-message send otherwise idles up to a second mid-way).
            self.kick()

    def _outbound(self, c: _Claimed) -> OutboundMessage:
        send_at = datetime.fromisoformat(c.send_at) if c.send_at else None
        if send_at is not None and send_at <= datetime.now(UTC):
            send_at = None
        return OutboundMessage(c.local_id, c.remote, c.sender, c.body, send_at)

    async def _send_one(self, account_id: int, c: _Claimed) -> None:
        adapter = self.accounts.adapter(account_id)
        try:
            result = await adapter.send(self._outbound(c))
        except ProviderError as exc:
            await self._failed(account_id, c, exc)
            return
        except InvalidInput as exc:
            self._record_soon(account_id, c, SendResult(c.local_id, None, Status.FAILED, "", error=str(exc)))
            return
        self._record_soon(account_id, c, result)

    def _record_soon(self, account_id: int, c: _Claimed, result: SendResult) -> None:
        """Record a result without holding the worker.

        The worker goes on to claim its next message, so this commit and that claim share one
        group commit: one fsync wait per message instead of two (the dispatcher's ceiling with
        16 in flight was ~1,000 msg/s, all of it waiting on the writer). The row stays claimed
        until this commits, so no other pass can pick it up meanwhile.
        """
        task = asyncio.get_running_loop().create_task(self._record_logged(account_id, c, result))
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)

    async def _record_logged(self, account_id: int, c: _Claimed, result: SendResult) -> None:
        try:
            await self._record(account_id, c, result)
        except Exception:  # noqa: BLE001 - as in the worker: logged, the row stays claimed
            log.exception("recording the result of %s failed", c.local_id)

    async def _send_bulk(self, account_id: int, claimed: list[_Claimed]) -> None:
        adapter = self.accounts.adapter(account_id)
        try:
            results = await adapter.send_bulk([self._outbound(c) for c in claimed])
        except ProviderError as exc:
            for c in claimed:
                await self._failed(account_id, c, exc)
            return
        by_local = {r.local_id: r for r in results}
        jobs = [(c, by_local.get(c.local_id)) for c in claimed]

        opted: list[str] = []

        def write(conn: sqlite3.Connection) -> set[int]:
            changed: set[int] = set()
            for c, res in jobs:
                if res is None:
                    res = SendResult(
                        c.local_id, None, Status.NEEDS_REVIEW, "", error="The provider did not report on this message."
                    )
                _record_in_tx(conn, account_id, c, res)
                if res.status == Status.REJECTED and res.raw_status == PROVIDER_OPTED_OUT:
                    # Inside a batch as for a single send: the provider's word joins our list.
                    opt_store.add(conn, c.remote, "provider", (res.error or "")[:200])
                    opted.append(c.remote)
                changed.add(c.id)
            return changed

        changed = await self.db.write(write)
        self.sent_count += len(changed)
        self.bus.publish(Changes(message_ids=changed, optouts=bool(opted)))
        self._optouts_changed(opted)

    async def _record(self, account_id: int, c: _Claimed, result: SendResult) -> None:
        await self.db.write(lambda conn: _record_in_tx(conn, account_id, c, result))
        self.sent_count += 1
        self.bus.publish(Changes(message_ids={c.id}))

    async def _failed(self, account_id: int, c: _Claimed, exc: ProviderError) -> None:
        text = str(exc)
        if exc.kind == ErrorKind.RETRYABLE and c.attempts < MAX_ATTEMPTS:
            delay = backoff_delay(c.attempts, exc.retry_after, self._rng)
            # Rounded up to the next millisecond: the stored text keeps milliseconds, and cutting
            # them off would make the row due up to 1 ms before the provider's Retry-After.
            when = (datetime.now(UTC) + timedelta(seconds=delay + 0.001)).isoformat(timespec="milliseconds")
            await self.db.write(lambda conn: msg_store.release_for_retry(conn, c.id, when, text))
            self.bus.publish(Changes(message_ids={c.id}))
            asyncio.get_running_loop().call_later(delay + 0.01, self.kick)
            return
        if exc.kind == ErrorKind.AMBIGUOUS:
            # Never resent blindly. Where the provider can be asked, ReviewService looks it up
            # (a failed batch in one request, not one per message) on a back-off until settled.
            result = SendResult(c.local_id, None, Status.NEEDS_REVIEW, "ambiguous", error=text)
        elif exc.opted_out:
            result = SendResult(c.local_id, None, Status.REJECTED, PROVIDER_OPTED_OUT, error=text)
        elif exc.rejected and exc.kind == ErrorKind.PERMANENT:
            result = SendResult(c.local_id, None, Status.REJECTED, str(exc.status_code or ""), error=text)
        else:
            if exc.kind == ErrorKind.RETRYABLE:
                text = f"Gave up after {c.attempts} attempts: {text}"
            result = SendResult(c.local_id, None, Status.FAILED, str(exc.status_code or ""), error=text)
        opted = exc.opted_out

        def write(conn: sqlite3.Connection) -> None:
            _record_in_tx(conn, account_id, c, result)
            if opted:
                opt_store.add(conn, c.remote, "provider", text[:200])

        await self.db.write(write)
        self.bus.publish(Changes(message_ids={c.id}, optouts=opted))
        if opted:
            self._optouts_changed([c.remote])

    def _optouts_changed(self, numbers: list[str]) -> None:
        if numbers and self.on_optouts is not None:
            self.on_optouts([(n, True) for n in numbers])


def _record_in_tx(conn: sqlite3.Connection, account_id: int, c: _Claimed, result: SendResult) -> None:
    if not _record_fast(conn, c, result):
        msg_store.apply_status(conn, c.id, result.status, result.raw_status, result.error, result.provider_message_id)
        conn.execute("UPDATE messages SET claimed_by = NULL WHERE id = ?", (c.id,))
    for ev in ev_store.take_parked(conn, account_id, result.provider_message_id, c.local_id):
        msg_store.apply_status(conn, c.id, ev.status, ev.raw_status, ev.error)


def _record_fast(conn: sqlite3.Connection, c: _Claimed, result: SendResult) -> bool:
    """The common case in one UPDATE: our claimed row is still ``queued`` and the result moves it.

    Same effect as ``apply_status`` + releasing the claim (status, raw status, error, provider
    id only if none yet, transition row), in two statements instead of five. False: the row
    changed meanwhile, or the result cannot follow ``queued``; the caller takes the long way.
    """
    if not can_move(Status.QUEUED, result.status):
        return False
    now = utcnow()
    cur = conn.execute(
        """UPDATE messages SET status = ?, raw_status = COALESCE(NULLIF(?, ''), raw_status),
             error = COALESCE(?, error), provider_message_id = COALESCE(provider_message_id, ?),
             updated_at = ?, claimed_by = NULL, next_attempt_at = NULL
           WHERE id = ? AND status = 'queued'""",
        (result.status.value, result.raw_status, result.error, result.provider_message_id or None, now, c.id),
    )
    if cur.rowcount != 1:
        return False
    conn.execute(
        "INSERT INTO message_transitions (message_id, status, raw_status, at) VALUES (?, ?, ?, ?)",
        (c.id, result.status.value, result.raw_status, now),
    )
    return True


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


__all__ = ["Dispatcher", "backoff_delay"]
