"""What reports read: hourly totals, failure reasons, staff answer times, sends and the message log.

Every figure over a period reads ``report_hours`` (kept by triggers on ``messages``, see
migration 13), so a report over all time costs a few thousand rows, not a million messages.
Periods are half-open UTC ranges of ISO text (``[start, end)``); hours are the first 13
characters of a timestamp (``2026-03-29T01``). Local days are the service's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from smsdesk.storage.db import Database
from smsdesk.storage.migrations import FAILED_CONDITION  # word for word as in the partial index messages_failures
from smsdesk.storage.report_records import (
    FailureCount,
    HourTotals,
    LogFilter,
    LogRow,
    RunMessage,
    RunTotals,
)
from smsdesk.storage.spend_cap import PENDING_SQL, SPEND_SQL


def _account(account_id: int | None, column: str = "account_id") -> tuple[str, tuple[object, ...]]:
    return (f" AND {column} = ?", (account_id,)) if account_id is not None else ("", ())


class ReportRepository:
    """Reads for the Reports page, the ``report`` command and exports (no writes)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def hour_totals(self, start: str, end: str, account_id: int | None = None) -> list[HourTotals]:
        """Messages per UTC hour in ``[start, end)`` (hours whose start lies in the range)."""
        where, params = _account(account_id)
        cur = self.db.reader().cursor()
        cur.row_factory = None  # plain tuples: an all-time report reads tens of thousands of rows
        cur.execute(
            f"""SELECT hour, account_id, direction, status, auto, currency, price, messages, parts, replied
                FROM report_hours WHERE hour >= ? AND hour < ? AND messages > 0{where}""",
            (start[:13], end[:13], *params),
        )
        return list(map(HourTotals._make, cur))

    def failures(self, start: str, end: str, account_id: int | None = None) -> list[FailureCount]:
        """Failed, rejected and expired messages sent in the period, by status and the provider's words."""
        where, params = _account(account_id)
        rows = self.db.query(
            f"""SELECT status, coalesce(nullif(error, ''), raw_status, '') AS why, count(*) FROM messages
                WHERE created_at >= ? AND created_at < ? AND {FAILED_CONDITION}{where}
                GROUP BY 1, 2 ORDER BY 3 DESC""",
            (start, end, *params),
        )
        return [FailureCount(r[0], r[1] or "", int(r[2])) for r in rows]

    def answer_median(self, start: str, end: str, account_id: int | None = None) -> tuple[int, float | None]:
        """How many staff answers were sent in the period, and the median seconds they took
        (from the first message each answered; None when there were none)."""
        where, params = _account(account_id)
        base = f"FROM messages WHERE created_at >= ? AND created_at < ? AND answer_s IS NOT NULL{where}"
        row = self.db.query_one(f"SELECT count(*) {base}", (start, end, *params))
        n = int(row[0]) if row else 0
        if not n:
            return 0, None
        middle = self.db.query(
            f"SELECT answer_s {base} ORDER BY answer_s LIMIT ? OFFSET ?", (start, end, *params, 2 - n % 2, (n - 1) // 2)
        )
        return n, sum(int(r[0]) for r in middle) / len(middle)

    def spend(self, account_id: int, start: str) -> list[tuple[str, str, int]]:
        """(currency, price per part or "", parts) of an account's messages queued since ``start``
        that cost or will cost money (not cancelled, not refused by the provider)."""
        rows = self.db.query(SPEND_SQL, (account_id, start[:13]))
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    def pending_parts(self, account_id: int) -> int:
        """Parts of the account's running and paused bulk runs still to be sent (``spend_cap``)."""
        row = self.db.query_one(PENDING_SQL, (account_id,))
        return int(row[0]) if row else 0

    def new_optouts(self, start: str, end: str) -> int:
        """Numbers that opted out in the period and are still opted out."""
        row = self.db.query_one("SELECT count(*) FROM optouts WHERE created_at >= ? AND created_at < ?", (start, end))
        return int(row[0]) if row else 0

    # -- sends ------------------------------------------------------------------------------

    def runs(self, start: str, end: str, account_id: int | None = None) -> list[RunTotals]:
        """Every bulk run, group send and scheduled run started in the period, newest first."""
        where, params = _account(account_id, "r.account_id")
        bulk = self.db.query(
            f"""SELECT r.id, r.created_at, r.account_id, r.source, r.template, r.group_id, r.schedule_id,
                       g.name FROM bulk_runs r LEFT JOIN contact_groups g ON g.id = r.group_id
                WHERE r.created_at >= ? AND r.created_at < ?{where}""",
            (start, end, *params),
        )
        where, params = _account(account_id, "s.account_id")
        scheduled = self.db.query(
            f"""SELECT r.id, r.started_at, s.account_id, s.body FROM schedule_runs r
                JOIN schedules s ON s.id = r.schedule_id
                WHERE r.started_at >= ? AND r.started_at < ?{where}
                  AND EXISTS (SELECT 1 FROM schedule_messages sm JOIN messages m ON m.id = sm.message_id
                              WHERE sm.run_id = r.id AND m.run_id IS NULL)""",
            (start, end, *params),
        )
        out: list[RunTotals] = []
        for r in bulk:
            kind = "scheduled" if r[6] is not None else ("group" if r[5] is not None else "bulk")
            title = f"@{r[7]}" if r[7] else (r[3] or "")
            out.append(self._totals("bulk", int(r[0]), kind, r[1], int(r[2]), title, r[4]))
        for r in scheduled:
            out.append(self._totals("schedule", int(r[0]), "scheduled", r[1], int(r[2]), "", r[3]))
        out.sort(key=lambda t: t.started_at, reverse=True)
        return out

    def run(self, source: str, run_id: int) -> RunTotals | None:
        """One send's totals (``source``: ``bulk`` or ``schedule``)."""
        if source == "bulk":
            r = self.db.query_one(
                """SELECT r.id, r.created_at, r.account_id, r.source, r.template, r.group_id, r.schedule_id, g.name
                   FROM bulk_runs r LEFT JOIN contact_groups g ON g.id = r.group_id WHERE r.id = ?""",
                (run_id,),
            )
            if r is None:
                return None
            kind = "scheduled" if r[6] is not None else ("group" if r[5] is not None else "bulk")
            return self._totals("bulk", run_id, kind, r[1], int(r[2]), f"@{r[7]}" if r[7] else r[3] or "", r[4])
        r = self.db.query_one(
            """SELECT r.started_at, s.account_id, s.body FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id
               WHERE r.id = ?""",
            (run_id,),
        )
        return None if r is None else self._totals("schedule", run_id, "scheduled", r[0], int(r[1]), "", r[2])

    def _members(self, source: str) -> str:
        """The FROM clause of a send's messages, ``m``, given its id as the one parameter."""
        if source == "bulk":
            return "messages m INDEXED BY messages_run_status WHERE m.run_id = ?"
        return "schedule_messages sm JOIN messages m ON m.id = sm.message_id WHERE sm.run_id = ? AND m.run_id IS NULL"

    def _totals(
        self, source: str, run_id: int, kind: str, started_at: str, account_id: int, title: str, body: str
    ) -> RunTotals:
        members = self._members(source)
        rows = self.db.query(
            f"""SELECT m.status, m.currency, coalesce(m.price_per_part, ''), count(*),
                       sum(coalesce(m.parts_billed, m.segments, 1)), sum(m.reply_id IS NOT NULL)
                FROM {members} GROUP BY 1, 2, 3""",
            (run_id,),
        )
        opted = self.db.query_one(
            f"""SELECT count(DISTINCT m.remote) FROM {members}
                AND EXISTS (SELECT 1 FROM optouts o WHERE o.number = m.remote AND o.created_at >= m.created_at)""",
            (run_id,),
        )
        return RunTotals(
            source=source,
            run_id=run_id,
            kind=kind,
            started_at=started_at,
            account_id=account_id,
            title=title,
            body=body,
            groups=tuple((r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows),
            opted_out=int(opted[0]) if opted else 0,
        )

    def run_messages(self, source: str, run_id: int) -> list[RunMessage]:
        """A send's messages, for its detail view: who, status, why it failed, replied or not."""
        rows = self.db.query(
            f"""SELECT m.id, m.account_id, m.remote, m.status, coalesce(nullif(m.error, ''), m.raw_status, ''),
                       m.reply_id IS NOT NULL, EXISTS (SELECT 1 FROM optouts o WHERE o.number = m.remote
                                                     AND o.created_at >= m.created_at)
                FROM {self._members(source)} ORDER BY m.id""",
            (run_id,),
        )
        names: dict[int, str] = {}
        if source == "bulk":
            names = {
                int(r[0]): str(r[1])
                for r in self.db.query(
                    "SELECT message_id, name FROM bulk_run_items WHERE run_id = ? AND message_id IS NOT NULL",
                    (run_id,),
                )
            }
        return [
            RunMessage(int(r[0]), int(r[1]), r[2], r[3], r[4] or "", bool(r[5]), bool(r[6]), names.get(int(r[0]), ""))
            for r in rows
        ]

    # -- the message log ----------------------------------------------------------------------

    def message_log(self, f: LogFilter, batch: int = 5000) -> Iterator[list[LogRow]]:
        """Messages matching ``f``, oldest first, in batches, shaped as the exports write them.

        One cursor reads them all (a read transaction: a consistent picture even while new
        messages are written). Account and contact names come from dictionaries read first:
        a lookup per row inside SQLite would cost more than the rest of the export.
        """
        conn = self.db.reader()
        accounts = {int(r[0]): str(r[1]) for r in conn.execute("SELECT id, name FROM accounts")}
        names = {
            str(r[0]): str(r[1])
            for r in conn.execute(
                """SELECT n.number, c.name FROM contact_numbers n JOIN contacts c ON c.id = n.contact_id
                   WHERE c.name != ''"""
            )
        }
        where, params = _log_where(f)
        cur = conn.cursor()
        cur.row_factory = None  # plain tuples: a million rows cost seconds less
        cur.execute(
            f"""SELECT created_at, account_id, direction, remote, body, status, error, parts_billed, segments,
                       price_per_part, currency, auto_rule_id
                FROM messages m WHERE 1 = 1{where} ORDER BY id""",
            params,
        )
        words = {"out": "sent", "in": "received"}
        try:
            while rows := cur.fetchmany(batch):
                yield [
                    LogRow(at, accounts.get(a, ""), words.get(d, d), n, names.get(n, ""), body, st, err or "",
                           billed or parts or 1, price or "", cur_, "yes" if auto is not None else "")
                    for at, a, d, n, body, st, err, billed, parts, price, cur_, auto in rows
                ]  # fmt: skip
        finally:
            cur.close()


def _in(column: str, values: Sequence[object]) -> tuple[str, tuple[object, ...]]:
    return f" AND {column} IN ({', '.join('?' * len(values))})", tuple(values)


def _log_where(f: LogFilter) -> tuple[str, tuple[object, ...]]:
    parts: list[str] = []
    params: list[object] = []
    if f.start is not None:
        parts.append(" AND m.created_at >= ?")
        params.append(f.start)
    if f.end is not None:
        parts.append(" AND m.created_at < ?")
        params.append(f.end)
    for column, values in (
        ("m.account_id", f.account_ids),
        ("m.status", f.statuses),
        ("m.direction", f.directions),
        ("m.remote", f.numbers),
    ):
        if values:
            sql, ps = _in(column, values)
            parts.append(sql)
            params.extend(ps)
    return "".join(parts), tuple(params)
