"""What Send would do, before anything is written: who gets it, who is skipped and why, how
many segments, what it may cost, and whether to ask first. Real SQLite, no network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smsdesk.domain.errors import InvalidInput, OptedOut
from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from smsdesk.storage import optouts as opt_store


@pytest.fixture
def rt(_isolated_home: Path) -> Iterator[Runtime]:
    runtime = Runtime.open(str(_isolated_home))
    try:
        yield runtime
    finally:
        runtime.close()


def _sandbox_id(rt: Runtime) -> int:
    return rt.accounts.by_name("Sandbox").id


def _opt_out(rt: Runtime, number: str, source: str = "reply") -> None:
    rt.store.db.write_sync(lambda c: opt_store.add(c, number, source))


def test_a_new_account_has_no_price_so_the_cost_is_unknown(rt: Runtime) -> None:
    plan = rt.sending.plan(Draft(_sandbox_id(rt), ["07911 123456"], "Hello"))
    assert plan.price_per_segment is None and plan.cost is None  # unknown, never 0.00


@pytest.mark.asyncio
async def test_count_segments_and_cost_of_a_send(rt: Runtime) -> None:
    account = rt.accounts.by_name("Sandbox")
    await rt.accounts.update(account, {"price_per_segment": "0.04"})
    numbers = [f"07911 12345{i}" for i in range(7)] + ["+447911123450"]  # the last one twice
    plan = rt.sending.plan(Draft(account.id, numbers, "x" * 200))  # 2 segments each
    assert plan.numbers == [f"+4479111234{5}{i}" for i in range(7)]
    assert (plan.segments, plan.total_segments) == (2, 14)
    assert plan.price_per_segment == 0.04 and plan.cost == pytest.approx(0.56)
    assert plan.opted_out == []


def test_ask_first_from_the_threshold_in_settings(rt: Runtime) -> None:
    account_id = _sandbox_id(rt)
    assert rt.settings.confirm_send_threshold == 5  # the default
    four = [f"07911 12345{i}" for i in range(4)]
    assert not rt.sending.plan(Draft(account_id, four, "Hi")).confirm
    assert rt.sending.plan(Draft(account_id, [*four, "07911 123459"], "Hi")).confirm
    rt.settings.confirm_send_threshold = 0  # never ask
    assert not rt.sending.plan(Draft(account_id, [*four, "07911 123459"], "Hi")).confirm


@pytest.mark.asyncio
async def test_opted_out_numbers_are_named_and_skipped_only_when_agreed(rt: Runtime) -> None:
    account_id = _sandbox_id(rt)
    _opt_out(rt, "+447911123451", "reply")
    _opt_out(rt, "+447911123452", "manual")
    draft = Draft(account_id, ["07911 123450", "07911 123451", "07911 123452", "07911 123453"], "Hi")
    plan = rt.sending.plan(draft)
    assert plan.numbers == ["+447911123450", "+447911123453"]
    assert [s.number for s in plan.opted_out] == ["+447911123451", "+447911123452"]
    assert plan.opted_out[0].how.startswith("replied STOP on ")
    assert plan.opted_out[1].how.startswith("added to the opt-out list by hand on ")
    assert plan.opted_out[0].message.startswith("07911 123451 has opted out (replied STOP on ")

    with pytest.raises(OptedOut):  # not agreed: nothing is written
        await rt.sending.send(draft)
    assert rt.sending.messages.recent(10) == []

    draft.skip_opted_out = True
    sent = await rt.sending.send(draft)
    assert sorted(m.remote for m in sent) == ["+447911123450", "+447911123453"]


def test_when_every_number_opted_out_there_is_nothing_to_skip_to(rt: Runtime) -> None:
    _opt_out(rt, "+447911123451")
    with pytest.raises(OptedOut, match="07911 123451 has opted out"):
        rt.sending.plan(Draft(_sandbox_id(rt), ["07911 123451"], "Hi", skip_opted_out=True))


def test_a_number_that_cannot_be_used_still_stops_the_send(rt: Runtime) -> None:
    _opt_out(rt, "+447911123451")
    with pytest.raises(InvalidInput, match="'12345'") as err:
        rt.sending.plan(Draft(_sandbox_id(rt), ["07911 123450", "07911 123451", "12345"], "Hi"))
    assert not isinstance(err.value, OptedOut)


def test_an_empty_message_is_refused_before_anyone_is_asked(rt: Runtime) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        rt.sending.plan(Draft(_sandbox_id(rt), ["07911 123450"] * 6, "  "))
