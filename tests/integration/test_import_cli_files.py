"""``smsdesk import`` with files that are not what they seem: refusals (exit 2) and encodings."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from tests.integration.test_import_cli import smsdesk


def _xls() -> bytes:
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".ljust(512, b"\x00")
    return header + "Workbook".encode("utf-16-le").ljust(64, b"\x00") + struct.pack("<H", 18) + bytes(range(256)) * 4


@pytest.mark.parametrize(
    "name,content,words",
    [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "This is a PNG image"),
        ("clients.xls", _xls(), "This is an Excel 97-2003 workbook"),
        ("list.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "This is a PDF document"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_exits_2_and_says_what_it_is(
    tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    out = smsdesk(tmp_path / "h", "import", str(path), "--account", "Sandbox", "--dry-run", "--json")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == ""
    assert words in out.stderr and name in out.stderr
    assert "Traceback" not in out.stderr


def test_greek_file_with_the_country_as_hint_and_a_chosen_encoding(tmp_path: Path) -> None:
    path = tmp_path / "greek.csv"
    path.write_bytes(
        "name,phone\nΑλέξανδρος Παπαδόπουλος,+30 694 123 4567\nΣοφία Γεωργίου,+30 697 765 4321\n".encode("cp1253")
    )
    out = smsdesk(
        tmp_path / "h",
        "import",
        str(path),
        "--account",
        "Sandbox",
        "--country",
        "GR",
        "--template",
        "Γεια σου {{first_name}}",
        "--dry-run",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["file"] == {"encoding": "cp1253", "doubt": None}
    assert (report["rows"], report["accepted"], report["rejected"]) == (2, 2, 0)
    # Forced the wrong way, the letters change (and nothing says "detected").
    forced = smsdesk(
        tmp_path / "h",
        "import",
        str(path),
        "--account",
        "Sandbox",
        "--country",
        "GR",
        "--encoding",
        "cp1252",
        "--dry-run",
        "--json",
    )
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["file"]["encoding"] == "cp1252"
    bad = smsdesk(tmp_path / "h", "import", str(path), "--account", "Sandbox", "--encoding", "greek-ish", "--dry-run")
    assert bad.returncode == 2 and "Unknown encoding 'greek-ish'" in bad.stderr


def test_a_doubtful_reading_is_a_warning_on_stderr_not_in_the_json(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"name,phone\n"
        + "Νίκος".encode("cp1253")
        + b",+44 7400 123401\n"
        + "Ольга".encode("koi8_r")
        + b",+44 7400 123402\n"
    )
    out = smsdesk(tmp_path / "h", "import", str(path), "--account", "Sandbox", "--dry-run", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["file"]["doubt"] and report["rows"] == report["accepted"] + report["rejected"] == 2
    assert "warning" in out.stderr and "--encoding" in out.stderr
