"""Contact groups: plain lists (``contact_group_members``) and smart groups (a JSON rule in
``contact_groups.filter``, evaluated whenever asked by :mod:`smsdesk.storage.contact_search`).

A group is never deleted while a scheduled send takes its members at each run
(``schedules.group_id``): the delete is one statement that checks that, so a schedule made
meanwhile by another process cannot lose its group.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from smsdesk.domain.contacts import AsOf, Group, GroupFilter
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.storage import contact_search
from smsdesk.storage.audit import record
from smsdesk.storage.contact_rows import CHUNK, marks
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.records import AuditEntry, ScheduleUse

# A schedule in one of these states will run again (or is running): it needs its group.
_ACTIVE = "('scheduled', 'paused', 'running', 'held')"


def _group(conn: sqlite3.Connection, row: sqlite3.Row, asof: AsOf) -> Group:
    flt = GroupFilter.from_json(row["filter"]) if row["filter"] else None
    size = contact_search.group_size(conn, int(row["id"]), flt, asof)
    return Group(int(row["id"]), str(row["name"]), flt, size, str(row["created_at"]), str(row["updated_at"]))


def _taken(conn: sqlite3.Connection, name: str, but: int | None = None) -> None:
    row = conn.execute("SELECT id, name FROM contact_groups WHERE name = ?", (name,)).fetchone()
    if row is not None and row[0] != but:
        raise InvalidInput(f"There is already a group called '{row[1]}'. Choose another name.")


class GroupRepository:
    """:class:`smsdesk.storage.api.GroupStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- reads ---------------------------------------------------------------------------
    def groups(self, asof: AsOf) -> list[Group]:
        """Every group by name, each with its current size (plain lists in one query)."""
        conn = self._db.reader()
        sizes = {
            int(r[0]): int(r[1])
            for r in conn.execute("SELECT group_id, count(*) FROM contact_group_members GROUP BY group_id")
        }
        out = []
        for r in conn.execute("SELECT id, name, filter, created_at, updated_at FROM contact_groups ORDER BY name"):
            if r["filter"]:
                out.append(_group(conn, r, asof))
            else:
                size = sizes.get(int(r["id"]), 0)
                out.append(Group(int(r["id"]), str(r["name"]), None, size, str(r["created_at"]), str(r["updated_at"])))
        return out

    def get(self, group_id: int, asof: AsOf) -> Group | None:
        conn = self._db.reader()
        row = conn.execute(
            "SELECT id, name, filter, created_at, updated_at FROM contact_groups WHERE id = ?", (group_id,)
        ).fetchone()
        return _group(conn, row, asof) if row else None

    def by_name(self, name: str, asof: AsOf) -> Group | None:
        row = self._db.query_one("SELECT id FROM contact_groups WHERE name = ?", (name.strip(),))
        return self.get(int(row[0]), asof) if row else None

    def find(self, text: str, limit: int, asof: AsOf) -> list[Group]:
        """Groups whose name contains ``text`` (any case), names starting with it first."""
        conn = self._db.reader()
        needle = text.strip().lower()
        rows = conn.execute(
            """SELECT id, name, filter, created_at, updated_at FROM contact_groups WHERE instr(lower(name), ?) > 0
               ORDER BY instr(lower(name), ?) != 1, name LIMIT ?""",
            (needle, needle, limit),
        ).fetchall()
        return [_group(conn, r, asof) for r in rows]

    def member_ids(self, group_ids: Iterable[int], asof: AsOf) -> dict[int, list[int]]:
        """Each group's members now (a smart group's rule evaluated), by contact id."""
        conn = self._db.reader()
        out: dict[int, list[int]] = {}
        for gid in dict.fromkeys(group_ids):
            flt = contact_search.group_filter(conn, gid)
            if flt is None:
                out[gid] = [
                    int(r[0])
                    for r in conn.execute(
                        "SELECT contact_id FROM contact_group_members WHERE group_id = ? ORDER BY contact_id", (gid,)
                    )
                ]
            else:
                out[gid] = contact_search.matching_ids(conn, flt, asof)
        return out

    def groups_of(self, contact_id: int) -> list[tuple[int, str]]:
        """The plain lists a contact is a member of (id, name)."""
        rows = self._db.query(
            """SELECT g.id, g.name FROM contact_group_members m JOIN contact_groups g ON g.id = m.group_id
               WHERE m.contact_id = ? ORDER BY g.name""",
            (contact_id,),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def uses(self, group_id: int) -> list[ScheduleUse]:
        """The scheduled sends that will take this group's members (not the finished ones)."""
        rows = self._db.query(
            f"""SELECT id, body, next_run_utc, zone, state, location FROM schedules
                WHERE group_id = ? AND state IN {_ACTIVE} ORDER BY next_run_utc, id""",
            (group_id,),
        )
        return [ScheduleUse(int(r[0]), str(r[1]), r[2], str(r[3]), str(r[4]), str(r[5])) for r in rows]

    # ---- writes --------------------------------------------------------------------------
    async def create(self, name: str, flt: GroupFilter | None, audit: AuditEntry) -> int:
        def write(conn: sqlite3.Connection) -> int:
            _taken(conn, name)
            now = utcnow()
            cur = conn.execute(
                "INSERT INTO contact_groups (name, filter, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (name, flt.to_json() if flt is not None else None, now, now),
            )
            gid = int(cur.lastrowid or 0)
            record(conn, audit, group_id=gid)
            return gid

        return await self._db.write(write)

    async def rename(self, group_id: int, name: str, audit: AuditEntry) -> None:
        def write(conn: sqlite3.Connection) -> None:
            _taken(conn, name, but=group_id)
            cur = conn.execute(
                "UPDATE contact_groups SET name = ?, updated_at = ? WHERE id = ?", (name, utcnow(), group_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"No group with id {group_id}: it may have been deleted.")
            record(conn, audit)

        await self._db.write(write)

    async def set_filter(self, group_id: int, flt: GroupFilter | None, audit: AuditEntry) -> None:
        """A smart group's new rule; a plain list given a rule loses its hand-picked members."""

        def write(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE contact_groups SET filter = ?, updated_at = ? WHERE id = ?",
                (flt.to_json() if flt is not None else None, utcnow(), group_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"No group with id {group_id}: it may have been deleted.")
            if flt is not None:
                conn.execute("DELETE FROM contact_group_members WHERE group_id = ?", (group_id,))
            record(conn, audit)

        await self._db.write(write)

    async def add_members(self, group_id: int, contact_ids: Sequence[int], audit: AuditEntry) -> int:
        def write(conn: sqlite3.Connection) -> int:
            _plain(conn, group_id)
            added = 0
            for i in range(0, len(contact_ids), CHUNK):
                chunk = list(contact_ids[i : i + CHUNK])
                added += conn.execute(
                    f"""INSERT INTO contact_group_members (group_id, contact_id)
                        SELECT ?, id FROM contacts WHERE id IN ({marks(len(chunk))}) ON CONFLICT DO NOTHING""",
                    (group_id, *chunk),
                ).rowcount
            conn.execute("UPDATE contact_groups SET updated_at = ? WHERE id = ?", (utcnow(), group_id))
            record(conn, audit, added=added)
            return added

        return await self._db.write(write)

    async def remove_members(self, group_id: int, contact_ids: Sequence[int], audit: AuditEntry) -> int:
        def write(conn: sqlite3.Connection) -> int:
            _plain(conn, group_id)
            removed = 0
            for i in range(0, len(contact_ids), CHUNK):
                chunk = list(contact_ids[i : i + CHUNK])
                removed += conn.execute(
                    f"DELETE FROM contact_group_members WHERE group_id = ? AND contact_id IN ({marks(len(chunk))})",
                    (group_id, *chunk),
                ).rowcount
            conn.execute("UPDATE contact_groups SET updated_at = ? WHERE id = ?", (utcnow(), group_id))
            record(conn, audit, removed=removed)
            return removed

        return await self._db.write(write)

    async def delete(self, group_id: int, audit: AuditEntry) -> bool:
        """Delete a group (its members stay as contacts) unless a scheduled send still uses it:
        False then, and nothing changed."""

        def write(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT 1 FROM contact_groups WHERE id = ?", (group_id,)).fetchone() is None:
                raise NotFound(f"No group with id {group_id}: it may have been deleted.")
            # Finished schedules only remember the group; running ones keep it (checked below).
            conn.execute(
                f"UPDATE schedules SET group_id = NULL WHERE group_id = ? AND state NOT IN {_ACTIVE}", (group_id,)
            )
            cur = conn.execute(
                f"""DELETE FROM contact_groups WHERE id = ?
                    AND NOT EXISTS (SELECT 1 FROM schedules WHERE group_id = ? AND state IN {_ACTIVE})""",
                (group_id, group_id),
            )
            if cur.rowcount:
                record(conn, audit)
            return cur.rowcount == 1

        return await self._db.write(write)


def _plain(conn: sqlite3.Connection, group_id: int) -> None:
    row = conn.execute("SELECT name, filter FROM contact_groups WHERE id = ?", (group_id,)).fetchone()
    if row is None:
        raise NotFound(f"No group with id {group_id}: it may have been deleted.")
    if row[1]:
        raise InvalidInput(
            f"'{row[0]}' is a smart group: its members are whoever its rule matches. Change the rule instead."
        )
