"""The address book in a real SQLite file: several numbers per contact, merging by number,
search, undo of a removal, smart groups, erasure and the migration of today's contacts."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from smsdesk.domain.contacts import (
    AsOf,
    ContactNumber,
    ContactQuery,
    DateWithin,
    FieldDef,
    FieldKind,
    GroupFilter,
    HasTag,
)
from smsdesk.storage.contacts import ContactRepository
from smsdesk.storage.db import Database
from smsdesk.storage.groups import GroupRepository
from smsdesk.storage.migrations import MIGRATIONS
from smsdesk.storage.records import AuditEntry, NewContact

NOW = AsOf(date(2027, 3, 4), datetime(2027, 3, 4, 12, tzinfo=UTC))
AUDIT = AuditEntry("test")


def _new(name: str, *numbers: str, tags: tuple[str, ...] = (), **fields: str) -> NewContact:
    nums = tuple(ContactNumber(n, "", i == 0) for i, n in enumerate(numbers))
    return NewContact(name=name, numbers=nums, tags=tags, fields=fields)


def test_a_number_belongs_to_one_contact_and_adding_it_again_merges(db: Database) -> None:
    repo = ContactRepository(db)
    ann = asyncio.run(repo.add(_new("Ann Lee", "+447911123456", "+447700900001"), AUDIT))
    again = asyncio.run(repo.add(_new("Ann", "+447700900001", "+447700900002"), AUDIT))
    assert again.merged and again.contact_id == ann.contact_id
    got = repo.get(ann.contact_id)
    assert got is not None
    assert {n.number for n in got.numbers} == {"+447911123456", "+447700900001", "+447700900002"}
    assert got.number == "+447911123456"
    assert repo.count() == 1
    # Any of her numbers shows her name.
    assert repo.names_for(["+447700900002"]) == {"+447700900002": "Ann Lee"}


def test_search_finds_part_of_a_name_a_number_or_a_field(db: Database) -> None:
    repo = ContactRepository(db)
    asyncio.run(repo.define_field("city", FieldKind.TEXT, AUDIT))
    asyncio.run(repo.add(_new("Ann Lee", "+447911123456", city="Leeds"), AUDIT))
    asyncio.run(repo.add(_new("Bob Stone", "+447700900123", city="York"), AUDIT))
    for text in ("ann", "7911", "leeds"):
        page = repo.search(ContactQuery(text=text), NOW)
        assert [c.name for c in page.rows] == ["Ann Lee"], text
        assert page.total == 1
    assert repo.search(ContactQuery(), NOW).total == 2


def test_removed_contacts_come_back_with_undo(db: Database) -> None:
    repo, groups = ContactRepository(db), GroupRepository(db)
    saved = asyncio.run(repo.add(_new("Ann Lee", "+447911123456", tags=("VIP",)), AUDIT))
    gid = asyncio.run(groups.create("Saturday team", None, AUDIT))
    asyncio.run(groups.add_members(gid, [saved.contact_id], AUDIT))
    removed = asyncio.run(repo.remove([saved.contact_id], AUDIT))
    assert removed.count == 1 and repo.count() == 0
    assert groups.get(gid, NOW).size == 0  # type: ignore[union-attr]
    asyncio.run(repo.restore(removed, AUDIT))
    back = repo.by_number("+447911123456")
    assert back is not None and back.name == "Ann Lee" and back.tags == ("VIP",)
    assert groups.get(gid, NOW).size == 1  # type: ignore[union-attr]


def test_a_smart_group_stays_current(db: Database) -> None:
    repo, groups = ContactRepository(db), GroupRepository(db)
    asyncio.run(repo.define_field("appointment", FieldKind.DATE, AUDIT))
    tomorrow = (NOW.today + timedelta(days=1)).isoformat()
    asyncio.run(repo.add(_new("Ann", "+447911123456", tags=("vip",), appointment=tomorrow), AUDIT))
    asyncio.run(repo.add(_new("Bob", "+447700900123", tags=("vip",), appointment="2027-05-01"), AUDIT))
    flt = GroupFilter((HasTag("VIP"), DateWithin("appointment", 1, 1)))
    assert flt.describe().startswith("tag is VIP and appointment")
    assert GroupFilter.from_json(flt.to_json()) == flt
    gid = asyncio.run(groups.create("Tomorrow", flt, AUDIT))
    members = groups.member_ids([gid], NOW)[gid]
    assert [c.name for c in repo.get_many(members)] == ["Ann"]
    asyncio.run(repo.add(_new("Cat", "+447700900999", tags=("VIP",), appointment=tomorrow), AUDIT))
    assert groups.get(gid, NOW).size == 2  # type: ignore[union-attr]


def test_merge_keeps_one_contact_with_both_numbers(db: Database) -> None:
    repo = ContactRepository(db)
    a = asyncio.run(repo.add(_new("Ann Lee", "+447911123456"), AUDIT)).contact_id
    b = asyncio.run(repo.add(_new("A. Lee", "+447700900001", tags=("VIP",)), AUDIT)).contact_id
    asyncio.run(repo.merge(a, b, AUDIT))
    assert repo.get(b) is None
    kept = repo.get(a)
    assert kept is not None and {n.number for n in kept.numbers} == {"+447911123456", "+447700900001"}
    assert "VIP" in kept.tags


def test_add_many_defines_fields_and_fills_a_group(db: Database) -> None:
    repo, groups = ContactRepository(db), GroupRepository(db)
    gid = asyncio.run(groups.create("Clients", None, AUDIT))
    items = [_new("Ann", "+447911123456", visits="3"), _new("Ann L", "+447911123456"), _new("Bob", "+447700900123")]
    saved = asyncio.run(repo.add_many(items, gid, [FieldDef("visits", FieldKind.NUMBER)], AUDIT))
    assert [s.merged for s in saved] == [False, True, False]
    assert groups.get(gid, NOW).size == 2  # type: ignore[union-attr]
    assert FieldDef("visits", FieldKind.NUMBER) in repo.field_defs()


def test_migration_keeps_every_existing_contact(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for version in sorted(MIGRATIONS):
        if version >= 10:
            break
        for statement in MIGRATIONS[version]:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version - 1}")
    conn.execute(
        "INSERT INTO contacts (number, name, fields, created_at, updated_at)"
        " VALUES ('+447911123456', 'Ann Lee', '{\"city\": \"Leeds\"}', '2026-01-01', '2026-01-01')"
    )
    conn.commit()
    conn.close()
    db = Database(path)
    try:
        repo = ContactRepository(db)
        ann = repo.by_number("+447911123456")
        assert ann is not None and ann.name == "Ann Lee" and ann.fields == {"city": "Leeds"}
        assert [c.name for c in repo.search(ContactQuery(text="leeds"), NOW).rows] == ["Ann Lee"]
        assert FieldDef("city", FieldKind.TEXT) in repo.field_defs()
    finally:
        db.close()
