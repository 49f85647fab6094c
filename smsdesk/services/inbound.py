"""Receipts and replies, from the stored raw event (webhook) or from a poll.

The receiver stores the raw body first; processing happens here, from the stored row, on
the app's own loop. Receipts only move statuses forward; a receipt for a message we do not
know yet is parked and applied when the send's own result is recorded. Inbound STOP-type
keywords put the number on the opt-out list; START / UNSTOP take it off.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import InboundMessage, ParsedWebhook, StatusEvent
from smsdesk.domain.optout import Keyword, classify
from smsdesk.domain.segments import analyze
from smsdesk.domain.webhook_request import WebhookRequest
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.storage import messages as msg_store
from smsdesk.storage import optouts as opt_store
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.db import Database
from smsdesk.storage.webhook_events import WebhookEventRepository

log = logging.getLogger(__name__)


def apply_receipts_tx(conn: sqlite3.Connection, account_id: int, receipts: Iterable[StatusEvent]) -> set[int]:
    """Apply receipts forward-only; returns the ids of messages that changed."""
    return _apply_receipts(conn, account_id, receipts)[0]


def _apply_receipts(
    conn: sqlite3.Connection, account_id: int, receipts: Iterable[StatusEvent], event_id: int | None = None
) -> tuple[set[int], int]:
    """:func:`apply_receipts_tx`, plus how many receipts were parked for a message not seen yet."""
    changed: set[int] = set()
    parked = 0
    for ev in receipts:
        if not ev.provider_message_id and not ev.client_ref:
            # Nothing could ever match it: parking it would keep it forever.
            log.info("ignored a receipt that names no message (account %s)", account_id)
            continue
        found = msg_store.apply_receipt(
            conn, account_id, ev.provider_message_id, ev.client_ref, ev.status, ev.raw_status, ev.error
        )
        if found is None:
            ev_store.park_receipt(conn, account_id, ev, event_id)
            parked += 1
            continue
        if found[1]:
            changed.add(found[0])
    return changed, parked


OptOutChange = tuple[str, bool]  # (number, opted out now)


def store_inbound_tx(
    conn: sqlite3.Connection, account_id: int, messages: Iterable[InboundMessage]
) -> tuple[set[int], list[OptOutChange]]:
    """Store replies; returns (new message ids, the opt-out list's changes from STOP / START)."""
    new_ids: set[int] = set()
    optouts_changed: list[OptOutChange] = []
    for m in messages:
        info = analyze(m.text)
        mid = msg_store.insert_inbound(
            conn, account_id, m.from_number, m.to_number, m.text, m.provider_message_id, info.segments, info.encoding
        )
        if mid is None:
            continue
        new_ids.add(mid)
        kind = classify(m.text)
        if kind == Keyword.OPT_OUT and opt_store.add(conn, m.from_number, "reply", m.text.strip()[:40]):
            optouts_changed.append((m.from_number, True))
        elif kind == Keyword.OPT_IN and opt_store.remove(conn, m.from_number, "reply"):
            optouts_changed.append((m.from_number, False))
    return new_ids, optouts_changed


class InboundService:
    def __init__(self, db: Database, accounts: AccountService, bus: EventBus) -> None:
        self.db = db
        self.accounts = accounts
        self.bus = bus
        self.events = WebhookEventRepository(db)
        self._running = False
        self._again = False
        # Told the ids of replies being stored, inside the transaction (before COMMIT): the
        # cross-process change watch must not announce this process's own replies again.
        self.on_replies: Callable[[set[int]], None] | None = None
        # Told, after COMMIT, each number a STOP / START reply put on or took off the list, so
        # providers that keep their own opt-out list are kept in step (OptOutService.sync_later).
        self.on_optouts: Callable[[list[OptOutChange]], None] | None = None

    def _stored_replies(self, ids: set[int]) -> None:
        if ids and self.on_replies is not None:
            self.on_replies(ids)

    def _optouts_changed(self, changes: list[OptOutChange]) -> None:
        if changes and self.on_optouts is not None:
            self.on_optouts(changes)

    async def apply_receipts(self, account_id: int, receipts: list[StatusEvent]) -> set[int]:
        changed = await self.db.write(lambda c: apply_receipts_tx(c, account_id, receipts))
        self.bus.publish(Changes(message_ids=changed))
        return changed

    async def store_inbound(self, account_id: int, messages: list[InboundMessage]) -> set[int]:
        def write(conn: sqlite3.Connection) -> tuple[set[int], list[OptOutChange]]:
            new_ids, opt = store_inbound_tx(conn, account_id, messages)
            self._stored_replies(new_ids)
            return new_ids, opt

        new_ids, opt = await self.db.write(write)
        self.bus.publish(Changes(message_ids=set(new_ids), inbound_ids=set(new_ids), optouts=bool(opt)))
        self._optouts_changed(opt)
        return new_ids

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
                rows = self.events.pending(500)
                if not rows:
                    break
                done += await self._process(rows)
                if not self._again and len(rows) < 500:
                    break
        finally:
            self._running = False
        return done

    async def _process(self, rows: list[sqlite3.Row]) -> int:
        parsed: list[tuple[int, int, ParsedWebhook | None, str | None]] = []
        for r in rows:
            try:
                adapter = self.accounts.adapter(r["account_id"])
                req = WebhookRequest("POST", "", {"content-type": r["content_type"]}, bytes(r["body"]))
                parsed.append((r["id"], r["account_id"], adapter.parse_webhook(req), None))
            except (SmsdeskError, ValueError, KeyError, TypeError) as exc:
                parsed.append((r["id"], r["account_id"], None, f"{type(exc).__name__}: {exc}"))
            except Exception as exc:  # noqa: BLE001 - one odd row must not stall every later one
                # An adapter bug (not a bad body): worth a traceback. Left pending, this row
                # would come back first in every pass and nothing after it would be processed.
                log.exception("parsing stored webhook event %s failed", r["id"])
                parsed.append((r["id"], r["account_id"], None, f"{type(exc).__name__}: {exc}"))

        def write(conn: sqlite3.Connection) -> tuple[set[int], set[int], list[OptOutChange]]:
            changed: set[int] = set()
            inbound: set[int] = set()
            opt: list[OptOutChange] = []
            marks: list[tuple[int, str, str | None]] = []
            for event_id, account_id, pw, err in parsed:
                if pw is None:
                    marks.append((event_id, "failed", err))
                    continue
                # One savepoint per event: a row that cannot be applied is marked failed and
                # the rest of the batch still goes in.
                conn.execute("SAVEPOINT event")
                try:
                    ch, parked = _apply_receipts(conn, account_id, pw.receipts, event_id) if pw.receipts else (set(), 0)
                    new_ids, o = store_inbound_tx(conn, account_id, pw.inbound) if pw.inbound else (set(), [])
                except Exception as exc:  # noqa: BLE001 - see the parse step above
                    conn.execute("ROLLBACK TO event")
                    conn.execute("RELEASE event")
                    log.exception("applying stored webhook event %s failed", event_id)
                    marks.append((event_id, "failed", f"{type(exc).__name__}: {exc}"))
                    continue
                conn.execute("RELEASE event")
                changed |= ch
                inbound |= new_ids
                opt += o
                marks.append((event_id, "waiting" if parked else "processed", None))
            # One statement for the batch; the same transaction, so marked iff processed.
            ev_store.mark_events(conn, marks)
            self._stored_replies(inbound)
            return changed, inbound, opt

        changed, inbound, opt = await self.db.write(write)
        # webhooks: the log shows each delivery's processing outcome.
        self.bus.publish(Changes(message_ids=changed | inbound, inbound_ids=inbound, optouts=bool(opt), webhooks=True))
        self._optouts_changed(opt)
        return len(rows)
