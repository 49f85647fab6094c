"""Accounts (non-secret fields only); the audit log's reading side."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.domain.models import Account
from smsdesk.domain.status import Status
from smsdesk.storage.audit import audit as audit  # the name storage.bulk_sends / schedule use
from smsdesk.storage.audit import record
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.messages import apply_status
from smsdesk.storage.records import AuditEntry, AuditRecord, NewAccount


def _row(row: sqlite3.Row) -> Account:
    return Account(
        id=row["id"],
        name=row["name"],
        provider=row["provider"],
        base_url=row["base_url"],
        sender=row["sender"],
        settings=json.loads(row["settings"] or "{}"),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def insert_account(
    conn: sqlite3.Connection, name: str, provider: str, base_url: str, sender: str, settings: dict[str, Any]
) -> int:
    now = utcnow()
    try:
        cur = conn.execute(
            """INSERT INTO accounts (name, provider, base_url, sender, settings, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (name, provider, base_url, sender, json.dumps(settings), now, now),
        )
    except sqlite3.IntegrityError as exc:
        raise InvalidInput(f"An account named '{name}' exists already.") from exc
    audit(conn, "account.add", name, provider=provider)
    return int(cur.lastrowid or 0)


def update_account(
    conn: sqlite3.Connection, account_id: int, *, name: str, base_url: str, sender: str, settings: dict[str, Any]
) -> None:
    try:
        conn.execute(
            "UPDATE accounts SET name = ?, base_url = ?, sender = ?, settings = ?, updated_at = ? WHERE id = ?",
            (name, base_url, sender, json.dumps(settings), utcnow(), account_id),
        )
    except sqlite3.IntegrityError as exc:
        raise InvalidInput(f"An account named '{name}' exists already.") from exc
    audit(conn, "account.edit", name)


def delete_account(conn: sqlite3.Connection, account_id: int) -> None:
    """Remove an account. Its messages stay (history is never lost), so the row is kept hidden."""
    row = conn.execute("SELECT name FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise NotFound("No such account.")
    used = conn.execute("SELECT 1 FROM messages WHERE account_id = ? LIMIT 1", (account_id,)).fetchone()
    if used:
        # Messages still waiting to go out can never be sent now; left queued, the dispatcher
        # would retry them forever. A row a dispatcher has claimed is mid-send: it keeps its outcome.
        waiting = conn.execute(
            """SELECT id FROM messages WHERE account_id = ? AND direction = 'out'
                 AND status IN ('queued', 'scheduled') AND claimed_by IS NULL""",
            (account_id,),
        ).fetchall()
        for r in waiting:
            apply_status(
                conn,
                r["id"],
                Status.CANCELLED,
                "account removed",
                f"The account '{row['name']}' was removed before this message was sent.",
            )
        conn.execute(
            "UPDATE accounts SET name = ?, provider = 'removed', updated_at = ? WHERE id = ?",
            (f"{row['name']} (removed {account_id})", utcnow(), account_id),
        )
    else:
        conn.execute("DELETE FROM conversations WHERE account_id = ?", (account_id,))
        conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
    audit(conn, "account.remove", row["name"])


class AccountRepository:
    """:class:`smsdesk.storage.api.AccountStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self, include_removed: bool = False) -> list[Account]:
        sql = "SELECT * FROM accounts" + ("" if include_removed else " WHERE provider != 'removed'")
        return [_row(r) for r in self._db.query(sql + " ORDER BY id")]

    def get(self, account_id: int) -> Account | None:
        row = self._db.query_one("SELECT * FROM accounts WHERE id = ?", (account_id,))
        return _row(row) if row else None

    def by_name(self, name: str) -> Account | None:
        row = self._db.query_one("SELECT * FROM accounts WHERE name = ? AND provider != 'removed'", (name,))
        return _row(row) if row else None

    def audit_entries(self, limit: int = 200) -> list[AuditRecord]:
        rows = self._db.query(
            "SELECT id, at, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [AuditRecord(*r) for r in rows]

    async def add(self, new: NewAccount) -> int:
        return await self._db.write(
            lambda c: insert_account(c, new.name, new.provider, new.base_url, new.sender, new.settings)
        )

    async def update(
        self,
        account_id: int,
        *,
        name: str,
        base_url: str,
        sender: str,
        settings: dict[str, Any],
        audit: AuditEntry | None = None,
    ) -> None:
        def write(conn: sqlite3.Connection) -> None:
            update_account(conn, account_id, name=name, base_url=base_url, sender=sender, settings=settings)
            if audit is not None:
                record(conn, audit)

        await self._db.write(write)

    async def remove(self, account_id: int) -> None:
        await self._db.write(lambda c: delete_account(c, account_id))

    def replace_settings(self, updates: dict[int, dict[str, Any]]) -> None:
        """Store whole settings of accounts, in one transaction, blocking (for start-up)."""
        if not updates:
            return

        def write(conn: sqlite3.Connection) -> None:
            for account_id, settings in updates.items():
                conn.execute("UPDATE accounts SET settings = ? WHERE id = ?", (json.dumps(settings), account_id))

        self._db.write_sync(write)
