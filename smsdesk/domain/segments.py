"""GSM-7 / UCS-2 segment arithmetic (3GPP TS 23.038 / 23.040).

A message is GSM-7 when every character is in the GSM 03.38 basic table or its extension
table (extension characters cost two septets: ESC + code). Otherwise the whole message is
UCS-2, counted in UTF-16 code units (an emoji outside the BMP costs two).

Single segment: 160 septets / 70 units. Concatenated: 153 / 67 per part (6-octet UDH).
A character is never split across two parts: an ESC pair or a surrogate pair that would
straddle a boundary moves whole to the next part, which can add a part.

Graphemes: in a UCS-2 text split over parts, what a person sees as one
character stays in one part where it fits, as Twilio's calculator does and bills: a flag (two
regional indicators), a ZWJ sequence (family, rainbow flag), a base with variation selectors,
skin-tone modifiers, tag characters or combining marks. A cluster longer than a whole part
is still split, at code-point boundaries (never inside a surrogate pair). The clustering is
a small subset of UAX #29 without a dependency, and runs only when the text needs more than
one part and has a character at or above U+0300 (below it nothing can join).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"

SINGLE_LIMIT = {GSM7: 160, UCS2: 70}
MULTI_LIMIT = {GSM7: 153, UCS2: 67}

# The longest text smsdesk sends as one message (in characters, after newline normalisation):
# about ten parts. The send path refuses longer texts; the counters warn as they are typed.
MAX_MESSAGE_CHARS = 1600


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What a text costs to send.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        segments: number of SMS parts (0 for an empty text).
        units: septets (GSM-7) or UTF-16 code units (UCS-2) used.
        characters: code points in the text, as a person counts them.
        per_segment: the capacity of one part at this length (160/153 or 70/67).
        remaining: units left in the last part before another part is needed.
        ucs2_chars: the distinct characters that forced UCS-2, in order of appearance.
    """

    encoding: str
    segments: int
    units: int
    characters: int
    per_segment: int
    remaining: int
    ucs2_chars: tuple[str, ...]


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF, so a pasted text costs what it will cost when sent."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _gsm_costs(text: str) -> list[int] | None:
    costs: list[int] = []
    for ch in text:
        if ch in GSM7_BASIC:
            costs.append(1)
        elif ch in GSM7_EXTENSION:
            costs.append(2)
        else:
            return None
    return costs


def _ucs2_costs(text: str) -> list[int]:
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _pack(costs: list[int], limit: int) -> tuple[int, int]:
    """Parts needed when atoms of ``costs`` may not straddle parts; returns (parts, used in last)."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > limit:
            parts += 1
            used = 0
        used += cost
    return parts, used


_ZWJ = "\u200d"


def _is_extend(ch: str) -> bool:
    """Joins the cluster before it: combining marks, variation selectors (both category M),
    ZWJ, emoji skin-tone modifiers (U+1F3FB-1F3FF) and tag characters (U+E0020-E007F)."""
    if ch == _ZWJ or "\U0001f3fb" <= ch <= "\U0001f3ff" or "\U000e0020" <= ch <= "\U000e007f":
        return True
    return unicodedata.category(ch)[0] == "M"


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


_JOINER: dict[str, bool] = {}  # code point -> can it join the one before (extend or regional)


def _joiner(ch: str) -> bool:
    known = _JOINER.get(ch)
    if known is None:
        known = _JOINER[ch] = _is_extend(ch) or _is_regional(ch)
    return known


def _may_cluster(text: str) -> bool:
    """The cheap check: does any distinct character at or above U+0300 join? (A long Cyrillic
    or CJK text has a few dozen distinct characters, each looked up once.)"""
    return any(_joiner(ch) for ch in set(text) if ch >= "\u0300")


def _joins(text: str) -> Iterator[tuple[str, bool]]:
    """Each code point of ``text`` and whether it joins the grapheme cluster before it."""
    first = True
    prev = ""
    riding_ri = False  # the current cluster is a single regional indicator, waiting for its pair
    for ch in text:
        if first or ch < "\u0300":
            join = False  # nothing below U+0300 extends a cluster
        elif prev == _ZWJ:
            join = not ch.isspace() and unicodedata.category(ch)[0] != "C"
        elif _is_regional(ch):
            join = riding_ri
        else:
            join = _joiner(ch)
        riding_ri = not join and _is_regional(ch)
        first = False
        prev = ch
        yield ch, join


def _clusters(text: str) -> list[list[int]] | None:
    """The UTF-16 cost of each code point, grouped by grapheme cluster; None when every code
    point stands alone (the common case, which then packs code point by code point)."""
    clusters: list[list[int]] = []
    joined = False
    for ch, join in _joins(text):
        cost = 2 if ch > "\uffff" else 1
        if join:
            clusters[-1].append(cost)
            joined = True
        else:
            clusters.append([cost])
    return clusters if joined else None


def graphemes(text: str) -> list[str]:
    """``text`` cut into what a person sees as single characters (a flag, a family emoji, a
    letter with its accent), by the same rules that keep them in one message part."""
    out: list[str] = []
    for ch, join in _joins(text):
        if join:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _pack_clusters(clusters: list[list[int]], limit: int) -> tuple[int, int]:
    """Like :func:`_pack` with whole clusters as atoms; a cluster longer than ``limit``
    fills the current part and continues, split between its code points."""
    parts, used = 1, 0
    for cluster in clusters:
        size = sum(cluster)
        if used + size <= limit:
            used += size
            continue
        if size <= limit:
            parts += 1
            used = size
            continue
        for cost in cluster:
            if used + cost > limit:
                parts += 1
                used = 0
            used += cost
    return parts, used


def non_gsm_chars(text: str) -> tuple[str, ...]:
    """The distinct characters of ``text`` outside GSM-7, in order of first appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch, None)
    return tuple(seen)


def analyze(text: str) -> SegmentInfo:
    """Encoding, segment count and units of ``text`` (newlines are not normalised here)."""
    gsm = _gsm_costs(text)
    forced: tuple[str, ...]
    if gsm is not None:
        encoding, costs, forced = GSM7, gsm, ()
    else:
        encoding, costs, forced = UCS2, _ucs2_costs(text), non_gsm_chars(text)
    units = sum(costs)
    if units == 0:
        return SegmentInfo(encoding, 0, 0, 0, SINGLE_LIMIT[encoding], SINGLE_LIMIT[encoding], forced)
    if units <= SINGLE_LIMIT[encoding]:
        limit = SINGLE_LIMIT[encoding]
        return SegmentInfo(encoding, 1, units, len(text), limit, limit - units, forced)
    limit = MULTI_LIMIT[encoding]
    clusters = _clusters(text) if encoding == UCS2 and max(text) >= "\u0300" and _may_cluster(text) else None
    parts, used = _pack(costs, limit) if clusters is None else _pack_clusters(clusters, limit)
    return SegmentInfo(encoding, parts, units, len(text), limit, limit - used, forced)


def strip_to_gsm(text: str) -> str:
    """Drop every character outside GSM-7 (PureSMS's unicode mode "Strip")."""
    return "".join(ch for ch in text if ch in GSM7_BASIC or ch in GSM7_EXTENSION)
