"""Changing contacts: add (merging by number), edit, remove and restore, merge two, erase.

Functions of a write transaction's connection (the repository runs each use case as one
transaction). "Never two contacts for one number" is the primary key of
``contact_numbers``: adding a contact one of whose numbers a contact already has merges the
new details into that contact instead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence

from smsdesk.domain.contacts import Contact, ContactNumber
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.domain.template import field_key
from smsdesk.storage import erasure
from smsdesk.storage.contact_rows import CHUNK, load, load_one, marks, owners
from smsdesk.storage.dialect import is_postgres
from smsdesk.storage.records import Erased, NewContact, Removed, Saved


def owner_row(conn: sqlite3.Connection, number: str) -> sqlite3.Row | None:
    """The contact (id, name, fields) that has ``number`` among its numbers."""
    row: sqlite3.Row | None = conn.execute(
        """SELECT k.id, k.name, k.fields FROM contact_numbers n JOIN contacts k ON k.id = n.contact_id
           WHERE n.number = ?""",
        (number,),
    ).fetchone()
    return row


def field_names(conn: sqlite3.Connection, values: Mapping[str, str]) -> dict[str, str]:
    """``values`` keyed by the defined custom fields' names (matched like merge fields:
    ``appointment_date`` is the field ``Appointment date``); a name not defined yet becomes
    a text field."""
    defs = {field_key(r[0]): str(r[0]) for r in conn.execute("SELECT name FROM contact_fields")}
    out: dict[str, str] = {}
    for name, value in values.items():
        key = field_key(name)
        if not key:
            continue
        if key not in defs:
            conn.execute(
                "INSERT INTO contact_fields (name, kind, position) VALUES (?, 'text',"
                " (SELECT COALESCE(MAX(position), 0) + 1 FROM contact_fields)) ON CONFLICT (name) DO NOTHING",
                (name,),
            )
            defs[key] = name
        out[defs[key]] = value
    return out


def _json(fields: Mapping[str, str]) -> str:
    return json.dumps({k: v for k, v in fields.items() if v}, ensure_ascii=False, sort_keys=True)


def _put_numbers(conn: sqlite3.Connection, contact_id: int, numbers: Sequence[ContactNumber], start: int = 0) -> None:
    """Give the contact these numbers (labels and order); a number another contact has stays theirs."""
    conn.executemany(
        """INSERT INTO contact_numbers (number, contact_id, label, position) VALUES (?, ?, ?, ?)
           ON CONFLICT (number) DO UPDATE SET label = excluded.label, position = excluded.position
           WHERE contact_numbers.contact_id = excluded.contact_id""",
        [(n.number, contact_id, n.label, start + i) for i, n in enumerate(numbers)],
    )


def _put_tags(conn: sqlite3.Connection, contact_id: int, tags: Iterable[str]) -> None:
    conn.executemany(
        "INSERT INTO contact_tags (contact_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(contact_id, t) for t in tags if t],
    )


def insert(conn: sqlite3.Connection, new: NewContact, now: str, contact_id: int | None = None) -> int:
    """A new contact (with ``contact_id`` when restoring one); its numbers must be free."""
    cur = conn.execute(
        """INSERT INTO contacts (id, number, name, given_name, family_name, fields, notes, consent_at, consent_how,
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            contact_id,
            new.sms,
            new.name,
            new.given_name,
            new.family_name,
            _json(new.fields),
            new.notes,
            new.consent.at if new.consent else None,
            new.consent.how if new.consent else "",
            now,
            now,
        ),
    )
    cid = int(cur.lastrowid or 0)
    _put_numbers(conn, cid, new.numbers)
    _put_tags(conn, cid, new.tags)
    return cid


def merge_into(conn: sqlite3.Connection, contact_id: int, new: NewContact, now: str) -> None:
    """Add ``new``'s details to an existing contact: names, notes and consent fill what is
    empty, new field values replace old ones (an import is the newer list), tags and free
    numbers are added. The number for texts stays."""
    old = load_one(conn, contact_id)
    if old is None:
        raise NotFound(f"No contact with id {contact_id}.")
    fields = dict(old.fields)
    fields.update({k: v for k, v in new.fields.items() if v})
    notes = old.notes
    if new.notes and new.notes not in notes:
        notes = f"{notes}\n{new.notes}" if notes else new.notes
    consent = old.consent or new.consent
    conn.execute(
        """UPDATE contacts SET name = ?, given_name = ?, family_name = ?, fields = ?, notes = ?, consent_at = ?,
             consent_how = ?, updated_at = ? WHERE id = ?""",
        (
            old.name or new.name,
            old.given_name or new.given_name,
            old.family_name or new.family_name,
            _json(fields),
            notes,
            consent.at if consent else None,
            consent.how if consent else "",
            now,
            contact_id,
        ),
    )
    have = {n.number for n in old.numbers}
    taken = owners(conn, [n.number for n in new.numbers if n.number not in have])
    extra = [n for n in new.numbers if n.number not in have and n.number not in taken]
    _put_numbers(conn, contact_id, extra, start=len(old.numbers))
    _put_tags(conn, contact_id, new.tags)


def add(conn: sqlite3.Connection, new: NewContact, now: str) -> Saved:
    """A new contact, or ``new`` merged into the contact that has one of its numbers (the
    owner of the number for texts first)."""
    own = owners(conn, [n.number for n in new.numbers])
    if not own:
        return Saved(insert(conn, new, now), False)
    target = own.get(new.sms) or own[next(n.number for n in new.numbers if n.number in own)]
    merge_into(conn, target, new, now)
    return Saved(target, True)


def edit(conn: sqlite3.Connection, contact_id: int, new: NewContact, now: str) -> None:
    """Replace a contact's details with ``new``.

    Raises:
        NotFound: no such contact.
        InvalidInput: one of the numbers belongs to another contact (merge them instead).
    """
    if conn.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is None:
        raise NotFound(f"No contact with id {contact_id}: it may have been removed.")
    for number, other in owners(conn, [n.number for n in new.numbers]).items():
        if other != contact_id:
            who = conn.execute("SELECT name FROM contacts WHERE id = ?", (other,)).fetchone()
            name = str(who[0]) if who and who[0] else f"contact {other}"
            raise InvalidInput(
                f"{number} is already a number of {name}. If they are the same person, merge the two contacts."
            )
    keep = [n.number for n in new.numbers]
    conn.execute(
        f"DELETE FROM contact_numbers WHERE contact_id = ? AND number NOT IN ({marks(len(keep))})", (contact_id, *keep)
    )
    _put_numbers(conn, contact_id, new.numbers)
    conn.execute(
        """UPDATE contacts SET number = ?, name = ?, given_name = ?, family_name = ?, fields = ?, notes = ?,
             consent_at = ?, consent_how = ?, updated_at = ? WHERE id = ?""",
        (
            new.sms,
            new.name,
            new.given_name,
            new.family_name,
            _json(new.fields),
            new.notes,
            new.consent.at if new.consent else None,
            new.consent.how if new.consent else "",
            now,
            contact_id,
        ),
    )
    conn.execute(
        f"DELETE FROM contact_tags WHERE contact_id = ? AND tag NOT IN ({marks(len(new.tags))})",
        (contact_id, *new.tags),
    )
    _put_tags(conn, contact_id, new.tags)


def remove(conn: sqlite3.Connection, ids: Sequence[int]) -> Removed:
    """Delete contacts (their numbers, tags and memberships); messages are kept."""
    contacts = load(conn, ids)
    found = [c.id for c in contacts]
    members: list[tuple[int, int]] = []
    for i in range(0, len(found), CHUNK):
        chunk = found[i : i + CHUNK]
        members += [
            (int(r[0]), int(r[1]))
            for r in conn.execute(
                f"SELECT group_id, contact_id FROM contact_group_members WHERE contact_id IN ({marks(len(chunk))})",
                chunk,
            )
        ]
        conn.execute(f"DELETE FROM contacts WHERE id IN ({marks(len(chunk))})", chunk)
    return Removed(tuple(contacts), tuple(members))


def restore(conn: sqlite3.Connection, removed: Removed, now: str) -> list[int]:
    """Put removed contacts back (same ids when free); one whose number was given to a new
    contact meanwhile is merged into that contact. Returns the contacts' ids now."""
    moved: dict[int, int] = {}
    for c in removed.contacts:
        new = from_contact(c)
        own = owners(conn, [n.number for n in c.numbers])
        if own:
            moved[c.id] = add(conn, new, now).contact_id
            continue
        free = conn.execute("SELECT 1 FROM contacts WHERE id = ?", (c.id,)).fetchone() is None
        cid = insert(conn, new, c.created_at or now, c.id if free else None)
        conn.execute("UPDATE contacts SET updated_at = ? WHERE id = ?", (now, cid))
        moved[c.id] = cid
    conn.executemany(
        """INSERT INTO contact_group_members (group_id, contact_id)
           SELECT ?, ? WHERE EXISTS (SELECT 1 FROM contact_groups WHERE id = ? AND filter IS NULL)
           ON CONFLICT DO NOTHING""",
        [(g, moved[c], g) for g, c in removed.memberships if c in moved],
    )
    return list(moved.values())


def from_contact(c: Contact) -> NewContact:
    return NewContact(
        name=c.name,
        given_name=c.given_name,
        family_name=c.family_name,
        numbers=c.numbers,
        tags=c.tags,
        fields=dict(c.fields),
        notes=c.notes,
        consent=c.consent,
    )


def merge(conn: sqlite3.Connection, keep_id: int, other_id: int, now: str) -> Contact:
    """``other`` joins ``keep``: its numbers, tags, groups; fields ``keep`` lacks; notes
    added; then ``other`` is deleted (messages are by number, so its history shows under
    ``keep``). Returns ``other`` as it was."""
    if keep_id == other_id:
        raise InvalidInput("Choose two different contacts to merge.")
    keep, other = load_one(conn, keep_id), load_one(conn, other_id)
    if keep is None or other is None:
        raise NotFound("One of the two contacts no longer exists.")
    fields = dict(other.fields)
    fields.update({k: v for k, v in keep.fields.items() if v})
    notes = "\n".join(n for n in (keep.notes, other.notes) if n)
    consent = keep.consent or other.consent
    conn.execute(
        """UPDATE contact_numbers SET contact_id = ?, position = position + ? WHERE contact_id = ?""",
        (keep_id, len(keep.numbers), other_id),
    )
    conn.execute(
        """INSERT INTO contact_group_members (group_id, contact_id)
           SELECT group_id, ? FROM contact_group_members WHERE contact_id = ? ON CONFLICT DO NOTHING""",
        (keep_id, other_id),
    )
    _put_tags(conn, keep_id, other.tags)
    conn.execute("DELETE FROM contacts WHERE id = ?", (other_id,))
    conn.execute(
        """UPDATE contacts SET name = ?, given_name = ?, family_name = ?, fields = ?, notes = ?, consent_at = ?,
             consent_how = ?, updated_at = ? WHERE id = ?""",
        (
            keep.name or other.name,
            keep.given_name or other.given_name,
            keep.family_name or other.family_name,
            _json(fields),
            notes,
            consent.at if consent else None,
            consent.how if consent else "",
            now,
            keep_id,
        ),
    )
    return other


def erase(conn: sqlite3.Connection, contact_id: int, now: str) -> Erased:
    """Delete everything about one person: the contact, every message to or from any of
    their numbers (and its status history), their conversations, their rows in imports and
    scheduled sends; their numbers are redacted from the audit log and raw webhook bodies
    already processed. Opted-out numbers are kept as salted hashes only."""
    contact = load_one(conn, contact_id)
    if contact is None:
        raise NotFound(f"No contact with id {contact_id}: it may have been removed.")
    numbers = [n.number for n in contact.numbers]
    q = marks(len(numbers))
    opted = [str(r[0]) for r in conn.execute(f"SELECT number FROM optouts WHERE number IN ({q})", numbers)]
    opted += sorted(erasure.erased_among(conn, [n for n in numbers if n not in opted]))
    erasure.keep(conn, opted, now)
    conn.execute(f"DELETE FROM optouts WHERE number IN ({q})", numbers)
    messages = 0
    for (account_id,) in conn.execute("SELECT id FROM accounts").fetchall():
        # messages_conversation (account_id, remote, id): an index probe per account.
        messages += conn.execute(
            f"DELETE FROM messages WHERE account_id = ? AND remote IN ({q})", (account_id, *numbers)
        ).rowcount
    conversations = conn.execute(f"DELETE FROM conversations WHERE remote IN ({q})", numbers).rowcount
    conn.execute(
        f"""UPDATE bulk_run_items SET number = NULL, name = '', fields = '{{}}', cells = '[]', body = NULL,
              detail = 'erased' WHERE number IN ({q})""",
        numbers,
    )
    scheduled = [
        int(r[0])
        for r in conn.execute(f"SELECT DISTINCT schedule_id FROM schedule_recipients WHERE number IN ({q})", numbers)
    ]
    conn.execute(f"DELETE FROM schedule_recipients WHERE number IN ({q})", numbers)
    conn.executemany(
        """UPDATE schedules SET recipient_count = (SELECT count(*) FROM schedule_recipients WHERE schedule_id = ?)
           WHERE id = ?""",
        [(s, s) for s in scheduled],
    )
    _redact(conn, numbers)
    conn.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
    return Erased(len(numbers), messages, conversations, bool(opted))


def _redact(conn: sqlite3.Connection, numbers: Sequence[str]) -> None:
    """Numbers out of the audit log and out of raw webhook bodies already processed (providers
    write numbers with or without the ``+``)."""
    for number in numbers:
        # A line about the number itself (its name, its opt-out) keeps only what was done.
        conn.execute("UPDATE audit_log SET subject = '(erased)', detail = '{}' WHERE subject = ?", (number,))
        conn.execute(
            "UPDATE audit_log SET detail = replace(detail, ?, '(erased)') WHERE instr(detail, ?) > 0",
            (number[1:], number[1:]),
        )
        # The raw body is bytes: PostgreSQL looks for the number's bytes (a cast would be hex).
        found = (
            "position(convert_to(?, 'UTF8') in body) > 0" if is_postgres(conn) else "instr(CAST(body AS TEXT), ?) > 0"
        )
        conn.execute(f"DELETE FROM webhook_events WHERE state != 'pending' AND {found}", (number[1:],))


def define_fields(conn: sqlite3.Connection, defs: Iterable[tuple[str, str]]) -> None:
    """Define custom fields (name, kind); a field already defined keeps its kind."""
    conn.executemany(
        """INSERT INTO contact_fields (name, kind, position) VALUES (?, ?,
             (SELECT COALESCE(MAX(position), 0) + 1 FROM contact_fields)) ON CONFLICT (name) DO NOTHING""",
        list(defs),
    )
