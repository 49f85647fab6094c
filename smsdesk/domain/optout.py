"""Opt-out and opt-in keywords (SMS_RULES.md 3.1): the whole trimmed body, any case."""

from __future__ import annotations

import re
from enum import StrEnum

OPT_OUT = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP"})

_EDGE = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)


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
