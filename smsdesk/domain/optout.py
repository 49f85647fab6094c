"""Opt-out and opt-in keywords: the whole trimmed body, any case.

The keywords carriers and regulators treat as an opt-out (STOP, STOPALL, UNSUBSCRIBE, CANCEL,
END, QUIT) and opt-in (START, UNSTOP) must be honoured whatever the case or surrounding
punctuation; a message that merely contains the word ("please stop by") is not one.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

OPT_OUT = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP"})

_EDGE = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)


# The raw status of a message a provider refused because its recipient opted out (a single
# send's 403 or one item of a batch): the dispatcher puts such numbers on the opt-out list.
PROVIDER_OPTED_OUT = "opted out"
_PROVIDER_OPT_OUT_WORDS = re.compile(r"opt(?:ed)?[\s_-]?out|unsubscribed", re.IGNORECASE)


def provider_says_opted_out(words: str) -> bool:
    """Whether a provider's refusal of one recipient says that the recipient opted out."""
    return bool(_PROVIDER_OPT_OUT_WORDS.search(words or ""))


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


def classify(body: str) -> Keyword | None:
    """``OPT_OUT`` for "stop", " Stop! ", "UNSUBSCRIBE."; ``OPT_IN`` for "start"; else None."""
    word = _EDGE.sub("", body or "").upper()
    word = re.sub(r"\s+", " ", word)
    if word in OPT_OUT:
        return Keyword.OPT_OUT
    if word in OPT_IN:
        return Keyword.OPT_IN
    return None


def how_opted_out(source: str, since: str = "") -> str:
    """How a number came onto the opt-out list, for a sentence a person reads.

    ``source`` is the list's own word (``reply``, ``provider``, ``manual``, or another that
    an import or a later feature writes); ``since`` its ISO time (only the date is shown).
    """
    day = ""
    if since:
        try:
            day = datetime.fromisoformat(since).strftime(" on %d %b %Y").replace(" 0", " ", 1)
        except ValueError:
            day = ""
    if source == "reply":
        return f"replied STOP{day}"
    if source == "provider":
        return f"the provider refused a message as opted out{day}"
    if source == "manual":
        return f"added to the opt-out list by hand{day}"
    return f"on the opt-out list{day}, source: {source or 'unknown'}"
