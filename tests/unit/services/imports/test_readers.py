"""Reading exports: encodings, delimiters, header rows, .xlsx."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.services.imports.readers import decode, read_file, sniff_delimiter

from .conftest import DATA

CASES = [
    # file, encoding, delimiter, has_header, headers[:2], data rows
    ("csv/contacts_utf8.csv", "utf-8", ",", True, ["name", "phone"], 7),
    ("csv/excel_damaged.csv", "utf-8", ",", True, ["name", "phone"], 4),
    ("csv/excel_unicode_text.txt", "utf-16-le", "\t", True, ["First", "Mobile"], 2),
    ("csv/google_contacts_export.csv", "utf-8", ",", True, ["Name", "Given Name"], 2),
    ("csv/semicolon_cp1252.csv", "cp1252", ";", True, ["Name", "Mobil"], 3),
    ("import/outlook_bom.csv", "utf-8-sig", ",", True, ["First Name", "Last Name"], 4),
    ("import/unicode_be.txt", "utf-16-be", "\t", True, ["Name", "Mobile"], 3),
    ("import/unicode_le_nobom.txt", "utf-16-le", "\t", True, ["Name", "Phone"], 2),
    ("import/pipe_title.txt", "utf-8", "|", True, ["name", "phone"], 3),
    ("import/tab_noheader.tsv", "utf-8", "\t", False, ["Column 1", "Column 2"], 3),
    ("import/semicolon_latin1.csv", "latin-1", ";", True, ["Nom", "Portable"], 3),
    ("import/excel_damage.csv", "utf-8", ",", True, ["name", "phone"], 6),
    ("import/reasons.csv", "utf-8", ",", True, ["name", "phone"], 11),
]


@pytest.mark.parametrize("name,encoding,delimiter,has_header,headers,rows", CASES, ids=[c[0] for c in CASES])
def test_sample_files(
    name: str, encoding: str, delimiter: str, has_header: bool, headers: list[str], rows: int
) -> None:
    t = read_file(DATA / name)
    assert t.encoding == encoding
    assert t.delimiter == delimiter
    assert t.has_header is has_header
    assert t.headers[:2] == headers
    assert len(t.rows) == rows == len(t.row_numbers)
    assert all(len(r) == len(t.headers) for r in t.rows)


def test_accented_text_survives_each_encoding() -> None:
    assert read_file(DATA / "csv/semicolon_cp1252.csv").rows[0][0] == "Jürgen Müller"
    assert read_file(DATA / "csv/semicolon_cp1252.csv").rows[0][2] == "12,50 €"
    assert read_file(DATA / "import/unicode_be.txt").rows[1][0] == "Łucja"
    assert read_file(DATA / "import/outlook_bom.csv").rows[0][0] == "Amélie"  # BOM not glued to a header
    assert read_file(DATA / "import/semicolon_latin1.csv").rows[0][0] == "René"


def test_title_lines_are_skipped_and_rows_numbered_after_the_header() -> None:
    t = read_file(DATA / "import/pipe_title.txt")
    assert t.row_numbers == [1, 2, 3]
    assert t.skipped_lines == 2
    assert t.notes


def test_xlsx_numbers_come_back_as_text(xlsx_file: Path) -> None:
    t = read_file(xlsx_file)
    assert t.encoding == "xlsx"
    assert t.headers == ["Name", "Mobile", "Visits"]
    assert [r[1] for r in t.rows] == ["7400123471", "447400123472", "07400 123473", ""]


def test_blank_rows_are_not_data_but_keep_numbering(tmp_path: Path) -> None:
    p = tmp_path / "gaps.csv"
    p.write_text("name,phone\nA,07400123474\n,\n\nB,07400123475\n", encoding="utf-8")
    t = read_file(p)
    assert len(t.rows) == 2
    assert t.row_numbers == [1, 4]


def test_delimiter_inside_values_does_not_fool_the_sniffer() -> None:
    assert sniff_delimiter("a;b;c\n1;2,5;x\n3;4,5;y\n") == ";"
    assert sniff_delimiter('a,b\n"x;y",1\n"z;w",2\n') == ","


def test_decode_prefers_evidence() -> None:
    assert decode(b"\xef\xbb\xbfa,b").encoding == "utf-8-sig"
    assert decode("ab".encode("utf-16-le")).encoding == "utf-16-le"
    assert decode("é".encode("cp1252")).encoding == "cp1252"


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_files_are_refused(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "empty.csv"
    p.write_bytes(content)
    with pytest.raises(InvalidInput):
        read_file(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No file"):
        read_file(tmp_path / "nope.csv")
