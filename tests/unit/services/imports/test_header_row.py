"""Is the first row a header? Judged from the whole row against the rows below it."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.services.imports.mapping import guess

from .conftest import assert_promise


def _write(tmp_path: Path, text: str, name: str = "list.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_numeric_looking_labels_do_not_make_the_header_a_contact(tmp_path: Path) -> None:
    """Survey-style exports name columns by question id: the row is still a header."""
    ids = [str(100022 + 3 * k) for k in range(8)]
    body = "".join(f"{i},{','.join(str((i + k) % 5) for k in range(8))},07400 1234{i:02d}\n" for i in range(1, 7))
    p = _write(tmp_path, "id," + ",".join(ids) + ",phone\n" + body)
    table, report = assert_promise(p)
    assert table.has_header
    assert table.headers[0] == "id" and table.headers[1] == "100022" and table.headers[-1] == "phone"
    assert len(table.rows) == 6 and table.row_numbers[0] == 1
    assert table.headers[guess(table).phone or 0] == "phone"
    assert report.accepted == 6  # "phone" was not read (and rejected) as a number


def test_dates_as_column_names_are_a_header(tmp_path: Path) -> None:
    p = _write(tmp_path, "Name,01.06.2013,2015-11-04,Mobile\nAda,yes,no,07400 123401\nBea,no,yes,07400 123402\n")
    table, report = assert_promise(p)
    assert table.has_header and table.headers == ["Name", "01.06.2013", "2015-11-04", "Mobile"]
    assert report.accepted == 2


def test_text_labels_over_number_columns_are_a_header(tmp_path: Path) -> None:
    """No known word at all, but every label is text over a column of numbers."""
    p = _write(tmp_path, "Kunde,Nummer,Betrag\nAda,07400 123401,12\nBea,07400 123402,30\nCy,07400 123403,7\n")
    table, _ = assert_promise(p)
    assert table.has_header and table.headers == ["Kunde", "Nummer", "Betrag"]
    assert len(table.rows) == 3


@pytest.mark.parametrize(
    "text",
    [
        "Ada,07400 123401,gold\nBea,07400 123402,silver\n",
        # A "Type" value that is also a header word ("Mobile") does not make a header either.
        "Ada,Mobile,07400 123401\nBea,Mobile,07400 123402\nCy,Work,07400 123403\n",
        # Dates and numbers over dates and numbers: the first row is data like the others.
        "07400 123401,01.06.2013,12\n07400 123402,02.06.2013,30\n07400 123403,2015-11-04,7\n",
    ],
)
def test_a_first_row_like_the_others_is_data(tmp_path: Path, text: str) -> None:
    table, report = assert_promise(_write(tmp_path, text))
    assert not table.has_header
    assert table.headers[0] == "Column 1"
    assert len(table.rows) == text.count("\n") and table.row_numbers[0] == 1
    assert report.accepted == len(table.rows)
