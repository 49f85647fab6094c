"""Receipts and replies into the database: forward-only statuses, parked receipts, opt-out keywords.

A receipt moves its message forward only (:func:`smsdesk.storage.messages.apply_status`); one
for a message not recorded yet (the provider answered the webhook before the send call
returned) is parked and applied when the send's own result is recorded. A reply whose whole
text is a STOP-type keyword puts the number on the opt-out list, a START-type one takes it
off, in the same transaction as the reply.

Stored webhook events are applied in batches, each event in its own savepoint: an event that
cannot be applied is rolled back alone and marked failed, and the rest of the batch commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from smsdesk.domain.models import StatusEvent
from smsdesk.domain.optout import Keyword
from smsdesk.storage import messages as msg_store
from smsdesk.storage import optouts as opt_store
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.api import ReplyTap
from smsdesk.storage.db import Database
from smsdesk.storage.dialect import is_postgres
from smsdesk.storage.records import AppliedEvents, NewInbound, OptOutChange, ParsedEvent, StoredReplies


def apply_receipts(
    conn: sqlite3.Connection, account_id: int, receipts: Iterable[StatusEvent], event_id: int | None = None
) -> tuple[set[int], int]:
    """Apply receipts forward-only; returns (ids of messages that changed, how many receipts
    were parked for a message not seen yet). ``event_id``: the stored event they came in."""
    changed: set[int] = set()
    parked = 0
    for ev in receipts:
        if not ev.provider_message_id and not ev.client_ref:
            continue  # nothing could ever match it: parked, it would be kept forever
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


def store_replies(conn: sqlite3.Connection, account_id: int, replies: Iterable[NewInbound]) -> StoredReplies:
    """Store replies (each provider message once); returns the new ids and the opt-out list's
    changes their keywords made."""
    new_ids: set[int] = set()
    changes: list[OptOutChange] = []
    for m in replies:
        mid = msg_store.insert_inbound(
            conn, account_id, m.from_number, m.to_number, m.text, m.provider_message_id, m.segments, m.encoding
        )
        if mid is None:
            continue
        new_ids.add(mid)
        if m.keyword == Keyword.OPT_OUT and opt_store.add(conn, m.from_number, "reply", m.text.strip()[:40]):
            changes.append((m.from_number, True))
        elif m.keyword == Keyword.OPT_IN and opt_store.remove(conn, m.from_number, "reply"):
            changes.append((m.from_number, False))
    return StoredReplies(new_ids, changes)


def apply_events(conn: sqlite3.Connection, events: Sequence[ParsedEvent]) -> AppliedEvents:
    """Apply parsed webhook events and mark each ``processed``, ``waiting`` (a receipt of it is
    parked) or ``failed``; one savepoint per event, so a failing one does not undo the others."""
    changed: set[int] = set()
    inbound: set[int] = set()
    opt: list[OptOutChange] = []
    failures: list[tuple[int, BaseException]] = []
    marks: list[tuple[int, str, str | None]] = []
    several_writers = is_postgres(conn)
    for ev in events:
        # On PostgreSQL several relays read the same pending events: the first to lock an
        # event's row applies it, and another waits for that commit, then finds the event no
        # longer pending and leaves it (a reply stored twice otherwise). SQLite's single writer
        # runs the applications one after the other, where the duplicate checks see each other.
        if (
            several_writers
            and not conn.execute(
                "UPDATE webhook_events SET state = state WHERE id = ? AND state = 'pending'", (ev.event_id,)
            ).rowcount
        ):
            continue
        if ev.error is not None:
            marks.append((ev.event_id, "failed", ev.error))
            continue
        conn.execute("SAVEPOINT event")
        try:
            ch, parked = apply_receipts(conn, ev.account_id, ev.receipts, ev.event_id) if ev.receipts else (set(), 0)
            replies = store_replies(conn, ev.account_id, ev.replies) if ev.replies else StoredReplies(set(), [])
        except Exception as exc:  # noqa: BLE001 - one odd event must not stall every later one
            conn.execute("ROLLBACK TO event")
            conn.execute("RELEASE event")
            failures.append((ev.event_id, exc))
            marks.append((ev.event_id, "failed", f"{type(exc).__name__}: {exc}"))
            continue
        conn.execute("RELEASE event")
        changed |= ch
        inbound |= replies.new_ids
        opt += replies.optout_changes
        marks.append((ev.event_id, "waiting" if parked else "processed", None))
    # One statement for the batch; the same transaction, so marked iff processed.
    ev_store.mark_events(conn, marks)
    return AppliedEvents(changed, inbound, opt, failures)


#: Events applied per write job on PostgreSQL: with the job's own savepoint, at most 31 of
#: the 64 savepoints a transaction may open (two such jobs fit one group commit).
EVENTS_PER_JOB = 30


class InboundRepository:
    """:class:`smsdesk.storage.api.InboundStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def apply_receipts(self, account_id: int, receipts: Sequence[StatusEvent]) -> set[int]:
        return await self._db.write(lambda c: apply_receipts(c, account_id, receipts)[0])

    async def store_replies(
        self, account_id: int, replies: Sequence[NewInbound], before_commit: ReplyTap | None = None
    ) -> StoredReplies:
        def write(conn: sqlite3.Connection) -> StoredReplies:
            stored = store_replies(conn, account_id, replies)
            if before_commit is not None and stored.new_ids:
                before_commit(stored.new_ids)
            return stored

        return await self._db.write(write)

    async def apply_events(self, events: Sequence[ParsedEvent], before_commit: ReplyTap | None = None) -> AppliedEvents:
        """One write job for the batch; on PostgreSQL one per :data:`EVENTS_PER_JOB` events,
        because each event's savepoint counts against the 64 a transaction may open there."""
        per_job = EVENTS_PER_JOB if getattr(self._db, "max_savepoints", None) else max(len(events), 1)
        total = AppliedEvents(set(), set(), [], [])
        for start in range(0, len(events), per_job):
            part = events[start : start + per_job]

            def write(conn: sqlite3.Connection, part: Sequence[ParsedEvent] = part) -> AppliedEvents:
                applied = apply_events(conn, part)
                if before_commit is not None and applied.inbound:
                    before_commit(applied.inbound)
                return applied

            applied = await self._db.write(write)
            total.changed.update(applied.changed)
            total.inbound.update(applied.inbound)
            total.optout_changes.extend(applied.optout_changes)
            total.failures.extend(applied.failures)
        return total
