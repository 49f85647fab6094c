"""``smsdesk send --at`` makes a queue item; ``smsdesk queue`` lists it and cancels it."""

from __future__ import annotations

import json

import pytest

from smsdesk.cli import main


def test_send_at_schedules_and_queue_lists_and_cancels(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "send",
            "--account",
            "Sandbox",
            "--to",
            "07911 123456",
            "--text",
            "See you at 9",
            "--at",
            "2031-12-01T09:00",
            "--zone",
            "Europe/London",
            "--repeat",
            "weekly:mon",
        ]
    )
    assert rc == 0
    assert "Scheduled #1" in capsys.readouterr().err
    assert main(["queue", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["repeat"] == "weekly:mon" and item["state"] == "scheduled" and item["zone"] == "Europe/London"
    assert item["next_run_utc"].startswith("2031-12-01T09:00")  # 1 Dec 2031 is a Monday, GMT
    assert main(["queue", "cancel", "1"]) == 0
    assert "Cancelled" in capsys.readouterr().err
    assert main(["queue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["queue", "cancel", "1"]) == 2  # already cancelled: bad input, not a crash
    assert main(["queue", "cancel", "7"]) == 2


def test_send_at_in_the_past_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["send", "--account", "Sandbox", "--to", "07911 123456", "--text", "x", "--at", "2020-01-01T09:00"]) == 2
    )
    assert "in the past" in capsys.readouterr().err


@pytest.mark.parametrize("order", ["before", "after"])
def test_json_is_honoured_before_or_after_the_action(capsys: pytest.CaptureFixture[str], order: str) -> None:
    assert (
        main(
            [
                "send",
                "--account",
                "Sandbox",
                "--to",
                "07911 123456",
                "--text",
                "x",
                "--at",
                "2031-12-01T09:00",
                "--zone",
                "Europe/London",
            ]
        )
        == 0
    )
    capsys.readouterr()
    argv = ["queue", "--json", "cancel", "1"] if order == "before" else ["queue", "cancel", "1", "--json"]
    assert main(argv) == 0
    item = json.loads(capsys.readouterr().out)  # JSON on stdout, not the sentence on stderr
    assert item["id"] == 1 and item["state"] == "cancelled"
    assert main(["queue", "history", "1"]) == 0  # and without --json the words come back
    assert capsys.readouterr().out == ""


def test_send_now_over_the_monthly_limit_says_so_and_needs_over_limit(capsys: pytest.CaptureFixture[str]) -> None:
    limit = ["--set", "price_per_segment=0.10", "--set", "currency=GBP", "--set", "monthly_limit=0.05"]
    assert main(["accounts", "edit", "Sandbox", *limit]) == 0
    later = ["--at", "2031-12-01T09:00"]
    assert main(["send", "--account", "Sandbox", "--to", "07911 123456", "--text", "x", *later]) == 0
    capsys.readouterr()
    assert main(["queue", "send-now", "1"]) == 2  # refused: bad input, with the reason
    err = capsys.readouterr().err
    assert "over its monthly limit of £0.05" in err and "add --over-limit" in err
    assert main(["queue", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["state"] == "scheduled"  # nothing was written
    assert main(["queue", "send-now", "1", "--over-limit"]) == 0
    assert "Queued now" in capsys.readouterr().err
