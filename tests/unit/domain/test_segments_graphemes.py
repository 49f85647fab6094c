"""Grapheme clusters stay in one part where they fit (Twilio's rule, which is what it bills).

Each case puts a cluster across the 67-unit boundary of a concatenated UCS-2 message. Packed
code point by code point, the cluster would be cut in two and the text would need one part
fewer; kept whole, the cluster moves to the next part. ``remaining`` (units left in the last
part) shows where the cut fell.
"""

from __future__ import annotations

import pytest

from smsdesk.domain.segments import GSM7, UCS2, analyze

FLAG_GB = "\U0001f1ec\U0001f1e7"  # two regional indicators, 4 units
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl, 8 units
HEART = "\u2764\ufe0f"  # heavy heart + variation selector 16, 2 units
E_ACUTE = "e\u0301"  # e + combining acute, 2 units
THUMBS_MEDIUM = "\U0001f44d\U0001f3fd"  # thumbs up + skin tone modifier, 4 units
KEYCAP_ONE = "1\ufe0f\u20e3"  # keycap 1: digit, VS16, combining enclosing keycap, 3 units
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # tag sequence, 14 units


def parts(text: str) -> tuple[str, int, int]:
    info = analyze(text)
    return info.encoding, info.segments, info.remaining


@pytest.mark.parametrize(
    ("before", "cluster", "after", "expected"),
    [
        # 65 + 4 > 67: the flag moves whole; part 2 = 4 + 65 = 69 -> a third part (code points: 2 parts).
        pytest.param(65, FLAG_GB, 65, (UCS2, 3, 67 - 2), id="flag"),
        # 63 + 8 > 67: the family moves whole; 8 + 60 = 68 -> 3 parts (cut after the first ZWJ: 2).
        pytest.param(63, FAMILY, 60, (UCS2, 3, 67 - 1), id="zwj-family"),
        pytest.param(66, HEART, 66, (UCS2, 3, 67 - 1), id="variation-selector"),
        pytest.param(66, E_ACUTE, 66, (UCS2, 3, 67 - 1), id="combining-acute"),
        pytest.param(65, THUMBS_MEDIUM, 65, (UCS2, 3, 67 - 2), id="skin-tone"),
        pytest.param(65, KEYCAP_ONE, 65, (UCS2, 3, 67 - 1), id="keycap"),
        pytest.param(60, ENGLAND, 60, (UCS2, 3, 67 - 7), id="tag-sequence"),
    ],
)
def test_a_cluster_on_the_boundary_moves_whole_to_the_next_part(
    before: int, cluster: str, after: int, expected: tuple[str, int, int]
) -> None:
    assert parts("a" * before + cluster + "a" * after) == expected


@pytest.mark.parametrize("cluster", [FLAG_GB, FAMILY, HEART, E_ACUTE, THUMBS_MEDIUM, KEYCAP_ONE, ENGLAND])
def test_a_cluster_that_fits_before_the_boundary_stays_there(cluster: str) -> None:
    units = len(cluster.encode("utf-16-be")) // 2
    # The cluster ends exactly on unit 67: nothing moves, the rest fills part 2.
    assert parts("a" * (67 - units) + cluster + "a" * 67) == (UCS2, 2, 0)


def test_regional_indicators_pair_from_the_left() -> None:
    f, g, b = "\U0001f1eb", "\U0001f1ec", "\U0001f1e7"
    # F G B = the flag (F G) and a lone B. 65 + 4 > 67, so the pair moves: part 2 = 4 + 2 + 62 = 68.
    assert parts("a" * 65 + f + g + b + "a" * 62) == (UCS2, 3, 67 - 1)
    # Paired wrongly (F | G B) it would have fitted in two parts.


def test_a_cluster_longer_than_a_part_is_split_between_code_points() -> None:
    chain = "\U0001f468\u200d" * 30  # one 90-unit ZWJ sequence: longer than a part
    # 1 + 22 x (2 + 1) = 67 exactly: part 1 is full, part 2 holds the other 24 units.
    assert parts("a" + chain) == (UCS2, 2, 67 - 24)
    # 3 + 21 x 3 = 66: the next emoji (2 units) cannot be split, so it starts part 2.
    assert parts("aaa" + chain) == (UCS2, 2, 67 - (90 - 63))
    # Combining marks alone: e + 80 acutes (81 units) after 10 'a': 57 of them fill part 1.
    assert parts("a" * 10 + "e" + "\u0301" * 80) == (UCS2, 2, 67 - 24)


def test_a_single_part_is_unaffected() -> None:
    assert parts("a" * 66 + FLAG_GB) == (UCS2, 1, 0)
    assert parts("a" * 62 + FAMILY) == (UCS2, 1, 0)


def test_text_without_joining_characters_packs_as_before() -> None:
    grin = "\U0001f600"
    assert parts("a" * 66 + grin + "a" * 66) == (UCS2, 3, 67 - 1)  # warthog618/sms #6: 66 | 2 + 65 | 1
    assert parts("“" + "a" * 133) == (UCS2, 2, 0)
    assert parts("a" * 161) == (GSM7, 2, 153 - 8)
