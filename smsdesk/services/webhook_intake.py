"""The receiver's handler: authenticate, persist the raw event, answer; processing comes later.

Runs on the receiver's own loop/thread. The only database work before the 2xx is one insert
(through the writer thread, so it is committed when we answer); the app's loop is then told
to process the stored row. Concurrent deliveries share one COMMIT (the writer's group
commit), which is what lets a burst of receipts be acknowledged quickly.

Dedupe keys are kept for :data:`DEDUPE_KEEP` (providers retry for a day or more; Stripe and
Standard Webhooks senders for about three), then pruned by :meth:`WebhookIntakeService.maintain`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from smsdesk.domain.errors import NotFound, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.webhook_request import WebhookRejected, WebhookRequest
from smsdesk.providers.spec import WebhookEnvelope
from smsdesk.receiver.types import Verdict
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.ports import PendingEvents
from smsdesk.storage.api import WebhookEventStore
from smsdesk.storage.records import NewDelivery

log = logging.getLogger(__name__)

DEDUPE_KEEP = timedelta(hours=72)  # at least 48 h: longer than the providers' retry horizon
LOG_KEEP = 5000  # webhook_log lines kept for the panel
BATCH_DELAY_S = 0.02  # gather a burst into one processing pass (unnoticeable to a person)


# An account number as smsdesk writes it in a webhook URL: no sign, space, underscore, leading
# zero or other script's digits (int() takes all of those, so /hooks/+2 reached account 2),
# and at most 18 digits, which SQLite's 64-bit INTEGER always holds (a longer one raised
# OverflowError: a 500 and a traceback).
_ROUTE = re.compile(r"[1-9][0-9]{0,17}")


def account_of_route(route: str) -> int | None:
    """The account id a webhook URL's last segment names, or None when it is not one."""
    return int(route) if _ROUTE.fullmatch(route) else None


def _loggable(text: str, limit: int) -> str:
    """A caller's text for the log: shortened, and any undecodable byte shown as a '?' (SQLite
    and the log file take only valid UTF-8; aiohttp hands such bytes over as surrogates)."""
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def envelope_problem(envelope: WebhookEnvelope, data: Any) -> str | None:
    """Why a webhook body's shape cannot be a provider's event, or None when it can.

    A cheap check of the envelope only (the adapter's parser reads the fields later, from the
    stored row): an event is a JSON object, a batch a non-empty list of them (or, for providers
    whose ``envelope.batch_keys`` say so, an object holding that list), and a ``data`` member is
    an object (or a list, in such batches). With ``envelope.event_in_data`` (PureSMS and the
    sandbox) every event wraps its fields in ``data``.
    """
    events: Any = data
    if envelope.batch_keys and isinstance(data, dict):
        for key in envelope.batch_keys:
            if isinstance(data.get(key), list):
                events = data[key]
                break
    if isinstance(events, list):
        if not events:
            return "an empty list"
    else:
        events = [events]
    for ev in events:
        if not isinstance(ev, dict):
            return f"expected a JSON object (or a list of objects), got {_kind(ev)}"
        for key in ("data", "Data"):
            if key in ev and not isinstance(ev[key], dict | list):
                return f"'{key}' is {_kind(ev[key])}, not an object"
        if envelope.event_in_data and not isinstance(ev.get("data", ev.get("Data")), dict):
            return "no 'data' object in the event"
    return None


@dataclass(slots=True)
class _Pending:
    """One delivery waiting for the next batched insert."""

    delivery: NewDelivery
    future: asyncio.Future[int | None] | None = None


class WebhookIntakeService:
    """Implements ``webhook.WebhookHandler``."""

    def __init__(
        self,
        events: WebhookEventStore,
        accounts: AccountService,
        bus: EventBus,
        inbound: PendingEvents,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.events = events
        self.accounts = accounts
        self.bus = bus
        self._inbound = inbound  # told to process what was stored
        self._clock = clock
        self._app_loop: asyncio.AbstractEventLoop | None = None
        self._notify_pending = False
        self._stored_since = False
        self._timer: asyncio.TimerHandle | None = None
        self._batches: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The app loop that processes stored events."""
        self._app_loop = loop

    def _notify(self, stored: bool) -> None:
        """Tell the app loop: the log changed and (``stored``) there are events to process.

        One wake-up in flight at a time, run :data:`BATCH_DELAY_S` later: a burst of receipts
        costs the app loop one processing pass and one log refresh, not one per receipt.
        """
        self._stored_since |= stored
        loop = self._app_loop
        if loop is None or loop.is_closed():
            self.bus.publish(Changes(webhooks=True))
            return
        if self._notify_pending:
            return
        self._notify_pending = True
        loop.call_soon_threadsafe(self._arm)

    def _arm(self) -> None:
        if self._app_loop is not None:
            self._timer = self._app_loop.call_later(BATCH_DELAY_S, self._wake)

    def unbind(self) -> None:
        """Stop waking the app loop (at shutdown, before the database closes)."""
        self._app_loop = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self) -> None:
        self._timer = None
        self._notify_pending = False
        if self._app_loop is None:
            return
        stored, self._stored_since = self._stored_since, False
        self.bus.publish(Changes(webhooks=True))
        if stored:
            self._inbound.process_soon()

    async def rejected(self, route: str, req_path: str, status: int, reason: str) -> None:
        # The route is the caller's text: shown (shortened) so a wrong URL is recognisable.
        name = self._account_name(route) or f"unknown route '{_loggable(route, 24)}'"
        path = _loggable(req_path, 200)
        await self.events.log_rejected(name, path, status, reason)
        self._notify(False)
        log.info("webhook rejected (%s %s): %s", name, status, reason)

    def _account_name(self, route: str) -> str:
        account_id = account_of_route(route)
        if account_id is None:
            return ""
        try:
            return self.accounts.get(account_id).name
        except SmsdeskError:
            return ""

    async def handle(self, route: str, req: WebhookRequest) -> Verdict:
        # The cached adapter answers "which account" without a database read per delivery.
        account_id = account_of_route(route)
        if account_id is None:
            raise WebhookRejected(404, "unknown account")
        try:
            adapter = self.accounts.adapter(account_id)
        except NotFound as exc:
            raise WebhookRejected(404, "unknown account") from exc
        except SmsdeskError as exc:
            raise WebhookRejected(503, f"account not usable: {exc}") from exc
        name = adapter.account.name
        try:
            adapter.verify_webhook(req, self._clock())
        except WebhookRejected:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the caller sent, never a 500 and a traceback
            # Verification reads only the caller's headers, query and body: an exception here
            # is a malformed request the adapter did not foresee. Refused; the warning (one
            # line, no secret: the exception's type only) says an adapter needs a fix.
            log.warning("%s: checking a webhook's signature failed (%s); refused", name, type(exc).__name__)
            raise WebhookRejected(401, "malformed authentication (could not be checked)") from exc
        try:
            data = json.loads(req.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRejected(400, "malformed JSON") from exc
        except RecursionError as exc:
            raise WebhookRejected(400, "malformed JSON (nested too deeply)") from exc
        problem = envelope_problem(adapter.spec.envelope, data)
        if problem:
            # Authentic but not something this provider sends: nothing to store or process.
            raise WebhookRejected(400, f"not a {adapter.spec.name} receipt or reply: {problem}")
        # Both are the caller's text (a JSON "\udcff" id, a header byte): a lone surrogate would
        # fail the insert, and with it every delivery sharing its batch.
        key = f"{account_id}:{adapter.webhook_dedupe_key(req)}".encode("utf-8", "backslashreplace").decode()
        ctype = _loggable(req.content_type, 100)
        event_id = await self._store(_Pending(NewDelivery(account_id, key, ctype, req.body, name, req.path)))
        self._notify(bool(event_id))
        if event_id:
            return Verdict(200, "accepted")
        return Verdict(200, "duplicate", "already received")

    # ---- micro-batched persistence -----------------------------------------------------
    async def _store(self, item: _Pending) -> int | None:
        """Insert one raw event; returns its id, or None for a duplicate. Resolves after COMMIT.

        Deliveries reaching this point in the same turn of the receiver's loop go to the
        writer as ONE job: one savepoint, one cross-thread hand-off and one wake-up back
        (measured: ~125 us of CPU per delivery as separate jobs, ~40 us batched). Each row
        still commits before its own 200 is sent.
        """
        loop = asyncio.get_running_loop()
        item.future = loop.create_future()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = []
            loop.call_soon(self._flush, loop)
        batch.append(item)
        return await item.future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._batches.pop(loop, [])
        if not batch:
            return

        def done(fut: asyncio.Future[list[int | None]]) -> None:
            exc = None if fut.cancelled() else fut.exception()
            for i, it in enumerate(batch):
                if it.future is None or it.future.done():
                    continue  # its caller went away (connection closed)
                if fut.cancelled():
                    it.future.cancel()
                elif exc is not None:
                    it.future.set_exception(exc)
                else:
                    it.future.set_result(fut.result()[i])

        stored = self.events.submit_deliveries([it.delivery for it in batch])
        asyncio.wrap_future(stored, loop=loop).add_done_callback(done)

    # ---- reading and upkeep ------------------------------------------------------------
    def recent(self, limit: int = 200) -> list[dict[str, object]]:
        """The latest deliveries, newest first, for the Settings -> Webhooks log."""
        return [line._asdict() for line in self.events.log(limit)]

    async def prune(self, keep: timedelta = DEDUPE_KEEP) -> None:
        """Forget processed events (and their dedupe keys) older than ``keep``."""
        if keep < timedelta(hours=48):
            raise ValueError("dedupe keys must be kept at least 48 hours")
        before = (datetime.now(UTC) - keep).isoformat(timespec="milliseconds")
        await self.events.prune(before, LOG_KEEP)

    async def maintain(self, every_s: float = 3600.0) -> None:
        """Prune now and then every ``every_s`` seconds, until cancelled."""
        while True:
            try:
                await self.prune()
            except SmsdeskError:
                log.exception("pruning old webhook events failed")
            await asyncio.sleep(every_s)
