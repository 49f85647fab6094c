"""The address book: contacts with several numbers, tags, typed custom fields, notes,
consent, and the names wherever a number is shown.

``contacts`` holds one row per person (``number``: the one for texts); ``contact_numbers``
every number of every contact, each at most once (its primary key), which is what name
look-ups by number use; ``contact_tags`` and ``contact_fields`` (the typed field
definitions) complete it. Writes are in :mod:`smsdesk.storage.contact_writes`, finding in
:mod:`smsdesk.storage.contact_search`, reading whole contacts in
:mod:`smsdesk.storage.contact_rows`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from smsdesk.domain.contacts import AsOf, Contact, ContactPage, ContactQuery, FieldDef, FieldKind
from smsdesk.storage import contact_rows, contact_search, contact_writes
from smsdesk.storage.audit import record
from smsdesk.storage.contact_rows import CHUNK, marks
from smsdesk.storage.conversations import CONVERSATION_SELECT, conversation_row, set_contact_name
from smsdesk.storage.db import Database, utcnow
from smsdesk.storage.dialect import is_postgres
from smsdesk.storage.records import AuditEntry, ConversationRow, Erased, NewContact, Removed, Saved


def names_for(conn: sqlite3.Connection, numbers: Iterable[str]) -> dict[str, str]:
    """``{number: name}`` for the numbers (+E.164) that belong to a contact with a name.

    One query per 500 distinct numbers (an index probe each), however many rows a list shows.
    """
    wanted = sorted({n for n in numbers if n})
    out: dict[str, str] = {}
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        rows = conn.execute(
            f"""SELECT n.number, k.name FROM contact_numbers n JOIN contacts k ON k.id = n.contact_id
                WHERE n.number IN ({marks(len(chunk))}) AND k.name != ''""",
            chunk,
        ).fetchall()
        out.update((str(r[0]), str(r[1])) for r in rows)
    return out


class ContactRepository:
    """:class:`smsdesk.storage.api.ContactStore` over SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- reads ---------------------------------------------------------------------------
    def names_for(self, numbers: Iterable[str]) -> dict[str, str]:
        return names_for(self._db.reader(), numbers)

    def get(self, contact_id: int) -> Contact | None:
        return contact_rows.load_one(self._db.reader(), contact_id)

    def get_many(self, ids: Iterable[int]) -> list[Contact]:
        return contact_rows.load(self._db.reader(), ids)

    def by_number(self, number: str) -> Contact | None:
        row = self._db.query_one("SELECT contact_id FROM contact_numbers WHERE number = ?", (number,))
        return self.get(int(row[0])) if row else None

    def by_name(self, name: str, limit: int = 10) -> list[Contact]:
        rows = self._db.query(
            "SELECT id FROM contacts WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT ?", (name.strip(), limit)
        )
        return self.get_many(int(r[0]) for r in rows)

    def count(self) -> int:
        row = self._db.query_one("SELECT count(*) FROM contacts")
        return int(row[0]) if row else 0

    def search(self, query: ContactQuery, asof: AsOf, count: bool = True, quick: bool = False) -> ContactPage:
        conn = self._db.reader()
        ids, total, at_least = contact_search.page_ids(conn, query, asof, count, quick)
        return ContactPage(tuple(contact_rows.load(conn, ids)), total, at_least)

    def stream(self, group_id: int | None, asof: AsOf) -> Iterator[Contact]:
        """Every contact (of a group), by id, read 500 at a time."""
        conn = self._db.reader()
        after = 0
        while True:
            where = contact_search.Where()
            if group_id is not None:
                contact_search.add_group(where, conn, group_id, asof)
            where.add("k.id > ?", after)
            ids = [
                int(r[0])
                for r in conn.execute(
                    f"SELECT k.id FROM contacts k{where.sql} ORDER BY k.id LIMIT {CHUNK}", where.params
                )
            ]
            if not ids:
                return
            yield from contact_rows.load(conn, ids)
            after = ids[-1]

    def tags(self, prefix: str = "", limit: int = 1000) -> list[tuple[str, int]]:
        """Tags in use (starting with ``prefix``, any case) and how many contacts have each."""
        rows = self._db.query(
            """SELECT tag, count(*) FROM contact_tags WHERE tag LIKE ? ESCAPE '\\'
               GROUP BY tag ORDER BY tag LIMIT ?""",
            (prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", limit),
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def field_defs(self) -> list[FieldDef]:
        rows = self._db.query("SELECT name, kind FROM contact_fields ORDER BY position, name")
        return [FieldDef(str(r[0]), FieldKind(r[1])) for r in rows]

    def field_values(self, name: str) -> list[str]:
        """Every contact's value of one custom field (the non-empty ones)."""
        out: list[str] = []
        for r in self._db.query("SELECT fields FROM contacts WHERE instr(fields, ?) > 0", (f'"{name}"',)):
            value = contact_rows.fields_of(r[0]).get(name, "")
            if value:
                out.append(value)
        return out

    def conversations_of(self, contact_id: int) -> list[ConversationRow]:
        """The conversations with any of the contact's numbers, latest first."""
        rows = self._db.query(
            CONVERSATION_SELECT + " WHERE c.remote IN (SELECT number FROM contact_numbers WHERE contact_id = ?)"
            " ORDER BY c.last_at DESC, c.id DESC",
            (contact_id,),
        )
        return [conversation_row(r) for r in rows]

    # ---- writes (one transaction each) -----------------------------------------------------
    async def set_name(self, number: str, name: str, audit: AuditEntry) -> None:
        def write(conn: sqlite3.Connection) -> None:
            set_contact_name(conn, number, name)
            record(conn, audit)

        await self._db.write(write)

    async def add(self, new: NewContact, audit: AuditEntry) -> Saved:
        def write(conn: sqlite3.Connection) -> Saved:
            saved = contact_writes.add(conn, new, utcnow())
            record(conn, audit, contact_id=saved.contact_id, merged=saved.merged)
            return saved

        return await self._db.write(write)

    async def add_many(
        self, items: Sequence[NewContact], group_id: int | None, fields: Sequence[FieldDef], audit: AuditEntry
    ) -> list[Saved]:
        """Add (or merge) a batch, define ``fields`` first, and put them in ``group_id``."""

        def write(conn: sqlite3.Connection) -> list[Saved]:
            now = utcnow()
            contact_writes.define_fields(conn, [(f.name, f.kind.value) for f in fields])
            saved = [contact_writes.add(conn, new, now) for new in items]
            if group_id is not None:
                conn.executemany(
                    "INSERT INTO contact_group_members (group_id, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [(group_id, s.contact_id) for s in saved],
                )
                conn.execute("UPDATE contact_groups SET updated_at = ? WHERE id = ?", (now, group_id))
            record(conn, audit, added=sum(not s.merged for s in saved), merged=sum(s.merged for s in saved))
            return saved

        return await self._db.write(write)

    async def edit(self, contact_id: int, new: NewContact, audit: AuditEntry) -> None:
        def write(conn: sqlite3.Connection) -> None:
            contact_writes.edit(conn, contact_id, new, utcnow())
            record(conn, audit)

        await self._db.write(write)

    async def remove(self, ids: Sequence[int], audit: AuditEntry) -> Removed:
        def write(conn: sqlite3.Connection) -> Removed:
            removed = contact_writes.remove(conn, ids)
            record(conn, audit, ids=[c.id for c in removed.contacts])
            return removed

        return await self._db.write(write)

    async def restore(self, removed: Removed, audit: AuditEntry) -> list[int]:
        def write(conn: sqlite3.Connection) -> list[int]:
            ids = contact_writes.restore(conn, removed, utcnow())
            record(conn, audit, ids=ids)
            return ids

        return await self._db.write(write)

    async def merge(self, keep_id: int, other_id: int, audit: AuditEntry) -> Contact:
        def write(conn: sqlite3.Connection) -> Contact:
            other = contact_writes.merge(conn, keep_id, other_id, utcnow())
            record(conn, audit)
            return other

        return await self._db.write(write)

    def note_export(self, audit: AuditEntry) -> None:
        self._db.write_sync(lambda c: note_export(c, audit))

    async def erase(self, contact_id: int, audit: AuditEntry) -> Erased:
        def write(conn: sqlite3.Connection) -> Erased:
            erased = contact_writes.erase(conn, contact_id, utcnow())
            record(
                conn,
                audit,
                numbers=erased.numbers,
                messages=erased.messages,
                conversations=erased.conversations,
                opt_out_kept=erased.kept_opt_out,
            )
            return erased

        return await self._db.write(write)

    async def define_field(self, name: str, kind: FieldKind, audit: AuditEntry) -> None:
        """Define a custom field, or change the kind of one (its values were checked)."""

        def write(conn: sqlite3.Connection) -> None:
            contact_writes.define_fields(conn, [(name, kind.value)])
            conn.execute("UPDATE contact_fields SET kind = ? WHERE name = ?", (kind.value, name))
            record(conn, audit)

        await self._db.write(write)


def note_export(conn: sqlite3.Connection, audit: AuditEntry) -> None:
    """An export of the address book, in the audit log; on PostgreSQL also in
    ``address_book_exports``, whose INSERT grant says who may export
    (``smsdesk workspace exports``): a refused grant stops the export before any file."""
    if is_postgres(conn):
        conn.execute("INSERT INTO address_book_exports (what, at) VALUES (?, ?)", (audit.subject, utcnow()))
    record(conn, audit)
