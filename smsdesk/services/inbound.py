"""Receipts and replies, from the stored raw event (webhook) or from a poll.

The receiver stores the raw body first; processing happens here, from the stored row, on
the app's own loop. Receipts only move statuses forward; a receipt for a message we do not
know yet is parked and applied when the send's own result is recorded. Inbound STOP-type
keywords put the number on the opt-out list; START / UNSTOP take it off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import InboundMessage, StatusEvent
from smsdesk.domain.optout import classify
from smsdesk.domain.segments import analyze
from smsdesk.domain.webhook_request import WebhookRequest
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.ports import AutoReplier, OptOutSync
from smsdesk.storage.api import InboundStore, ReplyTap, WebhookEventStore
from smsdesk.storage.records import NewInbound, OptOutChange, ParsedEvent, StoredEvent

log = logging.getLogger(__name__)

_PARSE_SLICE = 100  # stored events parsed between two turns of the event loop (see _process)


def _matchable(account_id: int, receipts: Iterable[StatusEvent]) -> tuple[StatusEvent, ...]:
    """The receipts that name a message (a provider id or our reference)."""
    out = []
    for ev in receipts:
        if ev.provider_message_id or ev.client_ref:
            out.append(ev)
        else:  # nothing could ever match it: parking it would keep it forever
            log.info("ignored a receipt that names no message (account %s)", account_id)
    return tuple(out)


def _new_inbound(m: InboundMessage) -> NewInbound:
    info = analyze(m.text)
    return NewInbound(
        m.from_number, m.to_number, m.text, m.provider_message_id, info.segments, info.encoding, classify(m.text)
    )


class InboundService:
    def __init__(
        self,
        inbound: InboundStore,
        events: WebhookEventStore,
        accounts: AccountService,
        bus: EventBus,
        *,
        own_replies: ReplyTap | None = None,
        optout_sync: OptOutSync | None = None,
        auto_replies: AutoReplier | None = None,
    ) -> None:
        self.store = inbound
        self.events = events
        self.accounts = accounts
        self.bus = bus
        self._running = False
        self._again = False
        # Told the ids of replies being stored, inside the transaction (before COMMIT): the
        # cross-process change watch must not announce this process's own replies again.
        self._own_replies = own_replies
        # Told, after COMMIT, each number a STOP / START reply put on or took off the list, so
        # providers that keep their own opt-out list are kept in step (OptOutService.sync_later).
        self._optout_sync = optout_sync
        # Told, after COMMIT, the ids of new replies: automatic replies answer them.
        self._auto_replies = auto_replies
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader: ThreadPoolExecutor | None = None  # reads stored events off the event loop

    def _optouts_changed(self, changes: list[OptOutChange]) -> None:
        if changes and self._optout_sync is not None:
            self._optout_sync.sync_later(changes)

    async def apply_receipts(self, account_id: int, receipts: list[StatusEvent]) -> set[int]:
        changed = await self.store.apply_receipts(account_id, _matchable(account_id, receipts))
        self.bus.publish(Changes(message_ids=changed))
        return changed

    async def store_inbound(self, account_id: int, messages: list[InboundMessage]) -> set[int]:
        new_ids, opt = await self.store.store_replies(
            account_id, [_new_inbound(m) for m in messages], before_commit=self._own_replies
        )
        self.bus.publish(Changes(message_ids=set(new_ids), inbound_ids=set(new_ids), optouts=bool(opt)))
        self._optouts_changed(opt)
        self._answer(set(new_ids))
        return new_ids

    def _answer(self, inbound: set[int]) -> None:
        if inbound and self._auto_replies is not None:
            self._auto_replies.answer_soon(inbound)

    # ---- stored webhook events -----------------------------------------------------------
    def process_soon(self) -> None:
        """Process the stored events in the background on the running loop (the receiver
        stored some); a failure is logged, and the next call tries again."""
        task = asyncio.get_running_loop().create_task(self._process_logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process_logged(self) -> None:
        try:
            await self.process_pending()
        except SmsdeskError:
            log.exception("processing stored webhook events failed")

    async def stop(self) -> None:
        """Cancel background processing (at shutdown, before the store closes); what was not
        processed stays pending for the next start."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._reader is not None:
            self._reader.shutdown(wait=False)
            self._reader = None

    async def process_pending(self) -> int:
        """Process stored raw events until none is pending; safe to call often (coalesces)."""
        if self._running:
            self._again = True
            return 0
        self._running = True
        done = 0
        try:
            while True:
                self._again = False
                rows = await self._pending()
                if not rows:
                    break
                done += await self._process(rows)
                if not self._again and len(rows) < 500:
                    break
        finally:
            self._running = False
        return done

    async def _pending(self) -> list[StoredEvent]:
        """The next stored events, read in a thread of this service's own: 500 bodies took up
        to 8 ms, a dropped frame when read on the window's thread."""
        if self._reader is None:
            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsdesk-events")
        return await asyncio.get_running_loop().run_in_executor(self._reader, self.events.pending, 500)

    def _parse(self, r: StoredEvent) -> ParsedEvent:
        try:
            adapter = self.accounts.adapter(r.account_id)
            req = WebhookRequest("POST", "", {"content-type": r.content_type}, r.body)
            pw = adapter.parse_webhook(req)
        except (SmsdeskError, ValueError, KeyError, TypeError) as exc:
            return ParsedEvent(r.id, r.account_id, error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - one odd row must not stall every later one
            # An adapter bug (not a bad body): worth a traceback. Left pending, this row
            # would come back first in every pass and nothing after it would be processed.
            log.exception("parsing stored webhook event %s failed", r.id)
            return ParsedEvent(r.id, r.account_id, error=f"{type(exc).__name__}: {exc}")
        return ParsedEvent(
            r.id,
            r.account_id,
            _matchable(r.account_id, pw.receipts) if pw.receipts else (),
            tuple(_new_inbound(m) for m in pw.inbound),
        )

    async def _process(self, rows: list[StoredEvent]) -> int:
        parsed = []
        for start in range(0, len(rows), _PARSE_SLICE):
            if start:
                # Parsing 500 receipts is ~15 ms of the event loop: a frame dropped in the
                # window. Slices of 100 let it paint and tick in between.
                await asyncio.sleep(0)
            parsed += [self._parse(r) for r in rows[start : start + _PARSE_SLICE]]
        applied = await self.store.apply_events(parsed, before_commit=self._own_replies)
        for event_id, exc in applied.failures:
            log.error("applying stored webhook event %s failed", event_id, exc_info=exc)
        changed, inbound = applied.changed, applied.inbound
        # webhooks: the log shows each delivery's processing outcome.
        self.bus.publish(
            Changes(
                message_ids=changed | inbound, inbound_ids=inbound, optouts=bool(applied.optout_changes), webhooks=True
            )
        )
        self._optouts_changed(applied.optout_changes)
        self._answer(set(inbound))
        return len(rows)
