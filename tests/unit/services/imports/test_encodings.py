"""Legacy 8-bit and multibyte files: right letters, or an honest "this may be wrong".

Each file is written here in its legacy encoding: a short contact list, as a shop exports it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.services.imports.encodings import CHOICES, label
from smsdesk.services.imports.mapping import guess
from smsdesk.services.imports.readers import read_file

from .conftest import assert_promise

NAMES = {
    "greek": ["Αλέξανδρος Παπαδόπουλος", "Σοφία Γεωργίου", "Άννα Ξένου"],
    "cyrillic": ["Александр Иванов", "Ольга Петрова", "Сергей Кузнецов"],
    "japanese": ["山田太郎", "佐藤はなこ", "スズキ一郎"],
    "turkish": ["Şükrü Yılmaz", "Ayşe Çağlar", "İbrahim Öztürk"],
    "western": ["Señora Núñez", "Jürgen Müller", "François Lefèvre"],
}
NUMBERS = {
    "GR": ["+30 694 123 4567", "+30 697 765 4321", "+30 698 111 2233"],
    "RU": ["+7 912 345 6789", "+7 916 123 4567", "+7 903 765 4321"],
    "JP": ["090-1234-5678", "080-2345-6789", "070-3456-7890"],
    "TR": ["+90 532 123 4567", "+90 533 765 4321", "+90 505 111 2233"],
    "GB": ["+44 7400 123401", "+44 7400 123402", "+44 7400 123403"],
}


def _write(tmp_path: Path, names: list[str], numbers: list[str], encoding: str) -> Path:
    text = "name,phone\n" + "".join(f"{n},{p}\n" for n, p in zip(names, numbers, strict=True))
    path = tmp_path / f"list-{encoding}.csv"
    path.write_bytes(text.encode(encoding))
    return path


# (script, codec written, default country, numbers' country)
RIGHT = [
    ("greek", "cp1253", "GR", "GR"),
    ("greek", "iso8859_7", "GR", "GR"),
    ("greek", "cp1253", "GB", "GR"),  # no hint: the letters alone say Greek
    ("greek", "iso8859_7", "GB", "GR"),
    ("cyrillic", "cp1251", "RU", "RU"),
    ("cyrillic", "koi8_r", "RU", "RU"),
    ("cyrillic", "cp1251", "GB", "RU"),
    ("cyrillic", "koi8_r", "GB", "RU"),  # a detector alone reads this short file as Thai
    ("japanese", "shift_jis", "JP", "JP"),
    ("japanese", "euc_jp", "JP", "JP"),
    ("turkish", "cp1254", "TR", "TR"),
    ("turkish", "cp1254", "GB", "TR"),
    ("western", "cp1252", "GB", "GB"),  # a detector alone reads this as cp1250: "Seńora Núńez"
    ("western", "cp1252", "ES", "GB"),
    ("western", "cp1252", "TR", "GB"),
]


@pytest.mark.parametrize("script,codec,country,numbers", RIGHT, ids=[f"{c[1]}-{c[2]}" for c in RIGHT])
def test_legacy_files_read_right(tmp_path: Path, script: str, codec: str, country: str, numbers: str) -> None:
    path = _write(tmp_path, NAMES[script], NUMBERS[numbers], codec)
    table, report = assert_promise(path, country)
    assert [r[0] for r in table.rows] == NAMES[script]
    assert table.encoding_doubt == ""
    assert report.accepted == 3
    m = guess(table, country)
    assert m.name == 0 and m.phone == 1


# Ambiguous without a hint: a short EUC-JP list is also valid Chinese, a short cp1250 list also
# valid ISO-8859-2. Either the letters are right or the page says the reading is doubtful.
NEVER_QUIETLY_WRONG = [
    ("japanese", "euc_jp", "GB"),
    ("japanese", "shift_jis", "GB"),
    ("cyrillic", "koi8_r", "DE"),
    ("greek", "iso8859_7", "FR"),
    ("turkish", "cp1254", "DE"),
    # A Western list in Poland: Windows-1250 reads it too ("Seńora"), so that is flagged.
    ("western", "cp1252", "PL"),
    ("western", "cp1252", "CZ"),
]


@pytest.mark.parametrize(
    "script,codec,country", NEVER_QUIETLY_WRONG, ids=[f"{c[1]}-{c[2]}" for c in NEVER_QUIETLY_WRONG]
)
def test_without_a_hint_a_reading_is_right_or_flagged(tmp_path: Path, script: str, codec: str, country: str) -> None:
    path = _write(tmp_path, NAMES[script], NUMBERS["GB"], codec)
    table, _ = assert_promise(path, country)
    right = [r[0] for r in table.rows] == NAMES[script]
    assert right or table.encoding_doubt, (table.encoding, [r[0] for r in table.rows])


def test_a_doubtful_reading_says_so(tmp_path: Path) -> None:
    """Greek bytes that no candidate reads cleanly: flagged, with the encoding named."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"name,phone\n" + "Νίκος".encode("cp1253") + b",07400 123401\n" + "Ольга".encode("koi8_r") + b",07400 123402\n"
    )
    table, _ = assert_promise(path)
    assert table.encoding_doubt
    assert label(table.encoding) in table.encoding_doubt


def test_the_person_can_choose_the_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path, NAMES["turkish"], NUMBERS["TR"], "cp1254")
    table = read_file(path, encoding="cp1252", country="TR")
    assert table.rows[0][0] == "Þükrü Yýlmaz" and table.encoding == "cp1252"
    table = read_file(path, encoding="cp1254")
    assert table.rows[0][0] == "Şükrü Yılmaz" and table.encoding_doubt == ""
    codecs = [c for c, _ in CHOICES]
    assert {"utf-8", "cp1252", "cp1253", "iso8859_7", "cp1251", "koi8_r", "cp1254", "cp932", "euc_jp"} <= set(codecs)
    assert label("cp1253") == "Greek (Windows-1253)"


def test_utf8_and_plain_western_files_do_not_consult_a_detector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import charset_normalizer

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("the detector was consulted")

    monkeypatch.setattr(charset_normalizer, "from_bytes", boom)
    for codec in ("utf-8", "cp1252"):
        table = read_file(_write(tmp_path, NAMES["western"], NUMBERS["GB"], codec))
        assert table.rows[0][0] == "Señora Núñez" and table.encoding_doubt == ""


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_in_another_alphabet(tmp_path: Path, codec: str) -> None:
    """Greek letters put no NUL bytes in their pairs: still text, not binary data."""
    path = tmp_path / "unicode.txt"
    path.write_bytes(
        "name\tphone\n".encode(codec)
        + "".join(f"{n}\t+30 69{i} 123 4567\n" for i, n in enumerate(NAMES["greek"], 4)).encode(codec)
    )
    table, report = assert_promise(path, "GR")
    assert table.encoding == codec and [r[0] for r in table.rows] == NAMES["greek"]
    assert report.accepted == 3
