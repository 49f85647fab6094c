"""Opt-out / opt-in keywords: the whole trimmed body, any case."""

from __future__ import annotations

import pytest

from smsdesk.domain.optout import OPT_OUT, Keyword, classify


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop",
        " Stop! ",
        "STOP.",
        "stop\n",
        "UNSUBSCRIBE.",
        "unsubscribe",
        "stopall",
        "STOP ALL",
        "stop  all",
        "Cancel",
        "END",
        "quit",
        '"STOP"',
    ],
)
def test_opt_out(body: str) -> None:
    assert classify(body) is Keyword.OPT_OUT


@pytest.mark.parametrize("body", ["START", "start", " Unstop ", "UNSTOP!"])
def test_opt_in(body: str) -> None:
    assert classify(body) is Keyword.OPT_IN


@pytest.mark.parametrize(
    "body",
    [
        "please stop",
        "stop it",
        "don't stop",
        "stopping",
        "STOPP",
        "endless",
        "start again?",
        "",
        "   ",
        "Thanks, see you then!",
        "Can we make it half an hour later?",
    ],
)
def test_not_a_keyword(body: str) -> None:
    assert classify(body) is None


def test_none_body() -> None:
    assert classify(None) is None  # type: ignore[arg-type]


def test_industry_default_set_is_covered() -> None:
    for word in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"):
        assert word in OPT_OUT
        assert classify(word.lower()) is Keyword.OPT_OUT
