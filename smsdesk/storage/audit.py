"""The audit log: who sent, edited, cancelled or changed the opt-out list, and when.

Written in the same transaction as the change it records (never a secret). Its own module
so every other storage module can write it without importing the others.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from smsdesk.storage.db import utcnow

if TYPE_CHECKING:  # the records load on first use (storage/records/__init__.py)
    from smsdesk.storage.records import AuditEntry


def audit(conn: sqlite3.Connection, action: str, subject: str = "", **detail: Any) -> None:
    """Record a send, edit, cancel or opt-out change (no secrets, ever)."""
    conn.execute(
        "INSERT INTO audit_log (at, action, subject, detail) VALUES (?, ?, ?, ?)",
        (utcnow(), action, subject, json.dumps(detail, default=str)),
    )


def record(conn: sqlite3.Connection, entry: AuditEntry, **more: Any) -> None:
    """:func:`audit` for an :class:`AuditEntry` (``more``: details only known in the transaction)."""
    audit(conn, entry.action, entry.subject, **entry.detail, **more)
