"""The scheduled queue end to end: real SQLite file, real sandbox over loopback, injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.schedule import Recurrence
from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.scheduler import ScheduleRequest
from tests.support.sched import Clock, fast_sandbox, open_runtime
from tests.support.wait import until

A, B, C = "07911 123456", "07911 123457", "07911 123458"


@pytest_asyncio.fixture
async def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def rt(_isolated_home: Path, clock: Clock) -> AsyncIterator[Runtime]:
    runtime = open_runtime(_isolated_home, clock)
    await runtime.start(tunnel=False, polling=False)
    fast_sandbox(runtime, clock)
    try:
        yield runtime
    finally:
        await runtime.stop()
        runtime.close()


def sandbox_id(rt: Runtime) -> int:
    return rt.accounts.by_name("Sandbox").id


def sent(rt: Runtime) -> list[tuple[str, str]]:
    assert rt.sandbox is not None
    return [(s.recipient, s.content) for s in rt.sandbox.server.sent]


@pytest.mark.asyncio
async def test_due_item_goes_once_and_history_counts_outcomes(rt: Runtime, clock: Clock) -> None:
    item = await rt.scheduler.create(
        ScheduleRequest(sandbox_id(rt), [A, B], "Your table is booked", clock.now + timedelta(hours=1))
    )
    assert item.state == "scheduled" and item.recipient_count == 2 and item.location == "local"
    await rt.scheduler.tick()
    assert sent(rt) == []  # not due yet
    clock.advance(hours=1, seconds=1)
    rt.scheduler.kick()
    await until(lambda: rt.scheduler.get(item.id).state == "done")
    assert sorted(sent(rt)) == [("+447911123456", "Your table is booked"), ("+447911123457", "Your table is booked")]
    [run] = rt.scheduler.history(item.id)
    assert run["counts"] == {"delivered": 2} and run["state"] == "done"
    for _ in range(3):
        await rt.scheduler.tick()
    assert len(sent(rt)) == 2


@pytest.mark.asyncio
async def test_time_in_the_past_is_refused(rt: Runtime, clock: Clock) -> None:
    with pytest.raises(InvalidInput, match="in the past"):
        await rt.scheduler.create(ScheduleRequest(sandbox_id(rt), [A], "late", clock.now - timedelta(hours=2)))
    assert rt.scheduler.items() == []


@pytest.mark.asyncio
async def test_item_due_while_closed_is_sent_on_start_or_held_when_too_late(_isolated_home: Path) -> None:
    clock = Clock()
    closed = open_runtime(_isolated_home, clock)  # the app runs, schedules, is closed
    acct = sandbox_id(closed)
    soon = await closed.scheduler.create(ScheduleRequest(acct, [A], "soon", clock.now + timedelta(minutes=10)))
    early = await closed.scheduler.create(ScheduleRequest(acct, [B], "early", clock.now + timedelta(minutes=1)))
    closed.close()

    clock.advance(minutes=70)  # reopened: "soon" is 60 min late (at the limit), "early" 69 min
    rt = open_runtime(_isolated_home, clock)
    await rt.start(tunnel=False, polling=False)
    fast_sandbox(rt, clock)
    try:
        await until(lambda: rt.scheduler.get(soon.id).state == "done")
        await until(lambda: rt.scheduler.get(early.id).state == "held")
        held = rt.scheduler.get(early.id)
        assert "while smsdesk was not running" in held.reason and "confirm" in held.reason
        assert rt.scheduler.held_count() == 1
        assert sent(rt) == [("+447911123456", "soon")]
        await rt.scheduler.send_now(early.id)  # the person confirms
        await until(lambda: rt.scheduler.get(early.id).state == "done")
        assert sorted(sent(rt)) == [("+447911123456", "soon"), ("+447911123457", "early")]
    finally:
        await rt.stop()
        rt.close()


@pytest.mark.asyncio
async def test_held_item_can_be_skipped(rt: Runtime, clock: Clock) -> None:
    rt.settings.overdue_limit_minutes = 5
    item = await rt.scheduler.create(
        ScheduleRequest(sandbox_id(rt), [A], "daily", clock.now + timedelta(minutes=1), recurrence=Recurrence("daily"))
    )
    clock.advance(minutes=30)
    await rt.scheduler.tick()
    assert rt.scheduler.get(item.id).state == "held"
    after = await rt.scheduler.skip(item.id)
    assert after.state == "scheduled" and after.next_run == item.next_run + timedelta(days=1)
    assert sent(rt) == []


@pytest.mark.asyncio
async def test_recurring_daily_runs_each_day_in_local_time(rt: Runtime, clock: Clock) -> None:
    # Europe/London springs forward on Sunday 28 March 2027 (the clock only moves forward here:
    # the background loop must never see time go backwards)
    clock.now = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)
    item = await rt.scheduler.create(
        ScheduleRequest(
            sandbox_id(rt),
            [A],
            "Daily stand-up",
            datetime(2027, 3, 27, 9, 0),
            zone="Europe/London",
            recurrence=Recurrence("daily"),
        )
    )
    expected = [
        datetime(2027, 3, 27, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 28, 8, 0, tzinfo=UTC),
        datetime(2027, 3, 29, 8, 0, tzinfo=UTC),
    ]
    assert item.next_run == expected[0]
    for n, due in enumerate(expected, start=1):
        clock.now = due + timedelta(seconds=5)
        await rt.scheduler.tick()
        await until(lambda n=n: len(sent(rt)) == n)
        await until(lambda: rt.scheduler.get(item.id).state == "scheduled")
    assert rt.scheduler.get(item.id).next_run == datetime(2027, 3, 30, 8, 0, tzinfo=UTC)
    assert len(rt.scheduler.history(item.id)) == 3


@pytest.mark.asyncio
async def test_recurring_daily_goes_once_in_the_hour_that_repeats_when_clocks_go_back(
    rt: Runtime, clock: Clock
) -> None:
    # Europe/London falls back on Sunday 31 October 2027: 01:00-02:00 happens twice (BST, then
    # GMT). A daily 01:30 send goes at the first 01:30 that night, not at both, and keeps 01:30
    # local time on either side.
    clock.now = datetime(2027, 10, 29, 12, 0, tzinfo=UTC)
    item = await rt.scheduler.create(
        ScheduleRequest(
            sandbox_id(rt),
            [A],
            "Night shift reminder",
            datetime(2027, 10, 30, 1, 30),
            zone="Europe/London",
            recurrence=Recurrence("daily"),
        )
    )
    first_0130 = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST
    second_0130 = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 01:30 GMT, an hour later
    steps = [
        (datetime(2027, 10, 30, 0, 30, tzinfo=UTC), 1),
        (first_0130, 2),
        (second_0130, 2),
        (datetime(2027, 11, 1, 1, 30, tzinfo=UTC), 3),
    ]
    assert item.next_run == steps[0][0]
    for at, expected in steps:
        clock.now = at + timedelta(seconds=5)
        await rt.scheduler.tick()
        await until(lambda expected=expected: len(sent(rt)) == expected)
        await until(lambda: rt.scheduler.get(item.id).state == "scheduled")
        if at == first_0130:
            assert rt.scheduler.get(item.id).next_run == datetime(2027, 11, 1, 1, 30, tzinfo=UTC)
    assert len(sent(rt)) == 3 and len(rt.scheduler.history(item.id)) == 3
    assert [r["due"][:16] for r in reversed(rt.scheduler.history(item.id))] == [
        "2027-10-30T00:30",
        "2027-10-31T00:30",
        "2027-11-01T01:30",
    ]


@pytest.mark.asyncio
async def test_quiet_hours_defer_a_message_until_the_window_opens(rt: Runtime, clock: Clock) -> None:
    await rt.scheduler.provider.set_quiet_hours(sandbox_id(rt), "21:00-08:00")
    clock.now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    item = await rt.scheduler.create(
        ScheduleRequest(
            sandbox_id(rt), [A, "+1 212 555 0100"], "Reminder", datetime(2026, 11, 23, 22, 30), zone="Europe/London"
        )
    )
    clock.now = datetime(2026, 11, 23, 22, 30, 1, tzinfo=UTC)
    await rt.scheduler.tick()
    # London is in quiet hours (22:30); New York (17:30) is not
    await until(lambda: len(sent(rt)) == 1)
    assert sent(rt) == [("+12125550100", "Reminder")]
    fresh = rt.scheduler.get(item.id)
    assert fresh.state == "running" and "quiet hours" in fresh.reason.lower()
    assert "Europe/London" in fresh.last_run["note"]
    [waiting] = [m for m in rt.sending.messages.recent(10, "out") if m.remote == "+447911123456"]
    assert waiting.status == Status.SCHEDULED and waiting.raw_status == "quiet hours"
    assert waiting.send_at.startswith("2026-11-24T08:00")
    clock.now = datetime(2026, 11, 24, 8, 0, 1, tzinfo=UTC)
    await rt.scheduler.tick()
    await until(lambda: len(sent(rt)) == 2)
    await until(lambda: rt.scheduler.get(item.id).state == "done")
    assert len(sent(rt)) == 2


@pytest.mark.asyncio
async def test_edit_before_it_starts_changes_what_is_sent(rt: Runtime, clock: Clock) -> None:
    item = await rt.scheduler.create(ScheduleRequest(sandbox_id(rt), [A], "draft", clock.now + timedelta(hours=2)))
    edited = await rt.scheduler.edit(
        item.id, item.version, text="final text", recipients=[B, C], when=clock.now + timedelta(hours=1)
    )
    assert edited.recipient_count == 2 and edited.next_run == clock.now + timedelta(hours=1)
    with pytest.raises(InvalidInput, match="changed elsewhere"):
        await rt.scheduler.edit(item.id, item.version, text="stale window")
    clock.advance(hours=1, seconds=1)
    await rt.scheduler.tick()
    await until(lambda: len(sent(rt)) == 2)
    assert {t for _, t in sent(rt)} == {"final text"}
    with pytest.raises(InvalidInput):
        await rt.scheduler.edit(item.id, rt.scheduler.get(item.id).version, text="too late")


@pytest.mark.asyncio
async def test_pause_and_resume_a_run_in_progress(_isolated_home: Path) -> None:
    clock = Clock()
    rt = open_runtime(_isolated_home, clock)
    await rt.start(tunnel=False, polling=False, dispatcher=False)  # we drive the loop by hand
    fast_sandbox(rt, clock)
    try:
        nums = [f"07911 1234{i:02d}" for i in range(10)]
        item = await rt.scheduler.create(
            ScheduleRequest(sandbox_id(rt), nums, "Sale!", clock.now + timedelta(minutes=1))
        )
        clock.advance(minutes=1, seconds=1)
        assert await rt.scheduler.tick() == 1
        assert rt.scheduler.get(item.id).state == "running"
        await rt.scheduler.pause(item.id)
        paused = rt.sending.messages.get_many(rt.scheduler.repo.message_ids(item.id))
        assert {m.status for m in paused} == {Status.SCHEDULED} and {m.raw_status for m in paused} == {"paused"}
        rt.spawn(rt.dispatcher.run())
        await rt.scheduler.tick()
        assert sent(rt) == []  # the dispatcher finds nothing to send while paused
        await rt.scheduler.resume(item.id)
        await until(lambda: len(sent(rt)) == 10)
        rt.spawn(rt.scheduler.run())  # from here on the loop closes the run by itself
        await until(lambda: rt.scheduler.get(item.id).state == "done")
    finally:
        await rt.stop()
        rt.close()


@pytest.mark.asyncio
async def test_cancel_before_and_during_a_run(rt: Runtime, clock: Clock) -> None:
    item = await rt.scheduler.create(ScheduleRequest(sandbox_id(rt), [A], "never", clock.now + timedelta(hours=1)))
    assert (await rt.scheduler.cancel(item.id)).startswith("Cancelled")
    clock.advance(hours=2)
    await rt.scheduler.tick()
    assert rt.scheduler.get(item.id).state == "cancelled" and sent(rt) == []
    with pytest.raises(InvalidInput):
        await rt.scheduler.cancel(item.id)


@pytest.mark.asyncio
async def test_opted_out_recipient_is_skipped_at_run_time(rt: Runtime, clock: Clock) -> None:
    from smsdesk.storage import optouts as opt_store

    item = await rt.scheduler.create(ScheduleRequest(sandbox_id(rt), [A, B], "hi", clock.now + timedelta(minutes=5)))
    await rt.store.db.write(lambda c: opt_store.add(c, "+447911123457", "test", "STOP"))
    clock.advance(minutes=6)
    await rt.scheduler.tick()
    await until(lambda: rt.scheduler.get(item.id).state == "done")
    assert sent(rt) == [("+447911123456", "hi")]
    assert rt.scheduler.history(item.id)[0]["skipped"] == 1
