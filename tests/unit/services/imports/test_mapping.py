"""Column guesses (plain, Google, Outlook, by content) and COLUMN=FIELD overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.services.imports.mapping import apply_overrides, guess
from smsdesk.services.imports.readers import read_file

from .conftest import DATA


@pytest.mark.parametrize(
    "name,phone,person",
    [
        ("csv/contacts_utf8.csv", "phone", "name"),
        ("csv/google_contacts_export.csv", "Phone 1 - Value", "Name"),
        ("csv/semicolon_cp1252.csv", "Mobil", "Name"),
        ("csv/excel_unicode_text.txt", "Mobile", "First"),
        ("import/outlook_bom.csv", "Mobile Phone", "First Name"),
        ("import/unicode_be.txt", "Mobile", "Name"),
        ("import/semicolon_latin1.csv", "Portable", "Nom"),
        ("import/tab_noheader.tsv", "Column 2", "Column 1"),
    ],
)
def test_guesses(name: str, phone: str, person: str) -> None:
    t = read_file(DATA / name)
    m = guess(t)
    assert m.phone is not None and t.headers[m.phone] == phone
    assert m.name is not None and t.headers[m.name] == person


def test_google_prefers_the_phone_typed_mobile(tmp_path: Path) -> None:
    p = tmp_path / "g.csv"
    p.write_text(
        "Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\n"
        "A,Work,020 7946 0002,Mobile,07400 123476\nB,Home,020 7946 0003,Mobile,07400 123477\n"
    )
    t = read_file(p)
    assert t.headers[guess(t).phone or 0] == "Phone 2 - Value"


def test_every_column_is_a_merge_field_and_first_name_is_derived() -> None:
    t = read_file(DATA / "csv/contacts_utf8.csv")
    m = guess(t)
    assert {"name", "phone", "appointment", "first_name"} <= set(m.fields)
    assert m.values(t.rows[2])["first_name"] == "Chloé"  # first word of the full name
    assert m.values(t.rows[2])["name"] == "Chloé Martin"


def test_overrides_by_header_number_and_letter() -> None:
    t = read_file(DATA / "csv/google_contacts_export.csv")
    m = apply_overrides(guess(t), t, ["Phone 2 - Value=phone", "B=first_name", "4=group"])
    assert m.phone == 7
    assert m.fields["first_name"] == 1
    assert m.fields["group"] == 3


def test_bad_overrides_say_why() -> None:
    t = read_file(DATA / "csv/contacts_utf8.csv")
    with pytest.raises(InvalidInput, match="Columns: name, phone, appointment"):
        apply_overrides(guess(t), t, ["Mobile=phone"])
    with pytest.raises(InvalidInput, match="COLUMN=FIELD"):
        apply_overrides(guess(t), t, ["phone"])
