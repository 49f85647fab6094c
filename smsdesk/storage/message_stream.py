"""Every message, newest first, read in keyset pages: a long history streams in constant memory.

For ``smsdesk messages``, which prints all of it by default (``MessageStore.stream``). Kept
beside :mod:`smsdesk.storage.messages` (same row shape) rather than in it, so the export path
can change without touching the outbox's repository.
"""

from __future__ import annotations

from collections.abc import Iterator

from smsdesk.domain.models import Message
from smsdesk.storage.db import Database
from smsdesk.storage.message_rows import MESSAGE_SELECT, row_to_message


def iter_messages(
    db: Database, account_id: int | None = None, limit: int | None = None, batch: int = 1000
) -> Iterator[Message]:
    """The newest ``limit`` messages (all when None), newest first, ``batch`` rows per query.

    Keyset paging on ``id`` (never OFFSET), so each page costs the same however deep it is.
    """
    before: int | None = None
    left = limit
    while left is None or left > 0:
        where: list[str] = []
        params: list[object] = []
        if account_id is not None:
            where.append("m.account_id = ?")
            params.append(account_id)
        if before is not None:
            where.append("m.id < ?")
            params.append(before)
        take = batch if left is None else min(batch, left)
        sql = MESSAGE_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY m.id DESC LIMIT ?"
        rows = db.query(sql, (*params, take))
        for row in rows:
            yield row_to_message(row)
        if len(rows) < take:
            return
        before = int(rows[-1]["id"])
        if left is not None:
            left -= len(rows)
