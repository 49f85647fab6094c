"""Images, PDFs, archives, old .xls and other binary files are refused by content, in words."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.services.imports.readers import read_file


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((x * 7 + y * 13) % 256 for x in range(48)) for y in range(32))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 32, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def ole2(stream_name: str) -> bytes:
    """The start of a compound file (what Office 97-2003 saved), with one directory entry."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    header = header.ljust(512, b"\xff")
    name = stream_name.encode("utf-16-le") + b"\x00\x00"
    entry = name.ljust(64, b"\x00") + struct.pack("<H", len(name)) + b"\x02\x01"
    return header + entry.ljust(128, b"\x00") * 4 + bytes(range(256)) * 8


def zipped(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(
                n,
                "application/vnd.oasis.opendocument.spreadsheet"
                if n == "mimetype"
                else "name,phone\nAda,07400 123401\n",
            )
    return buf.getvalue()


FILES = [
    ("photo.csv", png(), "PNG image"),
    ("scan.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 4, "JPEG image"),
    ("anim.txt", b"GIF89a\x10\x00\x10\x00\x80\x00\x00" + bytes(range(256)) * 2, "GIF image"),
    ("list.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF document"),
    ("contacts.csv", zipped(["contacts.csv", "notes.txt"]), "zip archive"),
    ("contacts.csv.gz", gzip.compress(b"name,phone\nAda,07400 123401\n"), "gzip"),
    ("contacts.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(range(256)) * 2, "7-Zip archive"),
    ("contacts.rar", b"Rar!\x1a\x07\x01\x00" + bytes(range(256)) * 2, "RAR archive"),
    ("clients.xls", ole2("Workbook"), "Excel 97-2003 workbook"),
    ("clients.csv", ole2("Book"), "Excel 97-2003 workbook"),  # Excel 5.0 names its stream "Book"
    ("letter.doc", ole2("WordDocument"), "Word 97-2003 document"),
    ("secret.xlsx", ole2("EncryptedPackage"), "password-protected"),
    ("report.csv", zipped(["[Content_Types].xml", "word/document.xml"]), "Word document"),
    ("sheet.csv", zipped(["mimetype", "content.xml"]), "OpenDocument"),
    ("program.csv", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "program"),
    ("data.bin", bytes((i * 37 + 11) % 256 for i in range(4096)), "not a text file"),
]


@pytest.mark.parametrize("name,content,words", FILES, ids=[f[2] for f in FILES])
def test_refused_by_content_with_what_it_is_and_what_to_do(
    tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InvalidInput) as err:
        read_file(p)
    text = str(err.value)
    assert words in text
    assert name in text
    assert any(w in text for w in ("save it as", "Save it as", "unpack", "Unpack", "choose", "Choose")), text


def test_excel_97_2003_says_save_as_xlsx_or_csv(tmp_path: Path) -> None:
    p = tmp_path / "clients.xls"
    p.write_bytes(ole2("Workbook"))
    with pytest.raises(InvalidInput, match=r"This is an Excel 97-2003 workbook.*save it as \.xlsx or CSV"):
        read_file(p)


def test_text_files_with_odd_bytes_are_still_read(tmp_path: Path) -> None:
    """A stray control character (old DOS end-of-file mark, a FileMaker line break) is not binary."""
    p = tmp_path / "old.csv"
    p.write_bytes(b"name,phone\r\nAda,07400 123401\r\nBea\x0bBrown,07400 123402\r\n\x1a")
    t = read_file(p)
    assert [r[1] for r in t.rows] == ["07400 123401", "07400 123402"]


def test_a_workbook_with_a_csv_name_is_read_as_a_workbook(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Mobile"])
    wb.active.append(["Ada", "07400 123401"])
    p = tmp_path / "list.csv"
    wb.save(p)
    t = read_file(p)
    assert t.encoding == "xlsx" and t.rows == [["Ada", "07400 123401"]]
