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
