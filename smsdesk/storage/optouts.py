"""The opt-out list: numbers that asked not to be messaged, with where that came from."""

from __future__ import annotations

import sqlite3

from smsdesk.storage.accounts import audit
from smsdesk.storage.db import Database, utcnow


def add(conn: sqlite3.Connection, number: str, source: str, note: str = "") -> bool:
    cur = conn.execute(
        "INSERT INTO optouts (number, source, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (number, source, note, utcnow()),
    )
    if cur.rowcount:
        audit(conn, "optout.add", number, source=source, note=note)
    return cur.rowcount == 1


def remove(conn: sqlite3.Connection, number: str, source: str) -> bool:
    cur = conn.execute("DELETE FROM optouts WHERE number = ?", (number,))
    if cur.rowcount:
        audit(conn, "optout.remove", number, source=source)
    return cur.rowcount == 1


class OptOutRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def is_opted_out(self, number: str) -> bool:
        return self.db.query_one("SELECT 1 FROM optouts WHERE number = ?", (number,)) is not None

    def opted_out_among(self, numbers: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(numbers), 500):
            chunk = numbers[i : i + 500]
            rows = self.db.query(
                f"SELECT number FROM optouts WHERE number IN ({','.join('?' * len(chunk))})", tuple(chunk)
            )
            out |= {r["number"] for r in rows}
        return out

    def all(self) -> list[sqlite3.Row]:
        return self.db.query("SELECT * FROM optouts ORDER BY created_at DESC")
