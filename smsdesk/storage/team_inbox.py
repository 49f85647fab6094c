"""The team inbox: who a conversation is assigned to, whether it is open, resolved or snoozed,
its internal notes, and per-person figures.

Every write that checks before it acts is one conditional statement, so two desktops acting
at once on a workspace (PostgreSQL, READ COMMITTED) cannot both win: an assignment is
``UPDATE ... WHERE assignee IS <what the person saw>``, and when it changes no row the
caller learns who took the conversation first. Each change also writes a line of
``conversation_activity`` in the same transaction; that table's growing id is what other
desktops watch (``Marks.activity``) to redraw a conversation and to notify @mentions.

Who did it: on a workspace the database stamps ``conversation_activity.actor`` and
``messages.sent_by`` with ``current_user`` (triggers in ``storage/pg/schema.py``), so a
modified client cannot write another person's name. A single desktop is used by one person
(:func:`person`: the computer's login name) and leaves ``sent_by`` empty.
"""

from __future__ import annotations

import builtins  # the class has a ``list``-shadowing namespace in annotations
import functools
import getpass
import sqlite3
from statistics import median
from typing import Any

from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.dialect import is_postgres
from smsdesk.storage.records import ActivityRow, PersonFigures, TeamState

#: The group role every staff login of a workspace belongs to (storage/pg/admin.py makes it).
AGENT_ROLE = "smsdesk_agent"


def _activity(conn: sqlite3.Connection, conversation_id: int, kind: str, actor: str, body: str) -> int:
    cur = conn.execute(
        "INSERT INTO conversation_activity (conversation_id, kind, actor, body, created_at) VALUES (?, ?, ?, ?, ?)",
        (conversation_id, kind, actor, body, utcnow()),
    )
    return int(cur.lastrowid or 0)


def assign(
    conn: sqlite3.Connection, conversation_id: int, to: str | None, expected: str | None, actor: str
) -> tuple[bool, str | None]:
    """Give the conversation to ``to`` (None: nobody) if it is still assigned to ``expected``;
    returns (done, who has it now). Not done: someone else changed it first."""
    cur = conn.execute(
        "UPDATE conversations SET assignee = ? WHERE id = ? AND assignee IS ?", (to, conversation_id, expected)
    )
    if cur.rowcount == 0:
        row = conn.execute("SELECT assignee FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return False, (row[0] if row is not None else None)
    _activity(conn, conversation_id, "assigned", actor, to or "")
    return True, to


def set_state(conn: sqlite3.Connection, conversation_id: int, state: TeamState, until: str | None, actor: str) -> bool:
    """Resolve, reopen or snooze (``until``: UTC ISO, or None for "until the next reply")."""
    cur = conn.execute(
        "UPDATE conversations SET state = ?, snoozed_until = ? WHERE id = ?",
        (state.value, until if state is TeamState.SNOOZED else None, conversation_id),
    )
    if cur.rowcount == 0:
        return False
    kind = {TeamState.OPEN: "reopened", TeamState.RESOLVED: "resolved", TeamState.SNOOZED: "snoozed"}[state]
    _activity(conn, conversation_id, kind, actor, until or "")
    return True


def mark_seen(conn: sqlite3.Connection, conversation_id: int, person: str, message_id: int) -> None:
    """``person`` has seen the conversation up to ``message_id`` (a marker only moves forward)."""
    conn.execute(
        """INSERT INTO conversation_reads (conversation_id, person, message_id, at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conversation_id, person) DO UPDATE SET
             message_id = CASE WHEN excluded.message_id > conversation_reads.message_id
                               THEN excluded.message_id ELSE conversation_reads.message_id END,
             at = excluded.at""",
        (conversation_id, person, message_id, utcnow()),
    )


class TeamInboxRepository:
    """:class:`smsdesk.storage.api.TeamInboxStore` over either store."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pg = is_postgres(db)

    @functools.cached_property
    def person(self) -> str:
        """Who is using this desktop: the workspace login (PostgreSQL's ``current_user``), or
        the computer's login name on a single desktop."""
        if self._pg:
            row = self._db.query_one("SELECT current_user AS me")
            return str(row["me"]) if row else ""
        try:
            return getpass.getuser()
        except (OSError, KeyError):  # no login name in the environment or the password database
            return "me"

    def people(self) -> builtins.list[str]:
        """Everyone a conversation can be assigned to: the workspace's staff logins (and this
        desktop's own), sorted; on a single desktop only its person."""
        names = {self.person}
        if self._pg:
            rows = self._db.query(
                """SELECT r.rolname AS name FROM pg_roles r
                   JOIN pg_auth_members m ON m.member = r.oid
                   JOIN pg_roles g ON g.oid = m.roleid
                   WHERE g.rolname = ? AND r.rolcanlogin""",
                (AGENT_ROLE,),
            )
            names |= {str(r["name"]) for r in rows}
        return sorted(names, key=str.lower)

    # ---- writes ----------------------------------------------------------------------------
    async def assign(self, conversation_id: int, to: str | None, expected: str | None) -> tuple[bool, str | None]:
        me = self.person
        return await self._db.write(lambda c: assign(c, conversation_id, to, expected, me))

    async def set_state(self, conversation_id: int, state: TeamState, until: str | None) -> bool:
        me = self.person
        return await self._db.write(lambda c: set_state(c, conversation_id, state, until, me))

    async def add_note(self, conversation_id: int, body: str) -> int:
        me = self.person
        return await self._db.write(lambda c: _activity(c, conversation_id, "note", me, body))

    async def mark_seen(self, conversation_id: int, message_id: int) -> None:
        me = self.person
        await self._db.write(lambda c: mark_seen(c, conversation_id, me, message_id))

    # ---- reads -----------------------------------------------------------------------------
    def seen_by(self, conversation_id: int, message_id: int) -> builtins.list[str]:
        """Who has seen the conversation up to ``message_id`` or later, sorted."""
        rows = self._db.query(
            "SELECT person FROM conversation_reads WHERE conversation_id = ? AND message_id >= ?",
            (conversation_id, message_id),
        )
        return sorted((str(r["person"]) for r in rows), key=str.lower)

    def activity(self, conversation_id: int, limit: int = 200) -> builtins.list[ActivityRow]:
        """The conversation's newest ``limit`` activity lines, oldest first."""
        rows = self._db.query(
            """SELECT id, conversation_id, kind, actor, body, created_at FROM conversation_activity
               WHERE conversation_id = ? ORDER BY id DESC LIMIT ?""",
            (conversation_id, limit),
        )
        return [_row(r) for r in reversed(rows)]

    def activity_by_id(self, ids: builtins.list[int]) -> builtins.list[ActivityRow]:
        out: builtins.list[ActivityRow] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self._db.query(
                f"""SELECT id, conversation_id, kind, actor, body, created_at FROM conversation_activity
                    WHERE id IN ({",".join("?" * len(chunk))}) ORDER BY id""",
                tuple(chunk),
            )
            out += [_row(r) for r in rows]
        return out

    def senders_after(self, conversation_id: int, after_message_id: int) -> builtins.list[str]:
        """Who sent a message in the conversation after message ``after_message_id`` (the
        newest one a person saw when they opened it), automatic replies left out."""
        rows = self._db.query(
            """SELECT DISTINCT m.sent_by FROM conversations c
               JOIN messages m ON m.account_id = c.account_id AND m.remote = c.remote
               WHERE c.id = ? AND m.id > ? AND m.direction = 'out' AND m.sent_by IS NOT NULL
                 AND m.auto_rule_id IS NULL""",
            (conversation_id, after_message_id),
        )
        return sorted(str(r[0]) for r in rows)

    def person_figures(self, start: str, end: str) -> builtins.list[PersonFigures]:
        """Per person, what they sent from ``start`` until ``end`` (UTC ISO): every message
        written by a person or a send they started, and their first answers' median time."""
        sent = self._db.query(
            """SELECT coalesce(sent_by, '') AS person, count(*) AS n FROM messages
               WHERE created_at >= ? AND created_at < ? AND direction = 'out' AND auto_rule_id IS NULL
               GROUP BY coalesce(sent_by, '')""",
            (start, end),
        )
        waits: dict[str, builtins.list[int]] = {}
        for r in self._db.query(
            """SELECT coalesce(sent_by, '') AS person, answer_s FROM messages
               WHERE created_at >= ? AND created_at < ? AND answer_s IS NOT NULL""",
            (start, end),
        ):
            waits.setdefault(r["person"], []).append(int(r["answer_s"]))
        out = []
        for r in sent:
            w = waits.get(r["person"], [])
            out.append(PersonFigures(r["person"], int(r["n"]), len(w), float(median(w)) if w else None))
        return sorted(out, key=lambda f: (-f.sent, f.person.lower()))


def _row(r: Any) -> ActivityRow:
    return ActivityRow(int(r["id"]), int(r["conversation_id"]), r["kind"], r["actor"], r["body"], r["created_at"])
