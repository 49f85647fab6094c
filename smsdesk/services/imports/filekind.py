"""What a chosen file really is, judged by its first bytes, never by its name.

People pick the wrong file, or a file renamed by someone else: a photo saved as ``.csv``, a
PDF of the list, a zip from an email, an old ``.xls``. Read as text, such a file turns into
hundreds of rows of noise. :func:`kind_of` recognises them by their signatures and
:func:`refuse` says, in words, what the file is and what to do instead.

Signatures used (all at offset 0 unless noted): PNG ``89 50 4E 47``, JPEG ``FF D8 FF``, GIF
``GIF87a`` / ``GIF89a``, WebP ``RIFF....WEBP``, TIFF ``II*\\0`` / ``MM\\0*``, BMP ``BM`` with
its header's size fields, HEIC ``ftyp`` at 4, PDF ``%PDF-``, zip ``PK\\3\\4`` (then the names
inside: ``xl/`` is a workbook, ``word/`` a Word document, ``mimetype`` + ``content.xml`` an
OpenDocument file), gzip ``1F 8B``, 7-Zip ``37 7A BC AF 27 1C``, RAR ``Rar!\\x1a\\x07``, bzip2,
xz, the OLE2 compound file ``D0 CF 11 E0 A1 B1 1A E1`` (Office 97-2003; the directory's
stream names tell a workbook from a Word document or an encrypted new-style workbook),
ELF / Mach-O / PE executables, SQLite. Anything else with NUL bytes (not UTF-16 text) or many
control characters is "not a text file".
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from smsdesk.domain.errors import InvalidInput
from smsdesk.services.imports.encodings import utf16_without_bom

XLSX = "xlsx"
TEXT = "text"

_SAVE_AS = "open it in Excel, LibreOffice or Google Sheets, save it as .xlsx or CSV, then choose that file"
_FROM_SOURCE = "choose the CSV or .xlsx file you exported from your contacts, booking system or spreadsheet"
_UNPACK = "unpack it (double-click it, or use 7-Zip) and choose the CSV or .xlsx file inside"

# (signature at offset 0, what it is, what to do)
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", _FROM_SOURCE),
    (b"\xff\xd8\xff", "a JPEG image (a photo or a scan)", _FROM_SOURCE),
    (b"GIF87a", "a GIF image", _FROM_SOURCE),
    (b"GIF89a", "a GIF image", _FROM_SOURCE),
    (
        b"%PDF-",
        "a PDF document",
        "a table in a PDF cannot be read reliably; export the list from the program that made the PDF "
        "as CSV or .xlsx (or copy the table into a spreadsheet and save it as CSV), then choose that file",
    ),
    (b"\x1f\x8b", "a gzip-compressed file", _UNPACK),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", _UNPACK),
    (b"Rar!\x1a\x07", "a RAR archive", _UNPACK),
    (b"BZh", "a bzip2-compressed file", _UNPACK),
    (b"\xfd7zXZ\x00", "an xz-compressed file", _UNPACK),
    (b"\x7fELF", "a program, not a document", _FROM_SOURCE),
    (b"\xcf\xfa\xed\xfe", "a program, not a document", _FROM_SOURCE),
    (b"\xfe\xed\xfa\xcf", "a program, not a document", _FROM_SOURCE),
    (b"SQLite format 3\x00", "a database file", "export the contacts from the program that owns it as CSV"),
    (b"II*\x00", "a TIFF image", _FROM_SOURCE),
    (b"MM\x00*", "a TIFF image", _FROM_SOURCE),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_HEAD = 8192


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _ole2(data: bytes) -> tuple[str, str]:
    """Office 97-2003 files share one container; the names of its streams tell them apart."""
    if _utf16("EncryptedPackage") in data:
        return (
            "a password-protected Excel workbook",
            "open it in Excel and save a copy without the password (File > Info > Protect Workbook), "
            "or save it as CSV, then choose that copy",
        )
    if _utf16("WordDocument") in data:
        return "a Word 97-2003 document", "copy the table into a spreadsheet, save it as CSV and choose that file"
    if _utf16("PowerPoint Document") in data:
        return "a PowerPoint 97-2003 presentation", _FROM_SOURCE
    if _utf16("Workbook") in data or _utf16("Book") in data:
        return "an Excel 97-2003 workbook (.xls)", _SAVE_AS
    return "an Office 97-2003 file", _SAVE_AS


def _zip(path: Path, data: bytes) -> tuple[str, str] | None:
    """None for an .xlsx / .xlsm workbook; otherwise what the zip holds and what to do."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if len(data) < (1 << 20) else path) as z:
            names = z.namelist()
            mimetype = z.read("mimetype")[:80].decode("ascii", "replace") if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, KeyError, EOFError):
        return "a damaged zip archive", _FROM_SOURCE
    if any(n.startswith("xl/") for n in names):
        return None
    if "content.xml" in names:
        kind = "spreadsheet (.ods)" if "spreadsheet" in mimetype else "file"
        return f"an OpenDocument {kind}", _SAVE_AS
    if any(n.startswith("word/") for n in names):
        return "a Word document", "copy the table into a spreadsheet, save it as CSV and choose that file"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint presentation", _FROM_SOURCE
    inside = [n for n in names if n.lower().endswith((".csv", ".xlsx", ".txt", ".tsv"))]
    hint = f" (it holds {inside[0]}{' and more' if len(inside) > 1 else ''})" if inside else ""
    return f"a zip archive{hint}", "unpack it (right-click > Extract All) and choose the CSV or .xlsx file inside"


def _other_image(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"heim", b"avif"):
        return "a HEIC / AVIF image (a phone photo)"
    if head[:2] == b"BM" and len(head) > 26 and head[6:10] == b"\x00\x00\x00\x00" and head[14] in (12, 40, 108, 124):
        return "a BMP image"
    if head[:2] == b"MZ" and b"This program cannot be run in DOS mode" in head[:512]:
        return "a program, not a document"
    return None


def _binary(head: bytes) -> bool:
    """NUL bytes, or many control characters: compressed or binary data, not an export."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or utf16_without_bom(head[:4000]) is not None:
        return False
    if 0 in head:
        return True
    controls = sum(1 for b in head if b < 0x20 and b not in (9, 10, 12, 13) or b == 0x7F)
    # A few strays (a FileMaker line break, a DOS end-of-file mark) are still text.
    return controls > max(8, len(head) // 50)


def refuse(name: str, what: str, todo: str) -> InvalidInput:
    """The error for a file that is not a spreadsheet: what it is, then what to do."""
    return InvalidInput(f"{name} is not a spreadsheet smsdesk can read. This is {what}: {todo}.")


def kind_of(path: Path, data: bytes) -> str:
    """``XLSX`` or ``TEXT`` for a file smsdesk can read.

    Raises:
        InvalidInput: the file is something else, with what it is and what to do.
    """
    head = data[:_HEAD]
    if head.startswith(_ZIP):
        found = _zip(path, data)
        if found is None:
            return XLSX
        raise refuse(path.name, *found)
    if head.startswith(_OLE2):
        raise refuse(path.name, *_ole2(data[: 1 << 20]))
    for magic, what, todo in _MAGIC:
        if head.startswith(magic):
            if magic == b"BZh" and head[4:10] != b"1AY&SY":
                continue  # "BZh..." could start a line of text
            raise refuse(path.name, what, todo)
    image = _other_image(head)
    if image is not None:
        raise refuse(path.name, image, _FROM_SOURCE)
    if _binary(head):
        raise refuse(
            path.name,
            "not a text file (it holds binary data, like a program or a picture)",
            "choose a CSV, TXT or .xlsx file; in a spreadsheet program use File > Save As > CSV",
        )
    return TEXT
