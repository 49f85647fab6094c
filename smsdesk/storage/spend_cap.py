"""An account's monthly spending limit, checked where the send is written.

The services check the limit before they write (``services/spending.py``) and ask a person
when a send would pass it. With several writers (a team workspace's desktops and relay) two
sends can each pass that check alone and together go over. :func:`check_cap` runs inside the
queueing transaction, after its rows are stored:

- SQLite: one writer at a time, so nothing else can add spending between the sum and COMMIT.
- PostgreSQL: every transaction that stores messages holds the change-order lock until it
  commits (``storage/pg/changes.py``), taken before its inserts, and the check takes it too
  before it sums (a bulk send's creation stores rows, not messages). Spending grows only by
  stored messages and bulk rows, so the sum sees every committed send, and none commits
  before this one.

Spending is summed as the reports sum it (``report_hours``, kept by triggers in the same
transaction): messages queued since the month's start at the price they were queued at,
cancelled ones and those the provider refused not counted. A bulk run becomes messages a
window at a time, so the rows of running and paused runs not yet made messages are spending
too (:func:`pending_parts`), at the account's price per part (a country-specific price is
applied when the row becomes a message). A scheduled run is counted when it fires.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING

from smsdesk.domain.errors import OverLimit
from smsdesk.storage.dialect import CHANGE_ORDER_LOCK, is_postgres

if TYPE_CHECKING:  # the migrations import this module; the records load on first use
    from smsdesk.storage.records import SpendCap

SPEND_SQL = """SELECT currency, price, sum(parts) FROM report_hours
   WHERE account_id = ? AND hour >= ? AND direction = 'out' AND status NOT IN ('cancelled', 'rejected')
     AND messages > 0
   GROUP BY 1, 2"""


# Each bulk run keeps the parts of its accepted rows not yet made messages (``parts_left``:
# set as it is created, lowered as rows become messages, 0 once a scheduled queue makes them):
# summing 100,000 rows at each check took ~25 ms, this reads one row per active run. Both
# stores add it with these statements (SQLite migration 16, PostgreSQL migration 4).
#: A bulk run's parts still to send, counted from its rows (in an UPDATE of ``bulk_runs``).
PARTS_LEFT_OF_ROWS = """(SELECT coalesce(sum(coalesce(i.segments, 1)), 0) FROM bulk_run_items i
     WHERE i.run_id = bulk_runs.id AND i.status = 'accepted' AND i.message_id IS NULL)"""
PARTS_LEFT_SCHEMA = [
    "ALTER TABLE bulk_runs ADD COLUMN parts_left INTEGER NOT NULL DEFAULT 0",
    f"UPDATE bulk_runs SET parts_left = {PARTS_LEFT_OF_ROWS} WHERE state IN ('running', 'paused')",
]
PENDING_SQL = """SELECT coalesce(sum(parts_left), 0) FROM bulk_runs
   WHERE account_id = ? AND state IN ('running', 'paused')"""


def item_parts(segments: int | None) -> int:
    """What one bulk row counts for in ``parts_left`` (a row whose parts are unknown: one, as
    in :data:`PARTS_LEFT_OF_ROWS`)."""
    return 1 if segments is None else segments


def pending_parts(conn: sqlite3.Connection, account_id: int) -> int:
    """Parts of the account's running and paused bulk runs' rows still to be made messages."""
    row = conn.execute(PENDING_SQL, (account_id,)).fetchone()
    return int(row[0]) if row else 0


def spend_rows(conn: sqlite3.Connection, account_id: int, since: str) -> list[tuple[str, str, int]]:
    """(currency, price per part or "", parts) of an account's messages queued since ``since``
    that cost or will cost money."""
    rows = conn.execute(SPEND_SQL, (account_id, since[:13])).fetchall()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def check_cap(conn: sqlite3.Connection, cap: SpendCap | None) -> None:
    """Raise :class:`OverLimit` (undoing the caller's job) when the account's spending this
    month, the rows just stored included, is over ``cap.limit``."""
    if cap is None:
        return
    if is_postgres(conn):  # in line with every other send's write until COMMIT (see above)
        conn.execute("SELECT pg_advisory_xact_lock(?)", (CHANGE_ORDER_LOCK,))
    total = Decimal(0)
    for currency, price, parts in spend_rows(conn, cap.account_id, cap.since):
        if price and currency == cap.currency:
            total += Decimal(price) * parts
    if cap.pending_price:
        total += Decimal(cap.pending_price) * pending_parts(conn, cap.account_id)
    if total > Decimal(cap.limit):
        raise OverLimit(cap.reason)
