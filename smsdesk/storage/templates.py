"""Saved message templates over SQLite (:class:`smsdesk.storage.api.TemplateStore`)."""

from __future__ import annotations

import sqlite3

from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.storage.audit import record
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.records import AuditEntry, SavedTemplate

_COLS = "id, name, category, body, created_at, updated_at"


def _row(r: sqlite3.Row) -> SavedTemplate:
    return SavedTemplate(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]))


def _taken(conn: sqlite3.Connection, name: str, but: int | None = None) -> None:
    row = conn.execute("SELECT id, name FROM templates WHERE name = ?", (name,)).fetchone()
    if row is not None and row[0] != but:
        raise InvalidInput(f"There is already a template called '{row[1]}'. Choose another name.")


class TemplateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def templates(self, category: str | None = None) -> list[SavedTemplate]:
        if category is None:
            rows = self._db.query(f"SELECT {_COLS} FROM templates ORDER BY category COLLATE NOCASE, name")
        else:
            rows = self._db.query(
                f"SELECT {_COLS} FROM templates WHERE category = ? COLLATE NOCASE ORDER BY name", (category,)
            )
        return [_row(r) for r in rows]

    def get(self, template_id: int) -> SavedTemplate | None:
        rows = self._db.query(f"SELECT {_COLS} FROM templates WHERE id = ?", (template_id,))
        return _row(rows[0]) if rows else None

    def by_name(self, name: str) -> SavedTemplate | None:
        rows = self._db.query(f"SELECT {_COLS} FROM templates WHERE name = ?", (name,))
        return _row(rows[0]) if rows else None

    def categories(self) -> list[str]:
        rows = self._db.query(
            "SELECT DISTINCT category FROM templates WHERE category <> '' ORDER BY category COLLATE NOCASE"
        )
        return [str(r[0]) for r in rows]

    async def add(self, name: str, category: str, body: str, audit: AuditEntry) -> int:
        def write(conn: sqlite3.Connection) -> int:
            _taken(conn, name)
            now = utcnow()
            cur = conn.execute(
                "INSERT INTO templates (name, category, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (name, category, body, now, now),
            )
            record(conn, audit)
            return int(cur.lastrowid or 0)

        return await self._db.write(write)

    async def edit(self, template_id: int, name: str, category: str, body: str, audit: AuditEntry) -> None:
        def write(conn: sqlite3.Connection) -> None:
            _taken(conn, name, template_id)
            cur = conn.execute(
                "UPDATE templates SET name = ?, category = ?, body = ?, updated_at = ? WHERE id = ?",
                (name, category, body, utcnow(), template_id),
            )
            if cur.rowcount == 0:
                raise NotFound("That template no longer exists. It may have been deleted.")
            record(conn, audit)

        await self._db.write(write)

    async def remove(self, template_id: int, audit: AuditEntry) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM templates WHERE id = ?", (template_id,))
            if cur.rowcount:
                record(conn, audit)
            return cur.rowcount == 1

        return await self._db.write(write)
