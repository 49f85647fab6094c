"""Automatic replies end to end with the sandbox: a signed incoming text -> receiver -> rule ->
outbox -> the sandbox gets the answer; once per rule and number; never to STOP; two
auto-responders facing each other stop at once; the CLI lists, adds and tests rules."""

from __future__ import annotations

import json

import pytest

from smsdesk.cli import main as cli_main
from smsdesk.domain.autoreply import Match, RuleKind
from smsdesk.domain.contacts import ContactDraft, DraftNumber
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.status import Status
from tests.support.wait import until

ANN = "+447911123456"
BOT = "+447911123499"


async def _text_in(runtime, sender: str, body: str) -> None:
    srv = runtime.sandbox.server
    assert runtime.sandbox.call(srv._post_inbound(sender, srv.config.inbound_number, body))


def _sent_to(runtime, number: str) -> list[str]:
    return [s.content for s in runtime.sandbox.server.sent if s.recipient == number]


def _inbound(runtime, number: str) -> int:
    return sum(1 for m in runtime.sending.messages.recent(100) if m.direction == "in" and m.remote == number)


async def _settled(runtime) -> None:
    """Every automatic reply decided, and everything queued sent and final."""
    await until(lambda: not runtime.autoreplies.busy)
    await until(lambda: all(m.status.is_final for m in runtime.sending.messages.recent(100, direction="out")))


@pytest.mark.asyncio
async def test_a_keyword_gets_its_reply_once_filled_in_for_the_contact(runtime) -> None:
    account = runtime.accounts.by_name("Sandbox")
    await runtime.contacts.add(ContactDraft(name="Ann Lee", given_name="Ann", numbers=(DraftNumber(ANN),)))
    gid = await runtime.groups.create("Regulars")
    rule = await runtime.autoreplies.add(
        account.id, RuleKind.KEYWORD, "Yes {{first_name|there}}, open till 6!", ["open"], Match.WORD, gid, "asked"
    )
    await _text_in(runtime, ANN, "Open?")
    await until(lambda: _sent_to(runtime, ANN) == ["Yes Ann, open till 6!"])
    await _settled(runtime)
    [auto] = [m for m in runtime.sending.messages.recent(10, direction="out")]
    assert auto.status == Status.DELIVERED and auto.auto_rule_id == rule.id  # shown as automatic in the thread
    assert runtime.groups.by_name("Regulars").size == 1  # the rule also put her in the group
    assert runtime.contacts.by_number(ANN).tags == ("asked",)  # and tagged her

    await _text_in(runtime, ANN, "OPEN")  # again within 12 hours: no second answer
    await until(lambda: _inbound(runtime, ANN) == 2)
    await _settled(runtime)
    assert _sent_to(runtime, ANN) == ["Yes Ann, open till 6!"]
    assert runtime.autoreplies.get(rule.id).keywords == ("open",)


@pytest.mark.asyncio
async def test_stop_is_never_answered_even_out_of_hours(runtime) -> None:
    account = runtime.accounts.by_name("Sandbox")
    runtime.settings.business_hours = [""] * 7  # closed all week
    await runtime.autoreplies.add(account.id, RuleKind.HOURS, "We are closed; back Monday 9am")
    await _text_in(runtime, ANN, "STOP")
    await until(lambda: runtime.optouts.is_opted_out(ANN))
    await _text_in(runtime, ANN, "Hello?")  # opted out: no answer either
    await until(lambda: _inbound(runtime, ANN) == 2)
    await _settled(runtime)
    assert _sent_to(runtime, ANN) == []
    with pytest.raises(InvalidInput, match="cannot start an automatic reply"):
        await runtime.autoreplies.add(account.id, RuleKind.KEYWORD, "Bye", ["Stop"])


@pytest.mark.asyncio
async def test_two_auto_responders_facing_each_other_stop_after_one_each(runtime) -> None:
    account = runtime.accounts.by_name("Sandbox")
    runtime.settings.business_hours = [""] * 7
    await runtime.autoreplies.add(account.id, RuleKind.HOURS, "Thanks! We are closed; back Monday 9am")
    await _text_in(runtime, BOT, "Hello from another shop")  # a person at the other shop
    await until(lambda: len(_sent_to(runtime, BOT)) == 1)  # our out-of-hours answer
    await _settled(runtime)
    await _text_in(runtime, BOT, "Auto-reply: we are closed too")  # their responder answers ours
    await until(lambda: _inbound(runtime, BOT) == 2)
    await _settled(runtime)
    assert _sent_to(runtime, BOT) == ["Thanks! We are closed; back Monday 9am"]  # and ours stops


@pytest.mark.asyncio
async def test_help_gets_the_standard_answer_naming_the_business(runtime) -> None:
    account = runtime.accounts.by_name("Sandbox")
    runtime.settings.business_name = "Salon Bella"
    await runtime.autoreplies.add(account.id, RuleKind.HELP, "")
    await _text_in(runtime, ANN, "help")
    await until(lambda: len(_sent_to(runtime, ANN)) == 1)
    [answer] = _sent_to(runtime, ANN)
    assert answer.startswith("This is Salon Bella.") and "Reply STOP to opt out." in answer
    await _settled(runtime)


def test_the_cli_adds_lists_and_tests_rules_without_sending(_isolated_home, capsys) -> None:  # noqa: ANN001
    assert cli_main(["autoreplies", "add", "--keyword", "OPEN", "--keyword", "hours", "--reply", "Open 9-5"]) == 0
    assert cli_main(["autoreplies", "add", "--kind", "help"]) == 0
    capsys.readouterr()
    assert cli_main(["autoreplies", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["keywords"]) for r in listed] == [("keyword", ["open", "hours"]), ("help", [])]
    assert cli_main(["autoreplies", "add", "--keyword", "join", "--starts", "--reply", "Welcome"]) == 0
    capsys.readouterr()
    assert cli_main(["autoreplies", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len({line.index(" -> ") for line in lines}) == 1, lines  # the replies line up
    assert "(starts with)" in lines[-1]
    assert cli_main(["autoreplies", "test", "Hours?", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["reply"] == "Open 9-5" and said["rule"]["id"] == listed[0]["id"]
    assert cli_main(["autoreplies", "test", "STOP"]) == 0
    assert "No automatic reply" in capsys.readouterr().out
    assert cli_main(["autoreplies", "add", "--keyword", "help", "--reply", "x"]) == 2
    assert "cannot start an automatic reply" in capsys.readouterr().err


def test_the_cli_sets_opening_hours_and_test_follows_them(_isolated_home, capsys) -> None:  # noqa: ANN001
    assert cli_main(["autoreplies", "add", "--kind", "out-of-hours", "--reply", "Closed now, back at 9"]) == 0
    assert cli_main(["autoreplies", "hours", "--zone", "Europe/London", "--sat", "", "--holiday", "2026-12-25"]) == 0
    capsys.readouterr()
    # Saturday 5 December 2026 at noon in London: closed (Saturday has no hours now)
    assert cli_main(["autoreplies", "test", "Can I book?", "--at", "2026-12-05T12:00:00+00:00", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reply"] == "Closed now, back at 9"
    # Friday noon: open, so nothing answers
    assert cli_main(["autoreplies", "test", "Can I book?", "--at", "2026-12-04T12:00:00+00:00", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reply"] is None
    assert cli_main(["autoreplies", "hours", "--mon", "9 till 5"]) == 2
    assert "09:00-17:30" in capsys.readouterr().err
    assert cli_main(["autoreplies", "hours", "--zone", "Mars/Olympus"]) == 2
    assert "not a known time zone" in capsys.readouterr().err
