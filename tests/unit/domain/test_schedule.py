"""Recurrence, daylight saving and quiet hours (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from itertools import islice

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.schedule import (
    QuietHours,
    Recurrence,
    defer_for_quiet,
    is_skipped,
    next_run,
    occurrences,
    to_local,
    to_utc,
)

LONDON = "Europe/London"


def _local(instants, zone=LONDON):
    return [to_local(i, zone).strftime("%Y-%m-%d %H:%M %Z") for i in instants]


def test_daily_0900_stays_0900_local_across_spring_forward() -> None:
    runs = list(islice(occurrences(Recurrence("daily"), datetime(2026, 3, 28, 9, 0), LONDON), 3))
    assert _local(runs) == ["2026-03-28 09:00 GMT", "2026-03-29 09:00 BST", "2026-03-30 09:00 BST"]
    assert [r.hour for r in runs] == [9, 8, 8]  # UTC moves, the wall clock does not


def test_daily_0900_stays_0900_local_across_fall_back() -> None:
    runs = list(islice(occurrences(Recurrence("daily"), datetime(2026, 10, 24, 9, 0), LONDON), 3))
    assert _local(runs) == ["2026-10-24 09:00 BST", "2026-10-25 09:00 GMT", "2026-10-26 09:00 GMT"]


def test_skipped_0130_runs_at_0230_bst_then_returns_to_0130() -> None:
    wall = datetime(2026, 3, 29, 1, 30)
    assert is_skipped(wall, LONDON)
    runs = list(islice(occurrences(Recurrence("daily"), datetime(2026, 3, 28, 1, 30), LONDON), 3))
    assert _local(runs) == ["2026-03-28 01:30 GMT", "2026-03-29 02:30 BST", "2026-03-30 01:30 BST"]
    # no two runs collapse onto one instant, none is lost
    assert len(set(runs)) == 3


def test_repeated_0130_runs_once_at_the_first_occurrence() -> None:
    runs = list(islice(occurrences(Recurrence("daily"), datetime(2026, 10, 24, 1, 30), LONDON), 3))
    assert _local(runs) == ["2026-10-24 01:30 BST", "2026-10-25 01:30 BST", "2026-10-26 01:30 GMT"]
    assert runs[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # asking for the run after the first 01:30 gives the next day, not the second 01:30
    assert next_run(Recurrence("daily"), datetime(2026, 10, 24, 1, 30), LONDON, runs[1]) == runs[2]


def test_weekly_on_chosen_days() -> None:
    rule = Recurrence.parse("weekly:mon,wed,fri")
    # 2026-11-24 is a Tuesday
    runs = list(islice(occurrences(rule, datetime(2026, 11, 24, 18, 0), LONDON), 5))
    assert [r.strftime("%a %d") for r in runs] == ["Wed 25", "Fri 27", "Mon 30", "Wed 02", "Fri 04"]


def test_every_second_week() -> None:
    rule = Recurrence.parse("weekly/2:tue")
    runs = list(islice(occurrences(rule, datetime(2026, 11, 24, 9, 0), LONDON), 3))
    assert [r.strftime("%m-%d") for r in runs] == ["11-24", "12-08", "12-22"]


def test_monthly_31st_uses_last_day_of_short_months_and_returns() -> None:
    rule = Recurrence.parse("monthly")
    runs = list(islice(occurrences(rule, datetime(2027, 1, 31, 10, 0), LONDON), 6))
    assert [r.strftime("%m-%d") for r in runs] == ["01-31", "02-28", "03-31", "04-30", "05-31", "06-30"]
    leap = list(islice(occurrences(rule, datetime(2028, 1, 31, 10, 0), LONDON), 2))
    assert leap[1].strftime("%m-%d") == "02-29"


def test_monthly_explicit_day_starting_mid_month() -> None:
    runs = list(islice(occurrences(Recurrence.parse("monthly:31"), datetime(2027, 4, 10, 8, 0), LONDON), 2))
    assert [r.strftime("%m-%d") for r in runs] == ["04-30", "05-31"]


def test_next_run_after_a_long_gap_skips_missed_runs() -> None:
    first = datetime(2026, 1, 1, 9, 0)
    after = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    nxt = next_run(Recurrence("daily"), first, LONDON, after)
    assert _local([nxt]) == ["2026-11-23 09:00 GMT"]
    assert next_run(Recurrence("once"), first, LONDON, after) is None


def test_recurrence_text_round_trip_and_errors() -> None:
    for text in ("once", "daily", "daily/3", "weekly:mon,fri", "monthly:31", "monthly/2"):
        assert Recurrence.parse(text).text() == text
        assert Recurrence.from_json(Recurrence.parse(text).to_json()) == Recurrence.parse(text)
    assert Recurrence.parse("weekly:mon,fri").describe() == "Every week on Mon, Fri"
    for bad in ("hourly", "weekly:funday", "monthly:x", "daily:3"):
        with pytest.raises(InvalidInput):
            Recurrence.parse(bad)


def test_to_utc_rejects_unknown_zone() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        to_utc(datetime(2026, 1, 1), "Mars/Olympus")


# ---- quiet hours -----------------------------------------------------------------------------
def test_quiet_hours_parse_and_contains() -> None:
    q = QuietHours.parse("21:00-08:00")
    assert q is not None and q.text() == "21:00-08:00"
    assert q.contains(time(22, 0)) and q.contains(time(7, 59)) and not q.contains(time(8, 0))
    assert QuietHours.parse("") is None
    with pytest.raises(InvalidInput):
        QuietHours.parse("9pm-8am")


def test_message_due_in_quiet_hours_waits_for_the_window_to_open() -> None:
    q = QuietHours.parse("21:00-08:00")
    due = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 22:30 in London (GMT)
    d = defer_for_quiet(due, ["Europe/London"], q)
    assert d.at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert d.reason and "21:00-08:00" in d.reason and "Europe/London" in d.reason
    ok = defer_for_quiet(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), ["Europe/London"], q)
    assert ok.at == datetime(2026, 11, 22, 12, 0, tzinfo=UTC) and ok.reason is None


def test_quiet_hours_use_the_recipients_zone_not_ours() -> None:
    q = QuietHours.parse("21:00-08:00")
    # 12:00 UTC is 13:00 in Paris (fine) but 01:00 in Los Angeles (quiet until 08:00 PST = 16:00 UTC)
    d = defer_for_quiet(datetime(2026, 11, 22, 9, 0, tzinfo=UTC), ["America/Los_Angeles"], q)
    assert d.at == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)


def test_several_zones_take_the_most_restrictive() -> None:
    q = QuietHours.parse("21:00-08:00")
    zones = ["America/New_York", "America/Chicago", "America/Los_Angeles"]
    # 13:00 UTC: 08:00 New York (open), 07:00 Chicago, 05:00 LA (quiet) -> 08:00 in LA = 16:00 UTC
    d = defer_for_quiet(datetime(2026, 11, 22, 13, 0, tzinfo=UTC), zones, q)
    assert d.at == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert "America/Los_Angeles" in (d.reason or "")
    # 02:30 UTC is 21:30 in New York: quiet there although LA (18:30) is open
    d2 = defer_for_quiet(datetime(2026, 11, 23, 2, 30, tzinfo=UTC), zones, q)
    assert d2.at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def test_quiet_hours_opening_respects_dst() -> None:
    q = QuietHours.parse("21:00-08:00")
    # Saturday 28 March 2026 22:00 GMT; the window opens at 08:00 BST on Sunday = 07:00 UTC
    d = defer_for_quiet(datetime(2026, 3, 28, 22, 0, tzinfo=UTC), [LONDON], q)
    assert d.at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
