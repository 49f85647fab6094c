"""An account's monthly spending limit: sends beyond it wait for a person, with the reason.

The Sandbox account is priced at 0.10 GBP per part with a limit of 0.25 GBP a month, so two
one-part messages fit and a third does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from smsdesk.domain.autoreply import Match, RuleKind
from smsdesk.domain.errors import InvalidInput
from smsdesk.runtime import Runtime
from smsdesk.services.scheduler import ScheduleRequest
from smsdesk.services.send import Draft, OverLimit
from tests.support.bulk_flow import ready_to_send
from tests.support.sched import Clock, fast_sandbox, open_runtime
from tests.support.wait import until

REASON = "over its monthly limit of £0.25 (£0.20 spent so far)"


async def _limited(rt: Runtime) -> int:
    acct = rt.accounts.by_name("Sandbox")
    await rt.accounts.update(
        acct, {**acct.settings, "price_per_segment": "0.10", "currency": "GBP", "monthly_limit": "0.25"}
    )
    await rt.sending.send(Draft(acct.id, ["07911 100001", "07911 100002"], "Two of them"))
    return acct.id


async def _settled(rt: Runtime) -> None:
    await until(lambda: all(m.status.is_final for m in rt.sending.messages.recent(50, direction="out")))


@pytest.mark.asyncio
async def test_a_send_over_the_monthly_limit_waits_for_a_yes(runtime: Runtime) -> None:
    acct = await _limited(runtime)
    draft = Draft(acct, ["07911 100003"], "One more")
    plan = runtime.sending.plan(draft)
    assert plan.over_limit == f"This would take Sandbox's spending this month to £0.30, {REASON}."
    assert plan.confirm  # asked for however few recipients
    with pytest.raises(OverLimit, match="Nothing was sent: confirm to send anyway"):
        await runtime.sending.send(draft)
    assert len(runtime.sending.messages.recent(10, direction="out")) == 2
    [sent] = await runtime.sending.send(Draft(acct, ["07911 100003"], "One more", over_limit_ok=True))
    assert sent.price_per_part == "0.10"
    await _settled(runtime)


@pytest.mark.asyncio
async def test_two_sends_that_each_fit_but_not_together_hold_the_second(runtime: Runtime) -> None:
    """Both sends are checked before either is written (two desktops of a workspace, or a
    reply beside a Compose send): the write checks again, so only the first goes."""
    acct = await _limited(runtime)
    account = runtime.accounts.get(acct)
    await runtime.accounts.update(account, {**account.settings, "monthly_limit": "0.35"})
    first, second = (Draft(acct, [n], "One more") for n in ("07911 100003", "07911 100004"))
    assert not runtime.sending.plan(first).over_limit and not runtime.sending.plan(second).over_limit
    async with _writer_held(runtime):  # both are checked before either is written
        sends = [asyncio.create_task(runtime.sending.queue(d)) for d in (first, second)]
        await _written_after(2)
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert isinstance(results[0], list) and len(results[0]) == 1
    assert isinstance(results[1], OverLimit)
    assert "close to its monthly limit of £0.35 meanwhile" in str(results[1])
    assert "Nothing was sent" in str(results[1])
    assert len(runtime.sending.messages.recent(10, direction="out")) == 3
    await _settled(runtime)


@pytest.mark.asyncio
async def test_an_automatic_reply_checked_beside_a_send_that_takes_the_limit_is_not_sent(runtime: Runtime) -> None:
    """A relay answering a reply while a desktop sends: both fit alone, and the automatic
    reply, written second, is the one that waits (logged, nothing queued)."""
    acct = await _limited(runtime)
    account = runtime.accounts.get(acct)
    await runtime.accounts.update(account, {**account.settings, "monthly_limit": "0.35"})
    srv = runtime.sandbox.server  # type: ignore[union-attr]
    assert runtime.sandbox.call(srv._post_inbound("+447911100009", srv.config.inbound_number, "open"))  # type: ignore[union-attr]
    [inbound] = await until(lambda: [m for m in runtime.sending.messages.recent(10) if m.direction == "in"])
    await until(lambda: not runtime.autoreplies.busy)
    await runtime.autoreplies.add(acct, RuleKind.KEYWORD, "Open till 6", ["open"], Match.WORD)  # after it came
    async with _writer_held(runtime):
        send = asyncio.create_task(runtime.sending.queue(Draft(acct, ["07911 100003"], "One more")))
        answer = asyncio.create_task(runtime.autoreplies.answer({inbound.id}))
        await _written_after(2)
    assert len(await send) == 1
    assert await answer == []
    out = runtime.sending.messages.recent(10, direction="out")
    assert len(out) == 3 and not [m for m in out if m.remote == "+447911100009"]
    await _settled(runtime)


@pytest.mark.asyncio
async def test_a_bulk_send_still_sending_counts_toward_the_limit(runtime: Runtime, tmp_path: Path) -> None:
    """A bulk send queues a window at a time: the rows it has still to queue are spending too,
    so a send that fits beside what was sent, but not beside the rest of the run, waits; a
    cancelled run's rows no longer count."""
    acct = await _limited(runtime)
    account = runtime.accounts.get(acct)
    await runtime.accounts.update(account, {**account.settings, "monthly_limit": "1.00"})
    runtime.bulk_send.window = 1
    run_id = await ready_to_send(runtime.bulk_send, _people(tmp_path, "five", 5), acct, "Hi {{name}}").start()
    await runtime.bulk_send.pause(run_id)  # one row queued, four to come
    assert runtime.store.reports.pending_parts(acct) == 4
    four = Draft(acct, ["07911 100003", "07911 100004", "07911 100007", "07911 100008"], "Four more")
    over = runtime.sending.plan(four).over_limit
    assert over == (
        "This would take Sandbox's spending this month to £1.10, over its monthly limit of £1.00 "
        "(£0.30 spent so far, £0.40 more in bulk sends still sending)."
    )
    await runtime.bulk_send.cancel(run_id)
    assert not runtime.sending.plan(four).over_limit  # 0.30 spent (or less: the queued row may be cancelled)
    await _settled(runtime)


@pytest.mark.asyncio
async def test_two_bulk_sends_that_each_fit_but_not_together_start_only_the_first(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Two desktops (or one person, twice) start a bulk send at the same moment: both pass the
    check alone, and the second is refused as it is written, with nothing stored."""
    acct = await _limited(runtime)
    account = runtime.accounts.get(acct)
    await runtime.accounts.update(account, {**account.settings, "monthly_limit": "0.60"})
    first, second = (
        ready_to_send(runtime.bulk_send, _people(tmp_path, name, 3), acct, "Hi {{name}}") for name in ("a", "b")
    )
    assert not first.over_limit() and not second.over_limit()  # 0.20 spent, 0.30 each: each fits alone
    async with _writer_held(runtime):
        starts = [asyncio.create_task(wiz.start()) for wiz in (first, second)]
        await _written_after(2)
    started, refused = await asyncio.gather(*starts, return_exceptions=True)
    assert isinstance(started, int)
    assert isinstance(refused, InvalidInput)
    assert "close to its monthly limit of £0.60 meanwhile" in str(refused) and "Nothing was sent" in str(refused)
    assert [r.id for r in runtime.bulk_send.repo.runs()] == [started]
    await until(lambda: runtime.bulk_send.progress(started).done, timeout=20)
    await _settled(runtime)
    assert len(runtime.sending.messages.recent(20, direction="out")) == 5
    assert runtime.store.reports.pending_parts(acct) == 0  # every row is a message now


def _people(folder: Path, name: str, count: int) -> Path:
    path = folder / f"{name}.csv"
    rows = "".join(f"{name}{i},0791120{i:04d}\n" for i in range(count))
    path.write_text(f"name,phone\n{rows}", encoding="utf-8")
    return path


_ASKED: ContextVar[list[int] | None] = ContextVar("asked", default=None)


@contextlib.asynccontextmanager
async def _writer_held(rt: Runtime) -> AsyncIterator[None]:
    """Hold the database's writer until the block ends: writes asked meanwhile wait, and run
    together after it, in the order they were asked. Writes asked by tasks the block starts
    are counted (:func:`_written_after`); the runtime's own background writes are not."""
    gate, holding = threading.Event(), threading.Event()
    db = rt.store.db
    original = db.write
    asked = [0]

    async def counted(fn: Any) -> Any:
        mine = _ASKED.get()
        if mine is not None:
            mine[0] += 1
        return await original(fn)

    def hold(_conn: object) -> None:
        holding.set()
        gate.wait(10)

    held = db.submit(hold)
    db.write = counted  # type: ignore[method-assign]
    token = _ASKED.set(asked)  # tasks created in the block count their writes here
    try:
        await until(holding.is_set)
        yield
    finally:
        _ASKED.reset(token)
        del db.write  # the class's own again
        gate.set()
        await asyncio.wrap_future(held)


async def _written_after(count: int) -> None:
    """Until the block's tasks have asked for ``count`` writes: each was checked and waits to be
    written (a slow machine takes longer than any fixed pause)."""
    asked = _ASKED.get()
    assert asked is not None, "only inside _writer_held"
    await until(lambda: asked[0] >= count, timeout=20)


@pytest.mark.asyncio
async def test_an_automatic_reply_is_not_sent_over_the_limit(runtime: Runtime) -> None:
    acct = await _limited(runtime)
    await runtime.autoreplies.add(acct, RuleKind.KEYWORD, "Open till 6", ["open"], Match.WORD)
    srv = runtime.sandbox.server  # type: ignore[union-attr]
    assert runtime.sandbox.call(srv._post_inbound("+447911100009", srv.config.inbound_number, "open"))  # type: ignore[union-attr]
    await until(lambda: any(m.direction == "in" for m in runtime.sending.messages.recent(10)))
    await until(lambda: not runtime.autoreplies.busy)
    await _settled(runtime)
    assert [s.content for s in srv.sent if s.recipient == "+447911100009"] == []


@pytest_asyncio.fixture
async def clocked(_isolated_home: Path) -> AsyncIterator[tuple[Runtime, Clock]]:
    clock = Clock()
    rt = open_runtime(_isolated_home, clock)
    await rt.start(tunnel=False, polling=False)
    fast_sandbox(rt, clock)
    try:
        yield rt, clock
    finally:
        await rt.stop()
        rt.close()


@pytest.mark.asyncio
async def test_a_scheduled_run_over_the_limit_is_held_until_confirmed(clocked: tuple[Runtime, Clock]) -> None:
    rt, clock = clocked
    acct = await _limited(rt)
    item = await rt.scheduler.create(
        ScheduleRequest(acct, ["07911 100004"], "Reminder", clock.now + timedelta(minutes=5))
    )
    clock.advance(minutes=6)
    await rt.scheduler.tick()
    held = rt.scheduler.get(item.id)
    assert held.state == "held" and REASON in held.reason and "Send now" in held.reason
    await rt.scheduler.send_now(item.id)  # a person confirms
    await until(lambda: len(rt.sending.messages.recent(10, direction="out")) == 3)
    await _settled(rt)


@pytest.mark.asyncio
async def test_send_now_on_a_scheduled_item_over_the_limit_asks_first(clocked: tuple[Runtime, Clock]) -> None:
    """Send now on an item that is not due yet: the run would go over the limit, so it is asked
    about (as a Compose send is) and nothing is written until the person says yes."""
    rt, clock = clocked
    acct = await _limited(rt)
    item = await rt.scheduler.create(ScheduleRequest(acct, ["07911 100004"], "Reminder", clock.now + timedelta(days=1)))
    with pytest.raises(OverLimit, match="Nothing was sent: confirm to send anyway") as refused:
        await rt.scheduler.send_now(item.id)
    assert refused.value.reason == f"This would take Sandbox's spending this month to £0.30, {REASON}."
    assert rt.scheduler.get(item.id).state == "scheduled"
    assert len(rt.sending.messages.recent(10, direction="out")) == 2
    await rt.scheduler.send_now(item.id, over_limit_ok=True)
    await until(lambda: len(rt.sending.messages.recent(10, direction="out")) == 3)
    await _settled(rt)


@pytest.mark.asyncio
async def test_a_bulk_send_over_the_limit_needs_the_tick(runtime: Runtime, tmp_path: Path) -> None:
    acct = await _limited(runtime)
    people = tmp_path / "people.csv"
    people.write_text("name,phone\nAnn,07911100005\nBob,07911100006\n", encoding="utf-8")
    wiz = ready_to_send(runtime.bulk_send, people, acct, "Hi {{name}}")
    assert wiz.over_limit() == f"This would take Sandbox's spending this month to £0.40, {REASON}."
    with pytest.raises(InvalidInput, match="Tick 'Send over the limit' to send anyway"):
        await wiz.start()
    wiz.over_limit_ok = True
    run_id = await wiz.start()
    await until(lambda: runtime.bulk_send.progress(run_id).done, timeout=20)
    await _settled(runtime)


@pytest.mark.asyncio
async def test_a_scheduled_run_that_a_send_meanwhile_takes_over_the_limit_is_held(
    clocked: tuple[Runtime, Clock],
) -> None:
    """A due run fits when checked, but a send written meanwhile takes the room: the run's write
    checks again, and the run waits for a person instead of going over."""
    rt, clock = clocked
    acct = await _limited(rt)
    account = rt.accounts.get(acct)
    await rt.accounts.update(account, {**account.settings, "monthly_limit": "0.35"})
    item = await rt.scheduler.create(
        ScheduleRequest(acct, ["07911 100004"], "Reminder", clock.now + timedelta(minutes=5))
    )
    async with _writer_held(rt):
        send = asyncio.create_task(rt.sending.queue(Draft(acct, ["07911 100003"], "One more")))
        await _written_after(1)  # checked (0.30 fits) and waiting to be written
        clock.advance(minutes=6)
        tick = asyncio.create_task(rt.scheduler.tick())
        await _written_after(2)  # the run checked too (0.30 fits) and waiting to be written
    assert len(await send) == 1
    await tick
    held = rt.scheduler.get(item.id)
    assert held.state == "held", held
    assert "close to its monthly limit of £0.35 meanwhile" in held.reason and "Send now" in held.reason
    assert len(rt.sending.messages.recent(10, direction="out")) == 3
    await _settled(rt)
