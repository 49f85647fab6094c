"""Which automatic reply answers a text: keywords, HELP, out of hours, never STOP or START."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from smsdesk.domain.autoreply import BusinessHours, Match, Rule, RuleKind, check_keywords, choose, words
from smsdesk.domain.errors import InvalidInput

OPEN = Rule(1, 1, RuleKind.KEYWORD, "Yes, open till 6", ("open",), position=1)
JOIN = Rule(2, 1, RuleKind.KEYWORD, "Welcome to the list", ("join",), Match.STARTS, position=2)
HELP = Rule(3, 1, RuleKind.HELP, "", position=3)
CLOSED = Rule(4, 1, RuleKind.HOURS, "We are closed; back Monday 9am", position=4)
RULES = [CLOSED, HELP, JOIN, OPEN]  # stored order does not matter: position does
LONDON = BusinessHours("Europe/London", ("09:00-17:00",) * 5 + ("10:00-14:00", ""), frozenset({date(2026, 12, 25)}))
WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SUNDAY = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_words_ignore_case_accents_and_punctuation() -> None:
    assert words("  Öpen?! ") == "open"
    assert words("J'ÂIME   ça") == "j aime ca"


@pytest.mark.parametrize("text", ["OPEN?", "open", " Öpen! ", "Open."])
def test_a_keyword_rule_answers_the_word_in_any_case_accent_or_punctuation(text: str) -> None:
    assert choose(RULES, text, WEDNESDAY_NOON, LONDON) is OPEN


def test_a_word_rule_wants_the_whole_text_and_a_starts_rule_its_start() -> None:
    assert choose(RULES, "are you open today", WEDNESDAY_NOON, LONDON) is None
    assert choose(RULES, "JOIN the newsletter", WEDNESDAY_NOON, LONDON) is JOIN
    assert choose(RULES, "joining", WEDNESDAY_NOON, LONDON) is None  # a word, not letters


def test_the_first_rule_in_the_order_wins() -> None:
    other = Rule(5, 1, RuleKind.KEYWORD, "Second", ("open",), position=0)
    assert choose([OPEN, other], "open", WEDNESDAY_NOON, LONDON) is other


def test_stop_and_start_are_never_answered_even_out_of_hours() -> None:
    for text in ("STOP", "stop!", "Unsubscribe", "START", "unstop"):
        assert choose(RULES, text, SUNDAY, LONDON) is None


def test_help_gets_the_help_rule() -> None:
    assert choose(RULES, "help", WEDNESDAY_NOON, LONDON) is HELP
    assert choose(RULES, "INFO?", SUNDAY, LONDON) is HELP


def test_out_of_hours_answers_what_no_keyword_did_when_closed() -> None:
    assert choose(RULES, "Can I book for Tuesday?", WEDNESDAY_NOON, LONDON) is None
    assert choose(RULES, "Can I book for Tuesday?", SUNDAY, LONDON) is CLOSED
    assert choose(RULES, "open?", SUNDAY, LONDON) is OPEN  # a keyword still wins
    christmas_noon = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert choose(RULES, "hello", christmas_noon, LONDON) is CLOSED


def test_a_rule_that_is_off_answers_nothing() -> None:
    off = Rule(1, 1, RuleKind.KEYWORD, "x", ("open",), enabled=False)
    assert choose([off], "open", WEDNESDAY_NOON, LONDON) is None


def test_opening_hours_follow_the_wall_clock_across_daylight_saving() -> None:
    # 08:30 UTC is 08:30 in London on Friday 27 March 2026 (GMT) and 09:30 on Monday 30 March (BST).
    assert not LONDON.is_open(datetime(2026, 3, 27, 8, 30, tzinfo=UTC))
    assert LONDON.is_open(datetime(2026, 3, 30, 8, 30, tzinfo=UTC))
    # 16:30 UTC: 16:30 GMT on 27 March is open; 17:30 BST on 30 March is closed.
    assert LONDON.is_open(datetime(2026, 3, 27, 16, 30, tzinfo=UTC))
    assert not LONDON.is_open(datetime(2026, 3, 30, 16, 30, tzinfo=UTC))


def test_keywords_that_would_shadow_stop_start_or_help_are_refused() -> None:
    for word in ("STOP", "start", "Help", "unsubscribe", "Stop all"):
        with pytest.raises(InvalidInput, match="cannot start an automatic reply"):
            check_keywords([word])
    with pytest.raises(InvalidInput, match="at least one keyword"):
        check_keywords(["  ", "?!"])
    assert check_keywords(["Open", "OPEN?", "Hours"]) == ("open", "hours")


@pytest.mark.parametrize("span", ["9-5", "17:00-09:00", "25:00-26:00", "09:00 to 17:00"])
def test_bad_opening_hours_are_refused_with_the_form_to_use(span: str) -> None:
    with pytest.raises(InvalidInput, match="09:00-17:30"):
        BusinessHours.parse_span(span)
