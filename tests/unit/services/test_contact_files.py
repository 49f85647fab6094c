"""The address book out to CSV / .xlsx / vCard and back in, every row or card accounted for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from smsdesk.domain.contacts import ContactDraft, ContactQuery, DraftNumber, FieldKind
from smsdesk.runtime import Runtime


@pytest.fixture
def rt(_isolated_home: Path) -> Iterator[Runtime]:
    runtime = Runtime.open(str(_isolated_home))
    try:
        yield runtime
    finally:
        runtime.close()


async def _fill(rt: Runtime) -> None:
    await rt.contacts.define_field("city", FieldKind.TEXT)
    for name, number, city in (("Ann Lee", "+447911123456", "Leeds"), ("Chloé Martin", "+33612345678", "")):
        fields = {"city": city} if city else {}
        await rt.contacts.add(
            ContactDraft(name=name, numbers=(DraftNumber(number),), tags=("VIP",), fields=fields, notes="hi")
        )


def _everyone(rt: Runtime) -> list[tuple[str, str, tuple[str, ...], dict[str, str]]]:
    rows = rt.contacts.search(ContactQuery()).rows
    return sorted((c.name, c.number, c.tags, dict(c.fields)) for c in rows)


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "vcf"])
async def test_export_and_import_give_the_same_contacts(rt: Runtime, tmp_path: Path, fmt: str) -> None:
    await _fill(rt)
    before = _everyone(rt)
    path = tmp_path / f"book.{fmt}"
    assert rt.contacts.export(path, fmt) == 2
    await rt.contacts.remove([c.id for c in rt.contacts.search(ContactQuery()).rows])
    done = await rt.contacts.import_file(path)
    assert (done.added, done.merged, done.skipped) == (2, 0, [])
    after = _everyone(rt)
    if fmt == "vcf":  # vCard carries no custom fields
        before = [(n, num, tags, {}) for n, num, tags, _f in before]
    assert after == before


def test_xlsx_keeps_numbers_as_text(rt: Runtime, tmp_path: Path) -> None:
    import asyncio

    asyncio.run(_fill(rt))
    path = tmp_path / "book.xlsx"
    rt.contacts.export(path, "xlsx")
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    col = header.index("number")
    cells = [row[col] for row in ws.iter_rows(min_row=2)]
    assert {c.value for c in cells} == {"+447911123456", "+33612345678"}
    assert all(c.data_type == "s" for c in cells)


@pytest.mark.asyncio
async def test_import_into_a_group_lists_each_bad_row(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(
        "Name,Phone,Appointment\nAnn Lee,07911 123456,2027-03-05\nBob,not a number,\nAnn again,+447911123456,\n",
        encoding="utf-8",
    )
    gid = await rt.groups.create("Clients")
    done = await rt.contacts.import_file(path, gid)
    assert (done.added, done.merged) == (1, 1)
    assert [s.position for s in done.skipped] == [2] and "not a phone number" in done.skipped[0].reason
    assert rt.groups.get(gid).size == 1
    ann = rt.contacts.find("Ann Lee")
    assert ann.fields.get("Appointment") == "2027-03-05"


@pytest.mark.asyncio
async def test_a_big_vcf_import_reports_its_progress(rt: Runtime, tmp_path: Path) -> None:
    cards = "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Client {i}\r\nTEL;TYPE=CELL:+447912{i:06d}\r\nEND:VCARD\r\n"
        for i in range(2500)
    )
    path = tmp_path / "phone.vcf"
    path.write_text(cards, encoding="utf-8")
    seen: list[tuple[str, int, int]] = []
    done = await rt.contacts.import_file(path, progress=lambda phase, n, total: seen.append((phase, n, total)))
    assert done.added == 2500
    phases = [p for p, _n, _t in seen]
    assert "Reading cards" in phases and "Checking numbers" in phases and phases[-1] == "Saving"
    assert ("Reading cards", 2500, 2500) in seen and seen[-1] == ("Saving", 0, 2500)


def _mixed_cards(n: int) -> str:
    """``n`` cards: every 7th reuses an earlier number, every 11th has no number, one never ends."""
    out = []
    for i in range(n):
        number = f"+447912{(i - 1 if i % 7 == 0 and i else i):06d}"
        tel = "" if i % 11 == 5 else f"TEL;TYPE=CELL:{number}\r\n"
        out.append(f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Ann{i};;;\r\nFN:Ann{i} Lee\r\n{tel}END:VCARD\r\n")
    out.insert(n // 2, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut short\r\n")
    return "".join(out)


def test_a_big_vcf_read_by_worker_processes_is_read_as_in_one_go(tmp_path: Path) -> None:
    """The pieces are read apart (spawned processes) and joined in file order: the same cards,
    numbered the same, the same reasons, and progress reaching every card."""
    from smsdesk.services import contact_files

    path = tmp_path / "phone.vcf"
    path.write_text(_mixed_cards(300), encoding="utf-8")
    one_go = contact_files._prepare(path, "GB", [], None, workers=1)
    seen: list[tuple[str, int, int]] = []
    data = path.read_bytes()
    pieces = contact_files._prepare_cards(data, "GB", [], lambda *a: seen.append(a), workers=2)
    assert pieces[0] == one_go[0] and pieces[3] == one_go[3] == 300  # cards read (the cut one is skipped)
    assert sorted(pieces[1], key=lambda s: s.position) == sorted(one_go[1], key=lambda s: s.position)
    assert len(one_go[1]) == 28 and any("END:VCARD" in s.reason for s in one_go[1])
    assert seen[-1] == ("Reading cards", 301, 301) and len(seen) == 8  # a step per piece


@pytest.mark.asyncio
async def test_a_number_repeated_across_pieces_is_one_contact(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smsdesk.services import contact_files

    monkeypatch.setattr(contact_files, "PARALLEL_CARDS", 100)
    path = tmp_path / "phone.vcf"
    path.write_text(_mixed_cards(300), encoding="utf-8")
    done = await rt.contacts.import_file(path)
    assert done.added + done.merged + len(done.skipped) == 301  # every card accounted for
    numbers = [f"{(i - 1 if i % 7 == 0 and i else i):06d}" for i in range(300) if i % 11 != 5]
    assert done.merged == len(numbers) - len(set(numbers)) and len(done.skipped) == 28
    assert rt.contacts.search(ContactQuery(), count=True).total == done.added
