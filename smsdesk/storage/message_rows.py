"""How a message row is read: the one SELECT and its conversion to a domain ``Message``.

Shared by :mod:`smsdesk.storage.messages`, :mod:`smsdesk.storage.message_stream` and
:mod:`smsdesk.storage.conversations`, so each reads messages the same way.
"""

from __future__ import annotations

import sqlite3

from smsdesk.domain.models import Message
from smsdesk.domain.status import status_of

MESSAGE_SELECT = "SELECT m.*, a.name AS account_name FROM messages m JOIN accounts a ON a.id = m.account_id"


def row_to_message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        local_id=row["local_id"],
        account_id=row["account_id"],
        account=row["account_name"],
        direction=row["direction"],
        remote=row["remote"],
        local_number=row["local_number"],
        body=row["body"],
        status=status_of(row["status"]),
        raw_status=row["raw_status"],
        error=row["error"],
        provider_message_id=row["provider_message_id"],
        segments=row["segments"],
        encoding=row["encoding"],
        send_at=row["send_at"],
        attempts=row["attempts"],
        run_id=row["run_id"],
        is_read=bool(row["is_read"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        auto_rule_id=row["auto_rule_id"],
        price_per_part=row["price_per_part"],
        currency=row["currency"],
    )
