"""What providers answered: a send's result recorded on its claimed row, releasing the claim.

Module functions take the writer's connection (called inside ``Database.write``); the
dispatcher reaches them through ``MessageRepository.record_result(s)``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from smsdesk.domain.models import SendResult
from smsdesk.domain.optout import PROVIDER_OPTED_OUT
from smsdesk.domain.pacing import Pacer
from smsdesk.domain.status import Status, can_move
from smsdesk.storage import optouts as opt_store
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.db import utcnow
from smsdesk.storage.records import ClaimedMessage, RecordedBatch
from smsdesk.storage.status_moves import apply_status


def record_result(
    conn: sqlite3.Connection,
    account_id: int,
    c: ClaimedMessage,
    result: SendResult,
    optout_note: str | None = None,
    parked: bool = True,
) -> None:
    """Record what the provider said of a claimed message, releasing the claim; receipts that
    arrived before it (parked) are applied after it. ``optout_note``: the provider refused the
    number as opted out, and it joins the opt-out list with these words. ``parked`` False: the
    caller knows no receipt of the account is parked (:func:`record_results` asks once)."""
    if not _record_fast(conn, c, result):
        apply_status(conn, c.id, result.status, result.raw_status, result.error, result.provider_message_id)
        conn.execute("UPDATE messages SET claimed_by = NULL WHERE id = ?", (c.id,))
    if result.segments is not None and result.segments > 0:
        # The provider's own count of what it charged (Send-2's units): costs use it from now on.
        conn.execute(
            "UPDATE messages SET parts_billed = ? WHERE id = ? AND parts_billed IS NOT ?",
            (result.segments, c.id, result.segments),
        )
    if parked:
        for ev in ev_store.take_parked(conn, account_id, result.provider_message_id, c.local_id):
            apply_status(conn, c.id, ev.status, ev.raw_status, ev.error)
    if optout_note is not None:
        opt_store.add(conn, c.remote, "provider", optout_note)


def _record_fast(conn: sqlite3.Connection, c: ClaimedMessage, result: SendResult) -> bool:
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


def record_results(
    conn: sqlite3.Connection, account_id: int, pairs: Sequence[tuple[ClaimedMessage, SendResult | None]]
) -> RecordedBatch:
    """:func:`record_result` for many answers (a batch send's, or single sends that finished
    together); a message the provider did not report on is ``needs_review``. Returns the ids
    recorded and the numbers refused as opted out.

    The common answers (a claimed row still ``queued`` moving on, nothing parked, no opt-out,
    no billed parts) are written by :func:`_record_fast_many`, 400 at a time; the others, and
    every row of a chunk where one had changed meanwhile, one by one."""
    changed: set[int] = set()
    opted: list[str] = []
    parked = ev_store.any_parked(conn, account_id)
    fast: list[tuple[ClaimedMessage, SendResult]] = []
    slow: list[tuple[ClaimedMessage, SendResult, str | None]] = []
    for c, res in pairs:
        if res is None:
            res = SendResult(
                c.local_id, None, Status.NEEDS_REVIEW, "", error="The provider did not report on this message."
            )
        if res.status == Status.REJECTED and res.raw_status == PROVIDER_OPTED_OUT:
            # Inside a batch as for a single send: the provider's word joins our list.
            opted.append(c.remote)
            slow.append((c, res, (res.error or "")[:200]))
        elif parked or (res.segments is not None and res.segments > 0) or not can_move(Status.QUEUED, res.status):
            slow.append((c, res, None))
        else:
            fast.append((c, res))
    pacer = Pacer(every=1)  # ticks per chunk and per slow row: look at the clock each time
    for start in range(0, len(fast), 400):
        pacer.tick()
        chunk = fast[start : start + 400]
        if _record_fast_many(conn, chunk):
            changed.update(c.id for c, _res in chunk)
        else:
            slow += [(c, res, None) for c, res in chunk]
    for c, res, note in slow:
        pacer.tick()
        record_result(conn, account_id, c, res, note, parked)
        changed.add(c.id)
    return RecordedBatch(changed, opted)


def _record_fast_many(conn: sqlite3.Connection, pairs: Sequence[tuple[ClaimedMessage, SendResult]]) -> bool:
    """:func:`_record_fast` for many rows in two statements instead of two per row (while the
    event loop is busy, each statement makes the writer wait for its turn at the GIL). All or
    nothing: False, with nothing written, when any row was no longer ``queued``."""
    now = utcnow()
    conn.execute("SAVEPOINT record_many")
    try:
        cur = conn.execute(
            f"""UPDATE messages SET status = v.column2, raw_status = COALESCE(NULLIF(v.column3, ''), raw_status),
                  error = COALESCE(v.column4, error), provider_message_id = COALESCE(provider_message_id, v.column5),
                  updated_at = ?, claimed_by = NULL, next_attempt_at = NULL
                FROM (VALUES {",".join(["(?, ?, ?, ?, ?)"] * len(pairs))}) AS v
                WHERE messages.id = v.column1 AND messages.status = 'queued'""",
            (
                now,
                *(
                    v
                    for c, r in pairs
                    for v in (c.id, r.status.value, r.raw_status, r.error, r.provider_message_id or None)
                ),
            ),
        )
        if cur.rowcount != len(pairs):
            conn.execute("ROLLBACK TO record_many")
            return False
        conn.execute(
            f"""INSERT INTO message_transitions (message_id, status, raw_status, at)
                VALUES {",".join(["(?, ?, ?, ?)"] * len(pairs))}""",
            tuple(v for c, r in pairs for v in (c.id, r.status.value, r.raw_status, now)),
        )
        return True
    finally:
        conn.execute("RELEASE record_many")
