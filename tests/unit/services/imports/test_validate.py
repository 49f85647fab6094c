"""Per-row verdicts: every reason, Excel repairs, segments and cost, and rows in = accepted + rejected."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from smsdesk.domain import phone
from smsdesk.domain.errors import InvalidNumber
from smsdesk.domain.segments import analyze
from smsdesk.domain.template import compile_template
from smsdesk.services.imports.judge import fast_segments
from smsdesk.services.imports.mapping import guess
from smsdesk.services.imports.numbers import check_number, quick_e164
from smsdesk.services.imports.readers import read_file
from smsdesk.services.imports.validate import ValidationContext, validate

from .conftest import DATA, SAMPLES

CTX = ValidationContext(
    optouts=frozenset({"+447400111002"}),
    contacts=frozenset({"+447400111003"}),
    optout_how={"+447400111002": "added to the opt-out list by hand on 3 Nov 2026"},
    price_per_segment=0.04,
)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
@pytest.mark.parametrize("text", [None, "Hi {{first_name|there}}", "Hi {{first_name}}, {{slot}} {{nope|x}}"])
def test_every_row_is_accounted_for(path: Path, text: str | None) -> None:
    t = read_file(path)
    for country in ("GB", "KE"):
        m = guess(t, country)
        r = validate(t, m, compile_template(text) if text else None, CTX)
        assert r.rows == len(t.rows) == r.accepted + r.rejected == len(r.items)
        assert sum(r.by_reason.values()) == r.rejected
        assert [i.row for i in r.items] == t.row_numbers
        assert all(i.reason and i.detail for i in r.items if i.status == "rejected")
        assert all(i.number for i in r.items if i.status == "accepted")
        csv_lines = r.rejects_csv(t).splitlines()
        assert len(csv_lines) == r.rejected + 1 and csv_lines[0].endswith("row,reason,detail")


def test_each_reason() -> None:
    t = read_file(DATA / "import/reasons.csv")
    r = validate(t, guess(t), compile_template("Hi {{first_name|there}}, your slot: {{slot}}"), CTX)
    got = {i.row: (i.status, i.reason) for i in r.items}
    assert got == {
        1: ("accepted", None),
        2: ("rejected", "missing_number"),
        3: ("rejected", "invalid_number"),
        4: ("rejected", "not_mobile"),
        5: ("rejected", "duplicate"),
        6: ("rejected", "opted_out"),
        7: ("accepted", None),
        8: ("rejected", "empty_merge_field"),
        9: ("accepted", None),
        10: ("rejected", "scientific_notation"),
        11: ("accepted", None),
    }
    by_row = {i.row: i for i in r.items}
    assert by_row[5].detail == "Same number as row 1."
    # The reason says how the number opted out (not always "replied STOP").
    assert "opted out (added to the opt-out list by hand on 3 Nov 2026)" in by_row[6].detail
    assert "{{slot}}" in by_row[8].detail
    assert "existing_contact" in by_row[7].flags
    assert by_row[9].text == "Hi there, your slot: Tue 9:00"
    assert by_row[11].encoding == "UCS-2" and "ucs2" in by_row[11].flags
    assert r.total_segments == 4 and r.cost == pytest.approx(0.16)


def test_existing_contacts_can_be_skipped() -> None:
    t = read_file(DATA / "import/reasons.csv")
    ctx = ValidationContext(contacts=CTX.contacts, contact_policy="skip")
    r = validate(t, guess(t), None, ctx)
    assert {i.row: i.reason for i in r.items}[7] == "existing_contact"


def test_excel_damage_repaired_or_flagged() -> None:
    t = read_file(DATA / "import/excel_damage.csv")
    r = validate(t, guess(t))
    got = {i.row: (i.number, i.reason, i.flags) for i in r.items}
    assert got[1] == ("+447400123467", None, ("scientific_notation_repaired",))
    assert got[2][1] == "scientific_notation"
    assert got[3] == ("+447400123468", None, ("lost_leading_zero",))
    assert got[4] == ("+447400123469", None, ("decimal_suffix",))
    assert got[5] == ("+447400123470", None, ())
    assert got[6][1] == "scientific_notation"  # 11 digits written for a 12-digit number


def test_given_csv_damage() -> None:
    t = read_file(DATA / "csv/excel_damaged.csv")
    r = validate(t, guess(t))
    assert [(i.reason, i.flags) for i in r.items] == [
        ("scientific_notation", ()),
        (None, ("lost_leading_zero",)),
        ("missing_number", ()),
        (None, ()),
    ]


def test_xlsx_numbers(xlsx_file: Path) -> None:
    t = read_file(xlsx_file)
    r = validate(t, guess(t))
    assert [i.number for i in r.items] == ["+447400123471", "+447400123472", "+447400123473", None]
    assert r.items[0].flags == ("lost_leading_zero",)


def test_merge_value_adding_a_segment_is_flagged(tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    p.write_text("name,phone\nAl,07400123478\nBo,07400123479\n" + "X" * 40 + ",07400123480\n")
    t = read_file(p)
    r = validate(t, guess(t), compile_template("Dear {{name}}, " + "a" * 140))
    assert [i.segments for i in r.items] == [1, 1, 2]
    assert r.items[2].flags == ("extra_segment",) and r.baseline_segments == 1


def test_kenyan_file_with_kenya_as_default_country() -> None:
    t = read_file(DATA / "csv/excel_unicode_text.txt")
    assert validate(t, guess(t, "KE")).accepted == 2
    assert validate(t, guess(t, "GB")).accepted == 1


def test_cancelled_validation_still_accounts_for_every_row(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    p.write_text("phone\n" + "".join(f"07400{i:06d}\n" for i in range(5000)))
    t = read_file(p)
    r = validate(t, guess(t), cancelled=lambda: True)
    assert not r.complete and r.rows == 5000 == r.accepted + r.rejected
    assert r.by_reason["cancelled"] > 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "€" * 80,
        "a" * 160,
        "a" * 161,
        "é" * 70,
        "ł" * 70,
        "ł" * 71,
        "😀" * 35,
        "😀" * 36,
        "x" * 60 + "ł",
        "[" * 81,
    ],
)
def test_fast_segments_agree_with_the_domain(text: str) -> None:
    info = analyze(text)
    assert fast_segments(text) == (info.segments, info.encoding)


def _expected(raw: str, region: str) -> tuple[str | None, bool | None]:
    try:
        p = phone.parse(raw, region)
    except InvalidNumber:
        return None, None
    return p.e164, p.mobile


def test_fast_number_path_gives_the_domain_answers() -> None:
    rng = random.Random(7)
    formats = [
        lambda: (f"07{rng.randrange(10**9):09d}", "GB"),
        lambda: (f"+44 7{rng.randrange(10**9):09d}", "GB"),
        lambda: (f"0044{rng.randrange(10**10):010d}", "GB"),
        lambda: (f"7{rng.randrange(10**9):09d}", "GB"),
        lambda: (f"447{rng.randrange(10**9):09d}", "GB"),
        lambda: (f"01{rng.randrange(10**9):09d}", "DE"),
        lambda: (f"+1 {rng.randrange(200, 999)} {rng.randrange(10**7):07d}", "US"),
        lambda: (f"0{rng.randrange(10**8, 10**10)}", rng.choice(["FR", "KE", "IN", "AU", "IT", "BR", "AR", "MX"])),
        lambda: (f"+{rng.randrange(10**8, 10**13)}", "GB"),
        lambda: (f"+44 7700 900{rng.randrange(1000):03d}", "GB"),
    ]
    for _ in range(4000):
        raw, region = rng.choice(formats)()
        got = check_number(raw, region)
        if got.repair == "added_plus":
            continue  # a deliberate extension: the domain needs the '+'
        assert (got.e164, got.mobile if got.e164 else None) == _expected(raw, region), raw


def test_a_typed_number_parsed_the_quick_way_is_what_the_full_parse_says() -> None:
    """SendService.plan tries quick_e164 first: it answers only for plain mobiles, as phone.parse does."""
    rng = random.Random(11)
    formats = [
        lambda: (f"07{rng.randrange(10**9):09d}", "GB"),
        lambda: (f"+44 7{rng.randrange(10**9):09d}", "GB"),
        lambda: (f"+4407{rng.randrange(10**9):09d}", "GB"),  # a national 0 after the country code
        lambda: (f"(0{rng.randrange(10**8, 10**10)})", rng.choice(["FR", "KE", "IN", "AU", "IT", "BR", "AR", "DE"])),
        lambda: (f"+{rng.randrange(10**6, 10**14)}", "GB"),
        lambda: (f"+39 0{rng.randrange(10**8, 10**9)}", "GB"),  # Italy keeps its leading zero
        lambda: (f"+44 7700 900{rng.randrange(1000):03d}", "GB"),  # TV and film: refused
    ]
    answered = 0
    for _ in range(4000):
        raw, region = rng.choice(formats)()
        quick = quick_e164(raw, region)
        if quick is not None:
            answered += 1
            assert quick == phone.parse(raw, region).e164, raw
    assert answered > 500  # the common mobiles do take the quick way
    assert quick_e164("07812 345678", "GB") == "+447812345678"
    assert quick_e164("07911 123456", "GB") is None  # Guernsey shares +44: the full parse decides
    assert quick_e164("+44 7700 900123", "GB") is None  # the full parse says why not
