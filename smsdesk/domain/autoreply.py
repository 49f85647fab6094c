"""Automatic replies: which rule answers an incoming text, if any (pure rules, no storage).

Three kinds of rule, per account, each on or off:

- **keyword**: the text *is* one of the rule's keywords ("OPEN?", "open", "Öpen!") or, with
  ``starts``, begins with one as a word ("JOIN the list"). Case, accents and punctuation are
  ignored. Rules are tried in their order; the first that matches answers.
- **help**: a standard answer to HELP (or INFO) naming the business and how to opt out.
- **hours**: when no keyword rule matched and the business is closed (outside its hours for
  that weekday in its time zone, or on a holiday), one out-of-hours answer.

STOP, START and the other opt-out words are never answered by a rule (the opt-out rules
always win), and a keyword rule may not use them or HELP: :func:`check_keywords` refuses it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.optout import OPT_IN, OPT_OUT, classify

HELP_WORDS = frozenset({"HELP", "INFO"})
RESERVED = frozenset(w.casefold() for w in (*OPT_OUT, *OPT_IN, *HELP_WORDS))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class RuleKind(StrEnum):
    KEYWORD = "keyword"
    HELP = "help"
    HOURS = "hours"


class Match(StrEnum):
    WORD = "word"  # the whole text is the keyword
    STARTS = "starts"  # the text begins with the keyword


def words(text: str) -> str:
    """``text`` as rules compare it: accents off, any case, punctuation as spaces, trimmed.

    "  Öpen?! " -> "open"; "J'aime" -> "j aime".
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", plain.casefold()).split())


def check_keywords(raw: Sequence[str]) -> tuple[str, ...]:
    """Keywords as stored (compared form, each once, in order).

    Raises:
        InvalidInput: none given, or one would shadow STOP, START or HELP.
    """
    out: list[str] = []
    for k in raw:
        w = words(k)
        if not w:
            continue
        if w in RESERVED or classify(k) is not None:
            raise InvalidInput(
                f"'{k.strip()}' cannot start an automatic reply: STOP, START and HELP are answered by "
                "smsdesk's own rules. Choose another word."
            )
        if w not in out:
            out.append(w)
    if not out:
        raise InvalidInput("Give at least one keyword, e.g. OPEN or JOIN.")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Rule:
    """One automatic reply. ``reply`` is a template: ``{{first_name|there}}`` and contact
    fields by name; ``add_group_id`` / ``add_tag``: the sender joins that group / gets that tag."""

    id: int
    account_id: int
    kind: RuleKind
    reply: str
    keywords: tuple[str, ...] = ()
    match: Match = Match.WORD
    enabled: bool = True
    position: int = 0
    add_group_id: int | None = None
    add_tag: str = ""

    def matches(self, text: str) -> bool:
        """Whether this keyword rule answers ``text`` (see the module docstring)."""
        if self.kind != RuleKind.KEYWORD:
            return False
        said = words(text)
        if self.match == Match.WORD:
            return said in self.keywords
        return any(said == k or said.startswith(k + " ") for k in self.keywords)

    @property
    def label(self) -> str:
        if self.kind == RuleKind.HELP:
            return "HELP"
        if self.kind == RuleKind.HOURS:
            return "Out of hours"
        return ", ".join(k.upper() for k in self.keywords)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Opening hours per weekday in the business's time zone, and holidays (closed all day).

    ``week``: one entry per weekday, Monday first: ``"09:00-17:30"``, or ``""`` for closed.
    """

    zone: str = "UTC"
    week: tuple[str, ...] = ("09:00-17:00",) * 5 + ("", "")
    holidays: frozenset[date] = field(default_factory=frozenset)

    @staticmethod
    def parse_span(text: str) -> tuple[time, time] | None:
        """``"09:00-17:30"`` -> (09:00, 17:30); ``""`` -> None (closed).

        Raises:
            InvalidInput: not of that form, or it closes before it opens.
        """
        if not text.strip():
            return None
        m = _HOURS.match(text)
        if m is None:
            raise InvalidInput(f"'{text}' is not opening hours; write them like 09:00-17:30, or leave it empty.")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise InvalidInput(f"'{text}' is not a time of day; write hours like 09:00-17:30.")
        opens, closes = time(h1, m1), (time(23, 59, 59) if h2 == 24 else time(h2, m2))
        if closes <= opens:
            raise InvalidInput(f"'{text}' closes before it opens; write hours like 09:00-17:30.")
        return opens, closes

    def is_open(self, at: datetime) -> bool:
        """Whether the business is open at the instant ``at`` (aware), in its own zone: a
        daylight-saving change moves the instant, never the wall-clock hours."""
        local = at.astimezone(ZoneInfo(self.zone))
        if local.date() in self.holidays:
            return False
        span = self.parse_span(self.week[local.weekday()]) if local.weekday() < len(self.week) else None
        return span is not None and span[0] <= local.time().replace(tzinfo=None) < span[1]


def choose(rules: Sequence[Rule], text: str, at: datetime, hours: BusinessHours | None) -> Rule | None:
    """The rule that answers ``text`` received at ``at``, or None.

    Opt-out and opt-in words are never answered; HELP goes to the help rule; then the first
    keyword rule that matches; then, when closed, the out-of-hours rule.
    """
    if classify(text) is not None:
        return None
    live = [r for r in sorted(rules, key=lambda r: (r.position, r.id)) if r.enabled]
    if words(text).upper() in HELP_WORDS:
        return next((r for r in live if r.kind == RuleKind.HELP), None)
    for rule in live:
        if rule.matches(text):
            return rule
    if hours is not None and not hours.is_open(at):
        return next((r for r in live if r.kind == RuleKind.HOURS), None)
    return None


def help_text(business: str) -> str:
    """The standard HELP answer."""
    who = business.strip() or "us"
    return f"This is {who}. Reply with your question and we will answer when we are open. Reply STOP to opt out."
