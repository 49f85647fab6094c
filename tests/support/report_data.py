"""Known messages at known times, written through the real storage functions, for report tests.

The storage layer stamps messages with ``utcnow()``; :class:`Ledger` moves that clock to each
message's time, so replies, staff answer times and the hourly totals are worked out by the
same code as in use. Status changes are plain updates (the report triggers see them).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smsdesk.domain.status import Status
from smsdesk.storage import messages as msg_store
from smsdesk.storage.db import Database
from smsdesk.storage.records import NewOutgoing


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Ledger:
    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.db = db
        self.at = utc("2026-01-01T00:00")
        monkeypatch.setattr(msg_store, "utcnow", lambda: self.at.isoformat(timespec="milliseconds"))

    def account(self, name: str, price: str = "", currency: str = "") -> int:
        settings = json.dumps({"price_per_segment": price, "currency": currency})

        def add(conn: object) -> int:
            cur = conn.execute(  # type: ignore[attr-defined]
                """INSERT INTO accounts (name, provider, settings, created_at, updated_at)
                   VALUES (?, 'sandbox', ?, '2026-01-01', '2026-01-01')""",
                (name, settings),
            )
            return int(cur.lastrowid)

        return self.db.write_sync(add)

    def send(
        self, account: int, number: str, at: str, status: str = "delivered", parts: int = 1, error: str = "",
        run_id: int | None = None,
    ) -> int:  # fmt: skip
        self.at = utc(at)
        item = NewOutgoing(account, number, "", "Hello", parts, "GSM-7", Status.QUEUED, run_id=run_id)
        [mid] = self.db.write_sync(lambda conn: msg_store.insert_outgoing(conn, [item]))
        if status != "queued":
            self.set_status(mid, status, error)
        return mid

    def set_status(self, mid: int, status: str, error: str = "") -> None:
        self.db.write_sync(
            lambda conn: conn.execute("UPDATE messages SET status = ?, error = ? WHERE id = ?", (status, error, mid))
        )

    def receive(self, account: int, number: str, at: str, text: str = "Thanks") -> int:
        self.at = utc(at)
        mid = self.db.write_sync(lambda conn: msg_store.insert_inbound(conn, account, number, "", text, None))
        assert mid is not None
        return mid

    def opt_out(self, number: str, at: str) -> None:
        self.db.write_sync(
            lambda conn: conn.execute(
                "INSERT INTO optouts (number, source, created_at) VALUES (?, 'reply', ?)",
                (number, utc(at).isoformat(timespec="milliseconds")),
            )
        )

    def bulk_run(self, account: int, at: str, group_id: int | None = None) -> int:
        stamp = utc(at).isoformat(timespec="milliseconds")
        return self.db.write_sync(
            lambda conn: int(
                conn.execute(
                    """INSERT INTO bulk_runs (account_id, source, template, state, group_id, created_at, updated_at)
                       VALUES (?, 'clients.csv', 'Hi {{name}}', 'done', ?, ?, ?)""",
                    (account, group_id, stamp, stamp),
                ).lastrowid
            )
        )
