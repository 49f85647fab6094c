"""What the counter under every message box says, in words a shop owner uses.

The visible line counts characters and text messages, and names the special characters
that make each text message hold 70 characters instead of 160 ("5 characters · 1 text
message · special characters: 😊 (uses 70-character parts)"). A character the screen cannot
draw (no emoji font) or cannot show at all (a tab, a no-break space) is named, so the hint
never shows an empty box. The technical detail (GSM-7 or UCS-2, septets, UTF-16 units)
goes in the tooltip.

No Qt here: whether a character can be drawn is asked through the ``drawable`` callable.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from smsdesk.domain.segments import (
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_MESSAGE_CHARS,
    MULTI_LIMIT,
    SINGLE_LIMIT,
    SegmentInfo,
    analyze,
    graphemes,
    normalise_newlines,
    strip_to_gsm,
)
from smsdesk.domain.template import compile_template

# Levels of the line (the widget colours them): nothing to say, special characters, a problem.
PLAIN = "plain"
SPECIAL = "special"
PROBLEM = "problem"

SHOWN_AT_MOST = 8  # special characters named in the line; the tooltip lists them all

_GSM = GSM7_BASIC | GSM7_EXTENSION
_ZWJ = "\u200d"
_VARIATION = frozenset("\ufe0e\ufe0f")
_SKIN_TONES = {
    "\U0001f3fb": "LIGHT SKIN TONE",
    "\U0001f3fc": "MEDIUM-LIGHT SKIN TONE",
    "\U0001f3fd": "MEDIUM SKIN TONE",
    "\U0001f3fe": "MEDIUM-DARK SKIN TONE",
    "\U0001f3ff": "DARK SKIN TONE",
}
_INVISIBLE_WORDS = {"\t": "tab", "\x0b": "vertical tab", "\u00a0": "no-break space"}


@dataclass(frozen=True, slots=True)
class CounterText:
    """The counter for one text.

    Attributes:
        line: the visible line, in plain words.
        tooltip: the same with the technical detail.
        level: :data:`PLAIN`, :data:`SPECIAL` (special characters shrink each part) or
            :data:`PROBLEM` (too long to send, or this account refuses the characters).
        over_limit: the text is longer than :data:`MAX_MESSAGE_CHARS`.
    """

    line: str
    tooltip: str
    level: str
    over_limit: bool
    segments: int = 0  # text messages (parts) it is sent as; 0 when merge fields make it vary


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _is_invisible(cluster: str) -> bool:
    """Whitespace other than a plain space, control and format characters: nothing to see."""
    return len(cluster) == 1 and (cluster.isspace() or unicodedata.category(cluster) in ("Cc", "Cf", "Co", "Cn"))


def _code_point_name(ch: str) -> str:
    if ch in _SKIN_TONES:
        return _SKIN_TONES[ch]
    return unicodedata.name(ch, f"U+{ord(ch):04X}")


def cluster_name(cluster: str) -> str:
    """The Unicode name of what a person sees as one character.

    A flag is named by its country ("FLAG: GB"), a sequence joined by zero-width joiners or
    carrying a skin tone by its parts ("MAN + WOMAN + GIRL", "THUMBS UP SIGN + MEDIUM SKIN
    TONE"); invisible joiners and emoji-style selectors are left out of the name.
    """
    if len(cluster) == 2 and all("\U0001f1e6" <= c <= "\U0001f1ff" for c in cluster):
        return "FLAG: " + "".join(chr(ord(c) - 0x1F1E6 + ord("A")) for c in cluster)
    tags = [c for c in cluster if "\U000e0020" <= c <= "\U000e007e"]
    if tags and cluster[0] == "\U0001f3f4":  # a subdivision flag: 🏴 + tag letters "gbeng" + end tag
        code = "".join(chr(ord(c) - 0xE0000) for c in tags).upper()
        return f"FLAG: {code[:2]}-{code[2:]}"
    names = [
        _code_point_name(c)
        for c in cluster
        if c != _ZWJ and c not in _VARIATION and not ("\U000e0020" <= c <= "\U000e007f")
    ]
    return " + ".join(names) or _code_point_name(cluster[0])


def _words_for_invisible(ch: str) -> str:
    if ch in _INVISIBLE_WORDS:
        return _INVISIBLE_WORDS[ch]
    name = unicodedata.name(ch, "")
    return name.lower() if name else f"invisible character U+{ord(ch):04X}"


def special_clusters(text: str) -> list[str]:
    """The distinct characters of ``text`` outside the basic SMS alphabet, as a person sees
    them (a flag is one), in order of first appearance."""
    seen: dict[str, None] = {}
    for cluster in graphemes(text):
        if any(ch not in _GSM for ch in cluster):
            seen.setdefault(cluster, None)
    return list(seen)


def shown_as(cluster: str, drawable: Callable[[str], bool]) -> str:
    """How the line shows one special character: itself, or itself and its name when the
    screen cannot draw it, or words alone when there is nothing to see (a tab)."""
    if _is_invisible(cluster):
        return _words_for_invisible(cluster)
    if drawable(cluster):
        return cluster
    return f"{cluster} {cluster_name(cluster)}"


def _technical(info: SegmentInfo) -> str:
    unit = "septets" if info.encoding == GSM7 else "UTF-16 units"
    single, multi = SINGLE_LIMIT[info.encoding], MULTI_LIMIT[info.encoding]
    lines = [f"Encoding: {info.encoding} ({single} {unit} in one part, {multi} per part when split)."]
    if info.segments:
        lines.append(
            f"{info.units:,} {unit} in {_plural(info.segments, 'part')}; {info.remaining} left in the last part."
        )
    return "\n".join(lines)


def _tooltip_chars(clusters: list[str]) -> str:
    rows = []
    for cluster in clusters:
        codes = " ".join(f"U+{ord(c):04X}" for c in cluster)
        if _is_invisible(cluster):
            rows.append(f"{_words_for_invisible(cluster)} ({codes})")
        else:
            rows.append(f"{cluster}  {cluster_name(cluster)} ({codes})")
    return "Characters outside the basic SMS alphabet:\n" + "\n".join(rows)


def describe_message(
    text: str,
    *,
    unicode_mode: str | None = None,
    drawable: Callable[[str], bool] = lambda _c: True,
    merge_fields: bool = False,
) -> CounterText:
    """The counter line and tooltip for ``text``.

    Args:
        text: what is in the box.
        unicode_mode: the account's handling of special characters, where it has a choice:
            ``Allow`` (send them, in 70-character parts), ``Strip`` (removed before sending) or
            ``Deny`` (refused); None for an account that always sends them.
        drawable: whether the screen can draw a character (else it is named).
        merge_fields: ``text`` is a template: ``{{fields}}`` are left out of the count and the
            number of text messages (it differs per recipient) is not claimed.
    """
    text = normalise_newlines(text)
    fixed = text
    has_fields = False
    if merge_fields:
        template = compile_template(text)
        has_fields = template.is_personalised
        fixed = template.literal_text
    n = len(fixed)
    if n > MAX_MESSAGE_CHARS:
        line = (
            f"{n:,} characters · too long: at most {MAX_MESSAGE_CHARS:,} can be sent as one message "
            f"(remove {n - MAX_MESSAGE_CHARS:,})"
        )
        return CounterText(line, line + ".\n" + _technical(analyze(fixed)), PROBLEM, True)
    clusters = special_clusters(fixed)
    sent = strip_to_gsm(fixed) if clusters and unicode_mode == "Strip" else fixed
    info = analyze(sent)
    if not fixed:
        line = (
            "Merge fields such as {{first_name}} are filled in for each person."
            if merge_fields
            else f"Up to {SINGLE_LIMIT[GSM7]} characters fit in one text message."
        )
        return CounterText(line, _technical(info), PLAIN, False)
    parts = [_plural(n, "character") + (" plus merge fields" if has_fields else "")]
    if not has_fields:
        parts.append(_plural(info.segments, "text message"))
    level = PLAIN
    tooltip = _technical(info)
    if clusters:
        shown = ", ".join(shown_as(c, drawable) for c in clusters[:SHOWN_AT_MOST])
        if len(clusters) > SHOWN_AT_MOST:
            shown += f" and {len(clusters) - SHOWN_AT_MOST:,} more"
        if unicode_mode == "Strip":
            parts.append(f"special characters: {shown} (this account removes them before sending)")
        elif unicode_mode == "Deny":
            parts.append(
                f"special characters: {shown} (this account refuses them: remove them, or allow "
                "them under Special characters in the account's Advanced settings)"
            )
            level = PROBLEM
        else:
            per = MULTI_LIMIT[info.encoding] if info.segments > 1 else SINGLE_LIMIT[info.encoding]
            parts.append(f"special characters: {shown} (uses {per}-character parts)")
            level = SPECIAL
        if unicode_mode is not None:
            tooltip += f"\nUnicode mode of this account: {unicode_mode}."
        tooltip += "\n" + _tooltip_chars(clusters)
    return CounterText(" · ".join(parts), tooltip, level, False, 0 if has_fields else info.segments)
