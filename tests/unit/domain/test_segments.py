"""Segment arithmetic (3GPP TS 23.040/23.038: 140 octets per part, 160/153 GSM-7, 70/67 UCS-2).

Vectors ported from TwilioDevEd/message-segment-calculator ``tests/index.test.js`` and
``tests/segments.test.js`` (v1.3.x), plus the boundary cases other calculators got wrong:
Twilio #17 (combining accents), #18/#57 (extension characters in UCS-2), #39 (escape-heavy
text), phlib/sms-length #1 (an ESC pair split across parts) and warthog618/sms #6 (an emoji
on the boundary). A surrogate pair is never split; like Twilio, whole graphemes stay in one
part where they fit (boundary cases per kind of cluster: test_segments_graphemes.py).
"""

from __future__ import annotations

import pytest

from smsdesk.domain.segments import (
    GSM7,
    UCS2,
    SegmentInfo,
    analyze,
    non_gsm_chars,
    normalise_newlines,
    strip_to_gsm,
)

DIGITS = "1234567890" * 40  # Twilio's fixtures are runs of "1234567890..."
EMOJI = "\U0001f61c"  # 😜, outside the BMP: a surrogate pair, 2 UTF-16 units
GRIN = "\U0001f600"  # 😀
EXTENSION = ["|", "^", "€", "{", "}", "[", "]", "~", "\\", "\f"]


def seg(text: str) -> tuple[str, int, int]:
    info = analyze(text)
    return info.encoding, info.segments, info.units


# ---- Twilio index.test.js "Basic tests" ------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        pytest.param(DIGITS[:160], GSM7, 1, 160, id="gsm-160-one-segment"),
        pytest.param(DIGITS[:161], GSM7, 2, 161, id="gsm-161-two-segments"),
        pytest.param(DIGITS[:306], GSM7, 2, 306, id="gsm-153x2-two-segments"),
        pytest.param(DIGITS[:307], GSM7, 3, 307, id="gsm-307-three-segments"),
        pytest.param(EMOJI + DIGITS[1:69], UCS2, 1, 70, id="ucs2-emoji+68-one-segment"),
        pytest.param(EMOJI + DIGITS[1:70], UCS2, 2, 71, id="ucs2-emoji+69-two-segments"),
        pytest.param(EMOJI + DIGITS[1:134], UCS2, 3, 135, id="ucs2-emoji+133-three-segments"),
        # Flags are two regional indicators, each outside the BMP: 4 units.
        pytest.param("\U0001f1ee\U0001f1f9" + DIGITS[2:68], UCS2, 1, 70, id="ucs2-flag-one-segment"),
        pytest.param("\U0001f1ee\U0001f1f9" + DIGITS[2:69], UCS2, 2, 71, id="ucs2-flag-two-segments"),
        # Rainbow flag: U+1F3F3 U+FE0F U+200D U+1F308 = 6 units.
        pytest.param("\U0001f3f3\ufe0f\u200d\U0001f308" + DIGITS[:64], UCS2, 1, 70, id="ucs2-zwj-one"),
        pytest.param("\U0001f3f3\ufe0f\u200d\U0001f308" + DIGITS[:65], UCS2, 2, 71, id="ucs2-zwj-two"),
    ],
)
def test_twilio_basic_vectors(text: str, encoding: str, segments: int, units: int) -> None:
    assert seg(text) == (encoding, segments, units)


def test_twilio_three_gsm_segments_leave_one_character_in_the_last() -> None:
    # segments.test.js: 307 digits -> the third part holds only "7".
    info = analyze(DIGITS[:307])
    assert info.segments == 3
    assert info.per_segment == 153
    assert info.remaining == 153 - 1


def test_twilio_three_ucs2_segments_leave_one_unit_in_the_last() -> None:
    info = analyze(EMOJI + DIGITS[1:134])
    assert (info.segments, info.per_segment, info.remaining) == (3, 67, 67 - 1)


# ---- GSM-7 extension table -------------------------------------------------------------------
@pytest.mark.parametrize("char", EXTENSION)
def test_extension_char_costs_two_septets(char: str) -> None:
    # Twilio "GSM-7 Escape Characters": escape + 158 digits = 160 septets; + 159 = 161.
    assert seg(char + DIGITS[:158]) == (GSM7, 1, 160)
    assert seg(char + DIGITS[:159]) == (GSM7, 2, 161)


def test_eighty_euros_fill_one_segment_and_eighty_one_need_two() -> None:
    assert seg("€" * 80) == (GSM7, 1, 160)
    info = analyze("€" * 81)
    assert (info.encoding, info.segments, info.units) == (GSM7, 2, 162)
    # 76 pairs fit in 153 septets (152 used); the 77th pair cannot be split, so 5 pairs remain.
    assert info.remaining == 153 - 5 * 2


def test_esc_pair_fits_in_a_single_segment() -> None:
    # 152 + 2 = 154 septets <= 160: one part, nothing to split.
    assert seg("a" * 152 + "€") == (GSM7, 1, 154)


def test_esc_pair_never_straddles_a_part_boundary() -> None:
    # phlib/sms-length #1: 152 'a' + '€' + 152 'a' = 306 septets = exactly 2 x 153, but the
    # ESC pair would occupy septets 153-154: it moves whole to part 2, which then overflows.
    text = "a" * 152 + "€" + "a" * 152
    info = analyze(text)
    assert (info.units, info.segments) == (306, 3)
    # One septet fewer after the euro and it fits in two parts (152 | 2 + 151).
    assert seg("a" * 152 + "€" + "a" * 151) == (GSM7, 2, 305)


def test_escape_heavy_text_twilio_issue_39() -> None:
    # 153 ']' = 306 septets; 76 pairs per part -> 3 parts (what Twilio bills).
    assert seg("]" * 153) == (GSM7, 3, 306)


# ---- UCS-2 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("char", ["Á", "Ú", "ú", "ç", "í", "Í", "ó", "Ó"])
def test_one_unit_ucs2_characters_70_and_71(char: str) -> None:
    # Twilio "One grapheme UCS-2 characters".
    assert seg(char * 70) == (UCS2, 1, 70)
    assert seg(char * 71) == (UCS2, 2, 71)


def test_ucs2_parts_hold_67_units() -> None:
    assert seg("ó" * 134) == (UCS2, 2, 134)
    assert seg("ó" * 135) == (UCS2, 3, 135)


def test_emoji_costs_two_units() -> None:
    # 69 'a' + 1 emoji = 71 units -> 2 parts (an emoji is not "one character" to the network).
    info = analyze("a" * 69 + GRIN)
    assert (info.encoding, info.units, info.characters, info.segments) == (UCS2, 71, 70, 2)


def test_emoji_on_the_boundary_moves_to_the_next_part() -> None:
    # warthog618/sms #6: 66 'a' + emoji + 66 'a' = 134 units = exactly 2 x 67, but the pair
    # would straddle units 67-68; it moves whole to part 2 (2 + 66 = 68 > 67) -> 3 parts.
    assert seg("a" * 66 + GRIN + "a" * 66) == (UCS2, 3, 134)
    assert seg("a" * 66 + GRIN + "a" * 65) == (UCS2, 2, 133)
    # At the very end of a single part the pair still fits: 68 + 2 = 70.
    assert seg("a" * 68 + GRIN) == (UCS2, 1, 70)


def test_extension_chars_cost_one_unit_in_ucs2() -> None:
    # Twilio #18 / #57 (fixed in v1.3.0): emoji + 68 ']' = 70 units, one part; 69 -> two.
    assert seg(GRIN + "]" * 68) == (UCS2, 1, 70)
    assert seg(GRIN + "]" * 69) == (UCS2, 2, 71)
    assert seg("ó" + "€" * 69) == (UCS2, 1, 70)


def test_combining_accents_count_each_code_point() -> None:
    # Twilio #17: e-acute + 3 combining acutes is 4 code points = 4 units.
    accent = "\u00e9\u0301\u0301\u0301"
    assert seg(accent + "a" * 66) == (UCS2, 1, 70)
    assert seg(accent + "a" * 67) == (UCS2, 2, 71)


# ---- what forces UCS-2 -----------------------------------------------------------------------
def test_capital_c_cedilla_is_gsm_but_lowercase_forces_ucs2() -> None:
    # 23.038 slot 0x09 is capital Ç (3GPP TS 23.038); lowercase ç is not in the table.
    assert analyze("Ça va").encoding == GSM7
    info = analyze("ça va")
    assert info.encoding == UCS2
    assert info.ucs2_chars == ("ç",)


def test_backtick_forces_ucs2() -> None:
    info = analyze("run `make`")
    assert info.encoding == UCS2
    assert info.ucs2_chars == ("`",)


@pytest.mark.parametrize(
    "char",
    [
        "\u2018",
        "\u2019",
        "\u201c",
        "\u201d",
        "\u2013",
        "\u2014",
        "\u2026",
        "\u2022",
        "\u00a0",
        "\t",
        "\u200b",
        "á",
        "ê",
    ],
)
def test_look_alikes_force_ucs2(char: str) -> None:
    assert analyze(f"Hello{char}there").ucs2_chars == (char,)


def test_ucs2_chars_lists_distinct_culprits_in_order_of_appearance() -> None:
    text = "Café ça `va` 😀 ça — ok ç`"
    info = analyze(text)
    assert info.ucs2_chars == ("ç", "`", GRIN, "—")
    assert non_gsm_chars(text) == info.ucs2_chars


def test_twilio_non_gsm_characters_method() -> None:
    # methods.test.js getNonGsmCharacters('más') == ['á']
    assert analyze("más").ucs2_chars == ("á",)


def test_gsm_text_has_no_culprits() -> None:
    text = "@£$¥èéùìòÇ\nØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~]|€"
    info = analyze(text)
    assert info.encoding == GSM7
    assert info.ucs2_chars == ()


# ---- edges ----------------------------------------------------------------------------------
def test_empty_text_is_zero_segments() -> None:
    info = analyze("")
    assert info == SegmentInfo(GSM7, 0, 0, 0, 160, 160, ())


def test_single_segment_reports_what_is_left() -> None:
    info = analyze("Hello")
    assert (info.segments, info.per_segment, info.remaining, info.characters) == (1, 160, 155, 5)


def test_crlf_normalisation() -> None:
    pasted = "Line one\r\nLine two\rLine three\n"
    assert normalise_newlines(pasted) == "Line one\nLine two\nLine three\n"
    # CRLF costs two septets; after normalising it costs one.
    assert analyze(pasted).units == analyze(normalise_newlines(pasted)).units + 1
    # 159 chars + CRLF is 161 septets (2 parts) as pasted but 160 (1 part) as sent.
    text = "a" * 79 + "\r\n" + "b" * 80
    assert analyze(text).segments == 2
    assert analyze(normalise_newlines(text)).segments == 1


def test_strip_to_gsm_keeps_only_gsm_characters() -> None:
    assert strip_to_gsm("Café ça 😀 va €") == "Café a  va €"
