"""Statements of the provider hand-off: a one-off scheduled send given to a provider that holds
messages until their time (the connection's caller runs each in one transaction).

An item is claimed for the hand-off (``claimed_by`` set, ``handed_off_at`` still NULL) in the
same transaction that stores its messages, also claimed: a process that dies half-way leaves
a claim that :func:`smsdesk.storage.schedule.abandon_dead_hand_offs` sends to review, never a
second hand-off.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from smsdesk.domain.status import Status
from smsdesk.storage import messages as msg_store
from smsdesk.storage.records import NewOutgoing
from smsdesk.storage.schedule import cancel_messages, link_messages, start_run


def claim(
    conn: sqlite3.Connection, sid: int, version: int, due: str, me: str, news: Sequence[NewOutgoing]
) -> list[int] | None:
    """Claim item ``sid`` (at ``version``) for the hand-off and store its messages, claimed too;
    the message ids, or None when another process or an edit came first (nothing written)."""
    cur = conn.execute(
        """UPDATE schedules SET claimed_by = ?, version = version + 1 WHERE id = ? AND version = ?
             AND state = 'scheduled' AND location = 'provider' AND handed_off_at IS NULL
             AND claimed_by IS NULL""",
        (me, sid, version),
    )
    if cur.rowcount != 1:
        return None
    run_id = start_run(conn, sid, due, me, "Handed to the provider.")
    conn.execute("UPDATE schedule_runs SET state = 'at_provider' WHERE id = ?", (run_id,))
    ids = msg_store.insert_outgoing(conn, news)
    conn.executemany("UPDATE messages SET claimed_by = ? WHERE id = ?", [(me, i) for i in ids])
    link_messages(conn, run_id, ids)
    return ids


def record(
    conn: sqlite3.Connection,
    sid: int,
    accepted: Sequence[tuple[int, str, str]],
    refused: Sequence[tuple[int, str]],
    now: str,
    reason: str,
) -> None:
    """The provider answered: ``accepted`` (message id, provider's id, raw status) wait there,
    ``refused`` (message id, why) are rejected; the item is handed off."""
    for mid, why in refused:
        msg_store.apply_status(conn, mid, Status.REJECTED, "rejected", why)
    conn.executemany(
        "UPDATE messages SET provider_message_id = ?, raw_status = ?, claimed_by = NULL WHERE id = ?",
        [(pmid, raw, mid) for mid, pmid, raw in accepted],
    )
    conn.execute(
        "UPDATE schedules SET handed_off_at = ?, claimed_by = NULL, reason = ?, version = version + 1 WHERE id = ?",
        (now, reason, sid),
    )


def failed(conn: sqlite3.Connection, sid: int, ids: Sequence[int], ambiguous: bool, error: str, now: str) -> None:
    """The hand-off failed. Ambiguous (the provider may hold them): the messages go to review and
    the item is done. Refused: the messages are cancelled and smsdesk sends the item itself."""
    conn.executemany("UPDATE messages SET claimed_by = NULL WHERE id = ?", [(i,) for i in ids])
    if ambiguous:
        for mid in ids:
            msg_store.apply_status(
                conn, mid, Status.NEEDS_REVIEW, "ambiguous", f"The provider may or may not have scheduled this: {error}"
            )
        conn.execute(
            "UPDATE schedules SET handed_off_at = ?, claimed_by = NULL, state = 'done', reason = ?,"
            " version = version + 1 WHERE id = ?",
            (now, f"Hand-off unclear ({error}); check the messages before resending.", sid),
        )
        return
    cancel_messages(conn, ids, f"Not handed to the provider: {error}")
    conn.execute(
        "UPDATE schedule_runs SET state = 'cancelled', finished_at = ?, note = ? WHERE schedule_id = ?"
        " AND state = 'at_provider'",
        (now, f"Hand-off refused: {error}", sid),
    )
    conn.execute(
        "UPDATE schedules SET location = 'local', claimed_by = NULL, reason = ?, version = version + 1 WHERE id = ?",
        (f"The provider refused the hand-off ({error}); smsdesk will send it itself.", sid),
    )


def withdrawn(conn: sqlite3.Connection, sid: int, cancelled: Sequence[int], all_of_them: bool, now: str) -> None:
    """Messages cancelled at the provider; when ``all_of_them``, the item is back in smsdesk's hands."""
    for mid in cancelled:
        msg_store.apply_status(conn, mid, Status.CANCELLED, "cancelled", "Cancelled at the provider.")
    if all_of_them:
        conn.execute("UPDATE schedules SET handed_off_at = NULL, version = version + 1 WHERE id = ?", (sid,))
        conn.execute(
            "UPDATE schedule_runs SET state = 'cancelled', finished_at = ? WHERE schedule_id = ?"
            " AND state = 'at_provider'",
            (now, sid),
        )


def passed(conn: sqlite3.Connection, sids: Sequence[int], now: str) -> None:
    """Items whose time has passed at the provider are done."""
    for sid in sids:
        conn.execute("UPDATE schedules SET state = 'done', version = version + 1 WHERE id = ?", (sid,))
        conn.execute(
            "UPDATE schedule_runs SET state = 'done', finished_at = ? WHERE schedule_id = ? AND state = 'at_provider'",
            (now, sid),
        )
