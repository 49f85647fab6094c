"""Automatic reply rules, and the one write that queues an automatic reply with its guards.

:func:`queue_auto_reply` checks every guard and writes the reply in the same transaction (the
single writer serialises it; the unique index on ``(in_reply_to, auto_rule_id)`` backs it up),
so two passes over one incoming message can never answer it twice.
"""

from __future__ import annotations

import json
import sqlite3

from smsdesk.domain.autoreply import Match, Rule, RuleKind
from smsdesk.storage import messages as msg_store
from smsdesk.storage import optouts as opt_store
from smsdesk.storage.audit import record
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.records import AuditEntry, AutoReplyGuards, NewOutgoing, SpendCap
from smsdesk.storage.spend_cap import check_cap

_COLUMNS = "id, account_id, kind, keywords, match, reply, enabled, position, add_group_id, add_tag"


def _rule(r: sqlite3.Row) -> Rule:
    return Rule(
        id=int(r[0]),
        account_id=int(r[1]),
        kind=RuleKind(r[2]),
        keywords=tuple(json.loads(r[3] or "[]")),
        match=Match(r[4]),
        reply=str(r[5]),
        enabled=bool(r[6]),
        position=int(r[7]),
        add_group_id=int(r[8]) if r[8] is not None else None,
        add_tag=str(r[9]),
    )


def queue_auto_reply(
    conn: sqlite3.Connection, item: NewOutgoing, in_reply_to: int, rule_id: int, guards: AutoReplyGuards
) -> tuple[int | None, str]:
    """Queue ``item`` as rule ``rule_id``'s answer to message ``in_reply_to``, unless a guard
    says no. Returns (the new message id or None, why not in words)."""
    if conn.execute(
        "SELECT 1 FROM messages WHERE in_reply_to = ? AND auto_rule_id = ?", (in_reply_to, rule_id)
    ).fetchone():
        return None, "already answered"
    if opt_store.reason(conn, item.remote) is not None:
        return None, "the number opted out"
    if conn.execute(
        """SELECT 1 FROM messages WHERE account_id = ? AND remote = ? AND auto_rule_id = ? AND created_at >= ?
           LIMIT 1""",
        (item.account_id, item.remote, rule_id, guards.since_same),
    ).fetchone():
        return None, "this rule answered this number recently"
    # Automatic replies since a person last wrote to this number (or ever, if nobody has).
    last_person = conn.execute(
        """SELECT max(id) FROM messages WHERE account_id = ? AND remote = ? AND direction = 'out'
           AND auto_rule_id IS NULL""",
        (item.account_id, item.remote),
    ).fetchone()[0]
    in_a_row = conn.execute(
        "SELECT count(*) FROM messages WHERE account_id = ? AND remote = ? AND auto_rule_id IS NOT NULL AND id > ?",
        (item.account_id, item.remote, last_person or 0),
    ).fetchone()[0]
    if in_a_row >= guards.per_conversation:
        return None, f"{in_a_row} automatic replies in a row in this conversation"
    sent = conn.execute(
        "SELECT count(*) FROM messages WHERE account_id = ? AND auto_rule_id IS NOT NULL AND created_at >= ?",
        (item.account_id, guards.since_rate),
    ).fetchone()[0]
    if sent >= guards.rate:
        return None, "too many automatic replies from this account just now"
    [mid] = msg_store.insert_outgoing(conn, [item], by_person=False)
    conn.execute("UPDATE messages SET auto_rule_id = ?, in_reply_to = ? WHERE id = ?", (rule_id, in_reply_to, mid))
    return mid, ""


class AutoReplyRepository:
    """Rules per account, in their order, and the guarded queue."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def rules(self, account_id: int | None = None) -> list[Rule]:
        if account_id is None:
            rows = self._db.query(f"SELECT {_COLUMNS} FROM autoreply_rules ORDER BY account_id, position, id")
        else:
            rows = self._db.query(
                f"SELECT {_COLUMNS} FROM autoreply_rules WHERE account_id = ? ORDER BY position, id", (account_id,)
            )
        return [_rule(r) for r in rows]

    def get(self, rule_id: int) -> Rule | None:
        row = self._db.query_one(f"SELECT {_COLUMNS} FROM autoreply_rules WHERE id = ?", (rule_id,))
        return _rule(row) if row is not None else None

    async def add(self, rule: Rule, audit: AuditEntry) -> int:
        def write(conn: sqlite3.Connection) -> int:
            pos = conn.execute(
                "SELECT coalesce(max(position), 0) + 1 FROM autoreply_rules WHERE account_id = ?", (rule.account_id,)
            ).fetchone()[0]
            cur = conn.execute(
                """INSERT INTO autoreply_rules (account_id, kind, keywords, match, reply, enabled, position,
                     add_group_id, add_tag, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    rule.account_id,
                    rule.kind.value,
                    json.dumps(list(rule.keywords)),
                    rule.match.value,
                    rule.reply,
                    int(rule.enabled),
                    int(pos),
                    rule.add_group_id,
                    rule.add_tag,
                    utcnow(),
                ),
            )
            record(conn, audit)
            return int(cur.lastrowid or 0)

        return await self._db.write(write)

    async def update(self, rule: Rule, audit: AuditEntry) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                """UPDATE autoreply_rules SET keywords = ?, match = ?, reply = ?, enabled = ?, position = ?,
                     add_group_id = ?, add_tag = ? WHERE id = ?""",
                (
                    json.dumps(list(rule.keywords)),
                    rule.match.value,
                    rule.reply,
                    int(rule.enabled),
                    rule.position,
                    rule.add_group_id,
                    rule.add_tag,
                    rule.id,
                ),
            )
            record(conn, audit)
            return cur.rowcount > 0

        return await self._db.write(write)

    async def remove(self, rule_id: int, audit: AuditEntry) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM autoreply_rules WHERE id = ?", (rule_id,))
            record(conn, audit)
            return cur.rowcount > 0

        return await self._db.write(write)

    async def queue(
        self,
        item: NewOutgoing,
        in_reply_to: int,
        rule_id: int,
        guards: AutoReplyGuards,
        audit: AuditEntry,
        cap: SpendCap | None = None,
    ) -> tuple[int | None, str]:
        def write(conn: sqlite3.Connection) -> tuple[int | None, str]:
            mid, why = queue_auto_reply(conn, item, in_reply_to, rule_id, guards)
            if mid is not None:
                check_cap(conn, cap)  # over the limit: raises, and the job is undone
                record(conn, audit)
            return mid, why

        return await self._db.write(write)
