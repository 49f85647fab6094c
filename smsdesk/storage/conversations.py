"""Conversations: the inbox list, thread pages, read state, drafts, contacts' names and search.

``conversations`` (one row per account and remote number) is maintained by the message
insert functions in :mod:`smsdesk.storage.messages`; this module reads it and changes the
parts a person changes (read state, draft). Everything here is built to stay fast with
years of history:

- the list pages by ``(last_at, id)`` keyset over the ``conversations_recent`` index;
- a thread pages by message id over ``messages_conversation (account_id, remote, id)``;
- search uses FTS5 ordered by ``rowid DESC`` (newest first), never by bm25 rank, which is
  ~2000x slower for a common word (measured over a million messages: 0.2 ms by rowid,
  440 ms ranked by bm25).
"""

from __future__ import annotations

import builtins  # the classes here have a ``list`` method, which shadows the type in annotations
import logging
import re
import sqlite3
from typing import Any

from smsdesk.domain.models import Message
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.dialect import is_postgres
from smsdesk.storage.message_rows import MESSAGE_SELECT, row_to_message
from smsdesk.storage.records import ConversationRow as ConversationRow  # the names callers know
from smsdesk.storage.records import ListFilter as ListFilter
from smsdesk.storage.records import SearchRow as SearchRow

log = logging.getLogger(__name__)

_CONV_SELECT = """
SELECT c.id, c.account_id, a.name AS account_name, c.remote, c.last_message_id, c.last_at,
       c.unread, c.draft, COALESCE(k.name, '') AS contact_name,
       m.body AS last_body, m.direction AS last_direction, m.status AS last_status,
       o.source AS optout_source, c.assignee, c.state, c.snoozed_until
FROM conversations c
JOIN accounts a ON a.id = c.account_id
LEFT JOIN messages m ON m.id = c.last_message_id
LEFT JOIN contact_numbers kn ON kn.number = c.remote
LEFT JOIN contacts k ON k.id = kn.contact_id
LEFT JOIN optouts o ON o.number = c.remote
"""


# Each filter is a set of conversation ids: the outer query walks ``conversations_recent``
# and tests the id, which lives in the index itself, so 50,000 conversations cost an index
# walk rather than 50,000 row lookups and joins (the subqueries use the partial indexes).
_FILTER_SQL = {
    ListFilter.ALL: "",
    ListFilter.UNREAD: "c.id IN (SELECT id FROM conversations WHERE unread > 0)",
    ListFilter.OPTED_OUT: (
        "c.id IN (SELECT c2.id FROM optouts o2 CROSS JOIN conversations c2 ON c2.remote = o2.number)"
    ),
    ListFilter.NEEDS_REVIEW: (
        "c.id IN (SELECT c2.id FROM messages r CROSS JOIN conversations c2"
        " ON c2.account_id = r.account_id AND c2.remote = r.remote WHERE r.status = 'needs_review')"
    ),
    # The team inbox. Both subqueries read partial indexes, whose sets stay small: the
    # assigned conversations, and those resolved or snoozed (a snooze whose time has come
    # (``:now``) counts as open again; one until the next reply has no time and waits).
    ListFilter.MINE: "c.id IN (SELECT id FROM conversations WHERE assignee = :person) AND {open_now}",
    ListFilter.UNASSIGNED: "c.id NOT IN (SELECT id FROM conversations WHERE assignee IS NOT NULL) AND {open_now}",
    ListFilter.RESOLVED: "c.id IN (SELECT id FROM conversations WHERE state != 'open' AND state = 'resolved')",
}
_OPEN_NOW = (  # open, or snoozed until a time that has come
    "c.id NOT IN (SELECT id FROM conversations WHERE state != 'open'"
    " AND NOT (state = 'snoozed' AND coalesce(snoozed_until, '9') <= :now))"
)


def _conv(row: sqlite3.Row) -> ConversationRow:
    return ConversationRow(
        id=row["id"],
        account_id=row["account_id"],
        account=row["account_name"],
        remote=row["remote"],
        contact_name=row["contact_name"],
        last_message_id=row["last_message_id"],
        last_at=row["last_at"],
        last_body=row["last_body"] or "",
        last_direction=row["last_direction"] or "",
        last_status=row["last_status"] or "",
        unread=row["unread"],
        draft=row["draft"],
        optout_source=row["optout_source"],
        assignee=row["assignee"],
        state=row["state"],
        snoozed_until=row["snoozed_until"],
    )


# For other storage modules that list conversations (a contact's, say).
CONVERSATION_SELECT = _CONV_SELECT
conversation_row = _conv


# ---- writes (the writer's connection) --------------------------------------------------------
def mark_read(conn: sqlite3.Connection, conversation_id: int) -> int:
    """Mark every reply of a conversation read; returns how many were unread."""
    row = conn.execute("SELECT account_id, remote FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    if row is None:
        return 0
    cur = conn.execute(
        "UPDATE messages SET is_read = 1 WHERE account_id = ? AND remote = ? AND is_read = 0",
        (row["account_id"], row["remote"]),
    )
    conn.execute("UPDATE conversations SET unread = 0 WHERE id = ?", (conversation_id,))
    return cur.rowcount


def save_draft(conn: sqlite3.Connection, conversation_id: int, text: str) -> None:
    conn.execute("UPDATE conversations SET draft = ? WHERE id = ?", (text, conversation_id))


def set_contact_name(conn: sqlite3.Connection, number: str, name: str) -> None:
    """Name a number: the contact that has it (as any of their numbers) is renamed, else a
    contact with this one number is added."""
    now = utcnow()
    cur = conn.execute(
        """UPDATE contacts SET name = ?, updated_at = ?
           WHERE id = (SELECT contact_id FROM contact_numbers WHERE number = ?)""",
        (name, now, number),
    )
    if cur.rowcount == 0:
        # The V10 trigger adds the number to contact_numbers.
        conn.execute(
            "INSERT INTO contacts (number, name, created_at, updated_at) VALUES (?, ?, ?, ?)", (number, name, now, now)
        )


# ---- reads ---------------------------------------------------------------------------------
def fts_query(text: str, prefix: bool = True) -> str:
    """Turn what a person typed into a safe FTS5 query: every word quoted, the last one as a
    prefix (``prefix``) so results follow the typing."""
    words = re.findall(r"\w+", text, re.UNICODE)
    if not words:
        return ""
    quoted = ['"' + w.replace('"', "") + '"' for w in words]
    if prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


class ConversationRepository:
    """:class:`smsdesk.storage.api.ConversationStore` over SQLite (reads on any thread; WAL
    readers never block)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pg = is_postgres(db)  # search: tsvector and trigram indexes instead of FTS5

    def list(
        self,
        flt: ListFilter = ListFilter.ALL,
        after: tuple[str, int] | None = None,
        limit: int = 200,
        account_id: int | None = None,
        person: str = "",
    ) -> builtins.list[ConversationRow]:
        """Newest activity first; ``after`` is the (last_at, id) of the last row already shown;
        ``person``: who "Mine" means."""
        where: builtins.list[str] = []
        params: dict[str, Any] = {"person": person, "now": utcnow(), "limit": limit}
        if _FILTER_SQL[flt]:
            where.append(_FILTER_SQL[flt].format(open_now=_OPEN_NOW))
        if account_id is not None:
            where.append("c.account_id = :account")
            params["account"] = account_id
        if after is not None:
            where.append("(c.last_at < :after_at OR (c.last_at = :after_at AND c.id < :after_id))")
            params |= {"after_at": after[0], "after_id": after[1]}
        sql = _CONV_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY c.last_at DESC, c.id DESC LIMIT :limit"
        return [_conv(r) for r in self._db.query(sql, params)]

    def get(self, conversation_id: int) -> ConversationRow | None:
        row = self._db.query_one(_CONV_SELECT + " WHERE c.id = ?", (conversation_id,))
        return _conv(row) if row else None

    def get_many(self, ids: builtins.list[int]) -> builtins.list[ConversationRow]:
        out: builtins.list[ConversationRow] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out += [_conv(r) for r in self._db.query(_CONV_SELECT + f" WHERE c.id IN ({marks})", tuple(chunk))]
        return out

    def find(self, account_id: int, remote: str) -> ConversationRow | None:
        row = self._db.query_one(_CONV_SELECT + " WHERE c.account_id = ? AND c.remote = ?", (account_id, remote))
        return _conv(row) if row else None

    def ids_for_messages(self, message_ids: builtins.list[int]) -> set[int]:
        """The conversations these messages belong to."""
        out: set[int] = set()
        for i in range(0, len(message_ids), 500):
            chunk = message_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.query(
                f"""SELECT DISTINCT c.id FROM messages m
                    JOIN conversations c ON c.account_id = m.account_id AND c.remote = m.remote
                    WHERE m.id IN ({marks})""",
                tuple(chunk),
            )
            out |= {r["id"] for r in rows}
        return out

    def count(self) -> int:
        row = self._db.query_one("SELECT count(*) AS n FROM conversations")
        return int(row["n"]) if row else 0

    def unread_total(self) -> int:
        row = self._db.query_one("SELECT COALESCE(sum(unread), 0) AS n FROM conversations WHERE unread > 0")
        return int(row["n"]) if row else 0

    # ---- thread pages --------------------------------------------------------------------
    def messages_before(self, account_id: int, remote: str, before: int | None, limit: int) -> builtins.list[Message]:
        """Up to ``limit`` messages older than id ``before`` (None: the newest), oldest first."""
        sql = MESSAGE_SELECT + " WHERE m.account_id = ? AND m.remote = ?"
        params: builtins.list[Any] = [account_id, remote]
        if before is not None:
            sql += " AND m.id < ?"
            params.append(before)
        sql += " ORDER BY m.id DESC LIMIT ?"
        params.append(limit)
        rows = self._db.query(sql, tuple(params))
        rows.reverse()
        return [row_to_message(r) for r in rows]

    def messages_after(self, account_id: int, remote: str, after: int, limit: int) -> builtins.list[Message]:
        """Up to ``limit`` messages newer than id ``after``, oldest first."""
        rows = self._db.query(
            MESSAGE_SELECT + " WHERE m.account_id = ? AND m.remote = ? AND m.id > ? ORDER BY m.id LIMIT ?",
            (account_id, remote, after, limit),
        )
        return [row_to_message(r) for r in rows]

    # ---- search --------------------------------------------------------------------------
    def search_messages(self, text: str, limit: int) -> builtins.list[SearchRow]:
        """Newest messages containing every word; the last word also as a prefix when the
        whole words alone do not fill ``limit``.

        Whole words first because an FTS5 prefix query merges the doclists of every term
        with that prefix before it can order them (~70 ms for "thanks*" over a million
        messages) while a whole word walks its doclist from the newest end (~0.3 ms).
        """
        if self._pg:
            return self._match_pg(text, limit)
        exact = fts_query(text, prefix=False)
        if not exact:
            return []
        rows = self._match(exact, limit)
        if len(rows) < limit and len(re.findall(r"\w+", text)[-1]) >= 2:
            seen = {r.message_id for r in rows}
            more = [r for r in self._match(fts_query(text), limit) if r.message_id not in seen]
            rows = sorted(rows + more, key=lambda r: r.message_id or 0, reverse=True)[:limit]
        return rows

    def _match(self, query: str, limit: int) -> builtins.list[SearchRow]:
        rows = self._db.query(
            """SELECT f.rowid AS mid, c.id AS cid, m.created_at, m.body
               FROM (SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT ?) f
               JOIN messages m ON m.id = f.rowid
               JOIN conversations c ON c.account_id = m.account_id AND c.remote = m.remote
               ORDER BY f.rowid DESC""",
            (query, limit),
        )
        return [SearchRow(r["cid"], r["mid"], r["created_at"], r["body"]) for r in rows]

    def _match_pg(self, text: str, limit: int) -> builtins.list[SearchRow]:
        """PostgreSQL: every word in the body (``body_search``, words lower-cased), the last
        also as a prefix, newest first."""
        words = [w.lower() for w in re.findall(r"\w+", text)]
        if not words:
            return []
        query = " & ".join([*words[:-1], words[-1] + (":*" if len(words[-1]) >= 2 else "")])
        rows = self._db.query(
            """SELECT m.id AS mid, c.id AS cid, m.created_at, m.body FROM messages m
               JOIN conversations c ON c.account_id = m.account_id AND c.remote = m.remote
               WHERE m.body_search @@ to_tsquery('simple', ?) ORDER BY m.id DESC LIMIT ?""",
            (query, limit),
        )
        return [SearchRow(r["cid"], r["mid"], r["created_at"], r["body"]) for r in rows]

    def search_conversations(self, text: str, limit: int) -> builtins.list[SearchRow]:
        """Conversations whose number or contact name contains ``text`` (3+ characters)."""
        needle = text.strip()
        digits = re.sub(r"[\s()\-.]", "", needle)
        if digits.lstrip("+").isdigit():
            needle = digits.lstrip("+")
            if needle.startswith("0"):
                needle = needle[1:]  # a national "07911..." is "+447911..." in storage
        if len(needle) < 3:
            return []
        if self._pg:
            like = "%" + needle.lower().replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
            rows = self._db.query(
                """SELECT c.id, c.last_at, COALESCE(k.name, '') AS name, c.remote FROM conversations c
                   LEFT JOIN contact_numbers kn ON kn.number = c.remote LEFT JOIN contacts k ON k.id = kn.contact_id
                   WHERE c.remote LIKE ? OR lower(k.name::text) LIKE ? ORDER BY c.last_at DESC LIMIT ?""",
                (like, like, limit),
            )
            return [SearchRow(r["id"], None, r["last_at"], r["name"] or r["remote"]) for r in rows]
        rows = self._db.query(
            """SELECT c.id, c.last_at, COALESCE(k.name, '') AS name, c.remote FROM conversation_fts f
               JOIN conversations c ON c.id = f.rowid
               LEFT JOIN contact_numbers kn ON kn.number = c.remote LEFT JOIN contacts k ON k.id = kn.contact_id
               WHERE conversation_fts MATCH ? ORDER BY c.last_at DESC LIMIT ?""",
            ('"' + needle.replace('"', "") + '"', limit),
        )
        return [SearchRow(r["id"], None, r["last_at"], r["name"] or r["remote"]) for r in rows]

    # ---- writes (one transaction each) ---------------------------------------------------
    async def mark_read(self, conversation_id: int) -> int:
        return await self._db.write(lambda c: mark_read(c, conversation_id))

    async def save_draft(self, conversation_id: int, text: str) -> None:
        await self._db.write(lambda c: save_draft(c, conversation_id, text))

    def save_draft_blocking(self, conversation_id: int, text: str, timeout: float) -> bool:
        job = self._db.submit(lambda c: save_draft(c, conversation_id, text))
        try:
            job.result(timeout)
        except TimeoutError:
            log.info("the draft save is queued behind other writes; it is committed before closing")
            return False
        return True
