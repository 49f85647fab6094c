"""The send path's back half: take due outbox rows and hand them to adapters.

Per account, a lane holds a bounded number of sends in flight (the account's concurrency
setting; unbounded httpx concurrency fails: 2,000 sends started at once gave ~1,500 pool
time-outs, 10 in flight gave none) under a token-bucket rate limit. Each row is *claimed*
(``ClaimStore``) first, so when the GUI and ``smsdesk serve`` share a database exactly one
dispatcher sends it.

A lane claims its next rows while its sends are in flight: four workers per slot, one
sending and three claiming ahead, because a claim is a committed write (an fsync) and the
writer commits one group at a time, so a claim asked when a send ends waits one to two
commits, each of whose statements also waits for the busy event loop to let go of the GIL.
With one worker ahead per slot the lane ran dry whenever that wait outlasted the sends in
flight: a fifth of a 10,000-message send had nothing in flight, every worker waiting for its
claim (two ahead sent 4-5% more a second, three 3% more again). A row claimed but not yet
handed to the provider when smsdesk stops is given back to the queue; if smsdesk is killed
instead, it is marked to check like a send that was in flight: at most three times
``concurrency`` more of them, and few on an account held to a rate (a worker claims only
when its turn to send has come).

Failures follow the error kind: retryable -> back-off with jitter, honouring Retry-After;
ambiguous -> ``needs_review``, which ``ReviewService`` settles with the provider where it can
be asked; permanent -> ``failed`` with the provider's words, or ``rejected`` when the provider
refused that message (``ProviderError.rejected``, an opted-out recipient, an item refused
inside a batch). Just before a row is claimed its number is checked against the opt-out list
again (it may have replied STOP since it was queued).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import os
import random
import socket
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from smsdesk.domain.errors import ErrorKind, InvalidInput, ProviderError, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import OutboundMessage, SendResult
from smsdesk.domain.optout import PROVIDER_OPTED_OUT
from smsdesk.domain.status import Status
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.ports import OptOutSync
from smsdesk.storage.api import ClaimStore, MessageStore
from smsdesk.storage.records import ClaimedMessage, ClaimResult, OutboxRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 120.0
HEARTBEAT_S = 10.0
DEAD_AFTER_S = 45.0
PASS_ROWS = 5000  # due rows one pass reads (and the most handed over at once by queued)


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

    def reserve(self) -> float:
        """Take the next start time; returns the seconds to wait for it (0: go now).

        Not a coroutine: most sends need no wait, and an await per message cost the event
        loop more than the arithmetic. No lock: nothing awaits between reading and moving
        the next start time."""
        if not self.interval:
            return 0.0
        now = time.monotonic()
        wait = self._next - now
        self._next = max(now, self._next) + self.interval
        return wait if wait > 0 else 0.0


class _Lane:
    """One account's queue of claimed-to-be ids, its workers and its limits."""

    def __init__(self, concurrency: int, per_second: float) -> None:
        self.queue: collections.deque[tuple[int, int | None]] = collections.deque()
        self.workers: set[asyncio.Task[None]] = set()
        self.concurrency = max(1, concurrency)
        self.limiter = _RateLimiter(per_second)
        self.in_flight = 0  # sends handed to the provider and not yet answered
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def most_workers(self) -> int:
        """Each slot has a worker sending and three claiming the next rows meanwhile."""
        return 4 * self.concurrency

    async def take_slot(self) -> None:
        """Wait for one of the lane's ``concurrency`` sends in flight (read at each wait, so an
        edited limit applies to the next send); :meth:`free_slot` gives it back.

        A counter and a queue of futures rather than ``asyncio.Condition``: the condition's
        lock and context manager cost ~20 us of event-loop time per message."""
        while self.in_flight >= self.concurrency:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self.wake(1)  # woken, then cancelled: the turn passes to the next
                raise
        self.in_flight += 1

    def free_slot(self) -> None:
        self.in_flight -= 1
        self.wake(1)

    def wake(self, count: int | None = None) -> None:
        """Let ``count`` waiting workers (None: all) look at the limit again."""
        while self._waiting and (count is None or count > 0):
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                count = None if count is None else count - 1


class Dispatcher:
    """Runs until :meth:`stop`; :meth:`kick` wakes it when something was queued."""

    def __init__(
        self,
        claims: ClaimStore,
        messages: MessageStore,
        accounts: AccountService,
        bus: EventBus,
        optout_sync: OptOutSync | None = None,
        dispatcher_id: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.claims = claims
        self.messages = messages
        self.accounts = accounts
        self.bus = bus
        self.id = dispatcher_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lanes: dict[int, _Lane] = {}
        self._pending: set[int] = set()
        bus.subscribe(self._on_changes)
        # Told, after COMMIT, each number a provider refused as opted out (it joined our list),
        # so providers that keep their own list are kept in step (OptOutService.sync_later).
        self._optout_sync = optout_sync
        self._wake = asyncio.Event()
        self._stopping = False
        self._running = False  # run() is under way: rows may go straight into lanes (queued)
        self._rng = random.Random(seed)
        self.sent_count = 0
        self._last_beat = 0.0
        self._recording: set[asyncio.Task[None]] = set()  # result writes still committing
        self._results: dict[int, list[tuple[ClaimedMessage, SendResult | None]]] = {}  # waiting for the recorder
        self._recorder: asyncio.Task[None] | None = None
        # Claims asked for and not yet taken by the claimer's write (see _claim).
        self._claims_asked: collections.deque[tuple[list[int], int | None, asyncio.Future[ClaimResult]]] = (
            collections.deque()
        )
        self._claim_write_queued = False  # a claim write waits for the writer (see _claim)

    def kick(self) -> None:
        self._wake.set()

    def queued(self, account_id: int, ids: Sequence[int]) -> None:
        """Rows this process just committed, queued and due now: into their lane at once.

        A pass would read them back first (5,000 rows, 15-30 ms in its thread with nothing
        in flight meanwhile, at the start of every send). At most a pass's worth is handed
        over (the lane asks for the rest when it runs dry, as before); each is still claimed
        in the database, which decides. Before :meth:`run` has started, only a kick: the
        first pass finds them."""
        if not self._running or self._stopping:
            self.kick()
            return
        self._fill([OutboxRow(mid, account_id, None) for mid in ids[:PASS_ROWS]])

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    @property
    def busy(self) -> bool:
        return bool(self._pending or self._recording)

    async def run(self) -> None:
        await self._beat(force=True)
        self._running = True
        # The outbox is read in a thread of its own: a pass reads up to 5,000 due rows, 15-20 ms
        # that froze the window when it ran on the app loop during a big send.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsdesk-outbox") as reader:
            try:
                await self._run_passes(reader)
            finally:  # also when the task is cancelled: no worker may outlive the dispatcher
                await self._wind_down()

    async def _run_passes(self, reader: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                await self._beat()
                # Scheduled rows are promoted by SchedulerService (services/scheduler.py).
                self._fill(await loop.run_in_executor(reader, self.messages.due_outbox, _now(), PASS_ROWS))
            except SmsdeskError:
                log.exception("dispatcher pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def _wind_down(self) -> None:
        self._stopping = True
        # Claim writes already asked for commit either way: let them land and their workers
        # see the stop, so the rows they claimed go back to the queue (a worker cancelled
        # while its claim was being written would leave its row claimed, to be checked).
        if self._recording:
            await asyncio.gather(*list(self._recording), return_exceptions=True)
            await asyncio.sleep(0)
        workers = [task for lane in self._lanes.values() for task in lane.workers]
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)  # their claims given back first
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
            await self.claims.heartbeat(self.id)
            await self._abandon_dead()

    async def _abandon_dead(self) -> None:
        alive_since = _ago(DEAD_AFTER_S)
        if not self.claims.dead_claimers(alive_since, self.id):
            return  # the common case: a read, no write
        abandoned = await self.claims.abandon_dead_sends(alive_since, self.id)
        if abandoned:
            log.warning("%d interrupted sends marked for review", len(abandoned))
            self.bus.publish(Changes(message_ids=set(abandoned), queue=True, bulk=True))

    def _fill(self, due: list[OutboxRow]) -> None:
        for mid, account_id, run_id in due:
            if mid in self._pending:
                continue
            lane = self._lane(account_id)
            if lane is None:
                continue
            self._pending.add(mid)
            lane.queue.append((mid, run_id))
            self._start_workers(account_id, lane)
        # A lane whose sends in flight were raised gets its extra workers for what it holds.
        for account_id, lane in self._lanes.items():
            if lane.queue and len(lane.workers) < lane.most_workers:
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
        if self.accounts.keys_per_computer and account_id not in self.accounts.held_ids():
            # A team workspace: another relay holds this account's keys. Its rows wait for
            # that relay (never fail here); the desktops say which account waits and why.
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
            lane.wake()  # a raised limit lets more go at once
        self.kick()  # a raised limit starts its extra workers at once (_fill)

    def _start_workers(self, account_id: int, lane: _Lane) -> None:
        while len(lane.workers) < lane.most_workers and len(lane.workers) < len(lane.queue):
            task = asyncio.get_running_loop().create_task(self._worker(account_id, lane))
            lane.workers.add(task)
            task.add_done_callback(lane.workers.discard)

    async def _worker(self, account_id: int, lane: _Lane) -> None:
        took = False
        while lane.queue and not self._stopping:
            if len(lane.workers) > lane.most_workers:
                # Sends in flight were lowered while a backlog runs: this worker bows out now
                # (leaving the set at once, so the others count right and do not all leave).
                lane.workers.discard(asyncio.current_task())
                return
            mid, run_id = lane.queue.popleft()
            took = True
            batch = [mid]
            try:
                adapter = self.accounts.adapter(account_id)
                caps = adapter.spec.caps
                if run_id is not None and caps.bulk:
                    while lane.queue and len(batch) < caps.max_batch and lane.queue[0][1] == run_id:
                        batch.append(lane.queue.popleft()[0])
                wait = lane.limiter.reserve()
                if wait:
                    await asyncio.sleep(wait)
                # A single message is claimed ahead, while the lane's sends are in flight (see
                # the module's doc); a batch waits for its slot first: claimed ahead, a kill
                # would leave up to a whole batch per waiting worker to check.
                ahead = len(batch) == 1
                if not ahead:
                    await lane.take_slot()
                try:
                    claimed, rejected = await self._claim(batch, run_id)
                    if rejected:
                        self.bus.publish(Changes(message_ids=set(rejected)))
                    if claimed:
                        await self._hand_over(account_id, lane, claimed, take_slot=ahead)
                finally:
                    if not ahead:
                        lane.free_slot()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bug must not kill the lane; the row stays claimed
                log.exception("dispatch of %s failed unexpectedly", batch)
            finally:
                self._pending.difference_update(batch)
        if took and not self._stopping:
            # The lane ran dry: look for more now rather than at the next 1 s tick (at 5,000
            # rows per pass, a 10,000-message send otherwise idles up to a second mid-way).
            # A worker that found nothing left does not: each kick is a read of the outbox,
            # and a bulk send's spare workers (one per slot, claiming ahead) would ask for a
            # dozen at once.
            self.kick()

    async def _hand_over(self, account_id: int, lane: _Lane, claimed: list[ClaimedMessage], take_slot: bool) -> None:
        """Send ``claimed`` in one of the lane's slots (taken here when ``take_slot``). Rows the
        provider never saw because smsdesk stopped first go back to the queue."""
        handed = False
        try:
            if take_slot:
                await lane.take_slot()
            try:
                if not self._stopping:
                    handed = True
                    if len(claimed) > 1:
                        await self._send_bulk(account_id, claimed)
                    else:
                        await self._send_one(account_id, claimed[0])
            finally:
                if take_slot:
                    lane.free_slot()
        finally:
            if not handed:
                self._give_back(claimed)

    async def _claim(self, ids: list[int], run_id: int | None) -> ClaimResult:
        """Claim ``ids``, committed before this returns (and so before any provider call).

        A claim write takes, as the writer begins it, every claim asked until then (several
        answers often arrive together, and each worker then asks for its next message; while
        the writer commits other work, more arrive), so claims share one statement of each
        kind instead of a handful per message. At 16 in flight the writer thread had become
        the bottleneck, most of its time spent waiting for its turn at the GIL between
        statements while the event loop ran. One write is always queued while claims wait:
        a claim asked after that write began goes in a new one, queued at once rather than
        after the first one's answer has come back to the event loop.
        """
        future: asyncio.Future[ClaimResult] = asyncio.get_running_loop().create_future()
        self._claims_asked.append((ids, run_id, future))
        if not self._claim_write_queued:
            self._claim_write_queued = True
            task = asyncio.get_running_loop().create_task(self._write_claims())
            self._recording.add(task)  # awaited by run() at stop, like the result writes
            task.add_done_callback(self._recording.discard)
        return await future

    async def _write_claims(self) -> None:
        asked = self._claims_asked  # appended to on the loop, emptied on the writer thread
        taken: list[tuple[list[int], int | None, asyncio.Future[ClaimResult]]] = []
        began = False

        def take() -> list[tuple[list[int], int | None]]:
            nonlocal began
            began = True
            self._claim_write_queued = False  # a claim asked from now on needs the next write
            while asked:  # deque.popleft is atomic: the loop may append meanwhile
                taken.append(asked.popleft())
            return [(ids, run_id) for ids, run_id, _f in taken]

        try:
            results = await self.claims.claim_groups(take, self.id)
        except BaseException as exc:
            if not began:  # the write never ran: what it would have taken fails with it
                self._claim_write_queued = False
                taken += asked
                asked.clear()
            for _ids, _run, future in taken:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:  # each worker handles it as its own (and logs a bug)
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_ids, _run, future), result in zip(taken, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _give_back(self, claimed: list[ClaimedMessage]) -> None:
        """Rows claimed while a send slot was awaited, and smsdesk stopped before any went:
        queued again for the next start (rather than marked to check, as an interrupted send
        is)."""

        async def write() -> None:
            try:
                await self.claims.give_back([c.id for c in claimed], self.id)
            except SmsdeskError:  # left claimed: the next start marks them to check, as before
                log.exception("giving back %d claimed messages failed", len(claimed))

        task = asyncio.get_running_loop().create_task(write())
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)

    def _outbound(self, c: ClaimedMessage) -> OutboundMessage:
        send_at = datetime.fromisoformat(c.send_at) if c.send_at else None
        if send_at is not None and send_at <= datetime.now(UTC):
            send_at = None
        return OutboundMessage(c.local_id, c.remote, c.sender, c.body, send_at)

    async def _send_one(self, account_id: int, c: ClaimedMessage) -> None:
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

    def _record_soon(self, account_id: int, c: ClaimedMessage, result: SendResult) -> None:
        """Record a result without holding the worker.

        The worker goes on to claim its next message, so this commit and that claim share one
        group commit: one fsync wait per message instead of two (the dispatcher's ceiling with
        16 in flight was ~1,000 msg/s, all of it waiting on the writer). The row stays claimed
        until this commits, so no other pass can pick it up meanwhile.

        One recorder writes the results: those that arrive while a write is committing wait
        and go together in the next one (one database job and one ``Changes`` per batch, not
        per message).
        """
        self._results.setdefault(account_id, []).append((c, result))
        if self._recorder is None or self._recorder.done():
            task = asyncio.get_running_loop().create_task(self._record_waiting())
            self._recorder = task
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)

    async def _record_waiting(self) -> None:
        while self._results:
            waiting, self._results = self._results, {}
            for account_id, pairs in waiting.items():
                try:
                    changed, opted = await self.messages.record_results(account_id, pairs)
                except Exception:  # noqa: BLE001 - as in the worker: logged, the rows stay claimed
                    log.exception("recording the results of %s failed", [c.local_id for c, _r in pairs])
                    continue
                self.sent_count += len(changed)
                self.bus.publish(Changes(message_ids=changed, optouts=bool(opted)))
                self._optouts_changed(opted)

    async def _send_bulk(self, account_id: int, claimed: list[ClaimedMessage]) -> None:
        adapter = self.accounts.adapter(account_id)
        try:
            results = await adapter.send_bulk([self._outbound(c) for c in claimed])
        except ProviderError as exc:
            for c in claimed:
                await self._failed(account_id, c, exc)
            return
        by_local = {r.local_id: r for r in results}
        changed, opted = await self.messages.record_results(
            account_id, [(c, by_local.get(c.local_id)) for c in claimed]
        )
        self.sent_count += len(changed)
        self.bus.publish(Changes(message_ids=changed, optouts=bool(opted)))
        self._optouts_changed(opted)

    async def _failed(self, account_id: int, c: ClaimedMessage, exc: ProviderError) -> None:
        text = str(exc)
        if exc.kind == ErrorKind.RETRYABLE and c.attempts < MAX_ATTEMPTS:
            delay = backoff_delay(c.attempts, exc.retry_after, self._rng)
            # Rounded up to the next millisecond: the stored text keeps milliseconds, and cutting
            # them off would make the row due up to 1 ms before the provider's Retry-After.
            when = (datetime.now(UTC) + timedelta(seconds=delay + 0.001)).isoformat(timespec="milliseconds")
            await self.messages.release_for_retry(c.id, when, text)
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
        await self.messages.record_result(account_id, c, result, text[:200] if opted else None)
        self.bus.publish(Changes(message_ids={c.id}, optouts=opted))
        if opted:
            self._optouts_changed([c.remote])

    def _optouts_changed(self, numbers: list[str]) -> None:
        if numbers and self._optout_sync is not None:
            self._optout_sync.sync_later([(n, True) for n in numbers])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


__all__ = ["Dispatcher", "backoff_delay"]
