"""Contacts, groups and templates through the services the GUI and the CLI use (real SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smsdesk.domain.contacts import ContactDraft, ContactQuery, DraftNumber, GroupFilter, HasTag
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.runtime import Runtime


@pytest.fixture
def rt(_isolated_home: Path) -> Iterator[Runtime]:
    runtime = Runtime.open(str(_isolated_home))
    try:
        yield runtime
    finally:
        runtime.close()


def _draft(name: str, *numbers: str, tags: tuple[str, ...] = ()) -> ContactDraft:
    return ContactDraft(name=name, numbers=tuple(DraftNumber(n) for n in numbers), tags=tags)


@pytest.mark.asyncio
async def test_add_find_edit_and_undo_a_removal(rt: Runtime) -> None:
    saved = await rt.contacts.add(_draft("Ann Lee", "07911 123456", tags=("VIP",)))
    again = await rt.contacts.add(_draft("Ann", "+44 7911 123456"))
    assert again.merged and again.contact_id == saved.contact_id
    page = rt.contacts.search(ContactQuery(text="07911 12"))
    assert [c.name for c in page.rows] == ["Ann Lee"] and page.total == 1
    assert rt.contacts.find("Ann Lee").id == saved.contact_id
    await rt.contacts.edit(saved.contact_id, _draft("Ann Patel", "07911 123456", "07911 123457"))
    ann = rt.contacts.get(saved.contact_id)
    assert ann.name == "Ann Patel" and ann.first_name == "Ann" and len(ann.numbers) == 2
    assert rt.contacts.name_of("+447911123457") == "Ann Patel"
    removed = await rt.contacts.remove([saved.contact_id])
    with pytest.raises(NotFound):
        rt.contacts.get(saved.contact_id)
    await rt.contacts.restore(removed)
    assert rt.contacts.find("07911 123457").name == "Ann Patel"


@pytest.mark.asyncio
async def test_a_contact_needs_a_usable_number(rt: Runtime) -> None:
    with pytest.raises(InvalidInput, match="phone number"):
        await rt.contacts.add(_draft("Nobody"))


@pytest.mark.asyncio
async def test_resolving_a_group_removes_opt_outs_and_duplicates(rt: Runtime) -> None:
    a = (await rt.contacts.add(_draft("Ann Lee", "07911 123456", tags=("VIP",)))).contact_id
    b = (await rt.contacts.add(_draft("Bob Stone", "07911 222333", tags=("vip",)))).contact_id
    gid = await rt.groups.create("Saturday team")
    assert await rt.groups.add_members(gid, [a, b]) == 2
    await rt.optouts.add("07911 222333")
    resolved = rt.groups.resolve([gid], [a])
    assert [r.contact.name for r in resolved.recipients] == ["Ann Lee"]
    assert resolved.recipients[0].fields["first_name"] == "Ann"
    assert [(r.contact.name, r.reason.split(" (")[0]) for r in resolved.removed] == [("Bob Stone", "opted out")]
    smart = await rt.groups.create("VIPs", GroupFilter((HasTag("VIP"),)))
    assert rt.groups.get(smart).size == 2 and rt.groups.by_name("vips").smart
    with pytest.raises(InvalidInput, match="already a group"):
        await rt.groups.create("saturday TEAM")
    await rt.groups.rename(gid, "Sunday team")
    await rt.groups.delete(gid)
    assert [g.name for g in rt.groups.groups()] == ["VIPs"]
    assert rt.contacts.get(a).name == "Ann Lee"  # members stay as contacts


@pytest.mark.asyncio
async def test_templates_are_kept_and_filled_with_missing_fields_flagged(rt: Runtime) -> None:
    tid = await rt.templates.add("Reminder", "Appointments", "Hi {{first_name|there}}, your {{service}} is tomorrow")
    copy = await rt.templates.duplicate(tid)
    assert [t.name for t in rt.templates.templates()] == ["Reminder", "Reminder (copy)"]
    assert rt.templates.categories() == ["Appointments"]
    with pytest.raises(InvalidInput, match="already a template"):
        await rt.templates.add("reminder", "", "x")
    ann = rt.contacts.get((await rt.contacts.add(_draft("Ann Lee", "07911 123456"))).contact_id)
    shown = rt.templates.render(rt.templates.get(tid), ann)
    assert shown.text == "Hi Ann, your  is tomorrow" and shown.missing_fields == ("service",)
    assert rt.templates.check("Hi {{first_name}} {{service}}", [ann]) == {ann.id: ("service",)}
    await rt.templates.edit(copy, "Thanks", "", "Thanks {{name}}!")
    assert rt.templates.render(rt.templates.by_name("thanks"), ann).text == "Thanks Ann Lee!"
    await rt.templates.remove(copy)
    assert [t.name for t in rt.templates.templates()] == ["Reminder"]


@pytest.mark.asyncio
async def test_erasing_a_person_keeps_them_blocked_but_nothing_else(rt: Runtime) -> None:
    ann = (await rt.contacts.add(_draft("Ann Lee", "07911 123456", "07911 123457"))).contact_id
    await rt.optouts.add("07911 123456")
    with pytest.raises(InvalidInput, match="type their name exactly"):
        await rt.contacts.erase(ann, "Bob")
    erased = await rt.contacts.erase(ann, "ann lee")
    assert erased.kept_opt_out and erased.numbers == 2
    assert rt.contacts.search(ContactQuery(text="Ann")).total == 0
    assert rt.contacts.name_of("+447911123456") == ""
    # Only a hash is left, yet the opted-out number is still refused; the other is free.
    assert [e.number for e in rt.optouts.repo.list_with_names()] == []
    assert rt.optouts.is_opted_out("+447911123456")
    assert not rt.optouts.is_opted_out("+447911123457")
