"""Sends cut off by a killed process, as the restarted app finds them (``needs_review``).

Each helper stores the messages, claims them for a dispatcher of another computer that is
gone, and lets the dead-claim rule mark them, all in one transaction: no dispatcher of the
test's own can take them first.
"""

from __future__ import annotations

from typing import Any

from smsdesk.storage import bulk_sends as bulk_store
from smsdesk.storage import claims
from smsdesk.storage import messages as msg_store
from smsdesk.storage.db import Database

DEAD = "elsewhere:999999:killed"


def _abandon(conn: Any, ids: list[int]) -> None:
    for mid in ids:
        assert claims.claim(conn, mid, DEAD)
    assert set(ids) <= set(claims.abandon_dead_claims(conn, "9999", "me"))


def singles(db: Database, account_id: int, n: int, first: int = 0) -> list[int]:
    """``n`` single sends (to +4474000<first..>) interrupted mid-request; returns their ids."""

    def write(conn: Any) -> list[int]:
        ids = msg_store.insert_outgoing(
            conn,
            [
                msg_store.NewOutgoing(account_id, f"+4474000{first + i:05d}", "Shop", "Hello", 1, "GSM-7")
                for i in range(n)
            ],
        )
        _abandon(conn, ids)
        return ids

    return list(db.write_sync(write))


def bulk_run(
    db: Database, account_id: int, rows: int, cut: int, state: str = "done", source: str = "/home/sam/customers.csv"
) -> int:
    """A bulk run of ``rows`` whose first ``cut`` messages were on the wire at a kill.

    The other rows are left unmade (a ``paused`` or ``running`` run makes and sends them).
    Returns the run id.
    """

    def write(conn: Any) -> int:
        run_id = bulk_store.create_run(
            conn,
            bulk_store.NewRun(
                account_id, source, f"hash-{source}", "Hi", "Shop", ["phone"], rows, rows, 0, {}, state="running"
            ),
            [
                bulk_store.NewItem(i + 1, "accepted", f"+4475000{i:05d}", body="Hi", segments=1, encoding="GSM-7")
                for i in range(rows)
            ],
        )
        _abandon(conn, bulk_store.materialise(conn, run_id, cut))
        conn.execute("UPDATE bulk_runs SET state = ? WHERE id = ?", (state, run_id))
        return run_id

    return int(db.write_sync(write))
