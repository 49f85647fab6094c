"""Two dispatchers on one database file (the GUI and ``smsdesk serve``), edits and cancels racing
the due loop, and provider-side scheduling. Sends are counted at the sandbox."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.scheduler import ScheduleRequest
from tests.support.sched import Clock, fast_sandbox, open_runtime, share_sandbox
from tests.support.wait import until


@pytest_asyncio.fixture
async def pair(_isolated_home: Path) -> AsyncIterator[tuple[Runtime, Runtime, Clock]]:
    """GUI-like runtime ``a`` (with the sandbox) and serve-like runtime ``b``, one database file."""
    clock = Clock()
    a = open_runtime(_isolated_home, clock)
    b = open_runtime(_isolated_home, clock)
    await a.start(tunnel=False, polling=False)
    fast_sandbox(a, clock)
    await b.start(receiver=False, sandbox=False, tunnel=False, polling=False)
    share_sandbox(a, b)
    try:
        yield a, b, clock
    finally:
        await b.stop()
        await a.stop()
        b.close()
        a.close()


def refs(rt: Runtime) -> Counter[str]:
    assert rt.sandbox is not None
    return Counter(s.client_reference or "" for s in rt.sandbox.server.sent)


@pytest.mark.asyncio
async def test_two_dispatchers_on_one_database_never_double_send(pair: tuple[Runtime, Runtime, Clock]) -> None:
    a, b, clock = pair
    acct = a.accounts.by_name("Sandbox").id
    ids = []
    for i in range(12):
        svc = a.scheduler if i % 2 else b.scheduler
        item = await svc.create(
            ScheduleRequest(
                acct, [f"07911 12{i:02d}01", f"07911 12{i:02d}02"], f"run {i}", clock.now + timedelta(minutes=5)
            )
        )
        ids.append(item.id)
    clock.advance(minutes=5, seconds=1)
    # both loops run on their own; hammer them with extra concurrent passes as well
    for _ in range(3):
        await asyncio.gather(a.scheduler.tick(), b.scheduler.tick(), a.scheduler.tick(), b.scheduler.tick())
    await until(lambda: all(a.scheduler.get(i).state == "done" for i in ids), timeout=20)
    counts = refs(a)
    assert len(counts) == 24 and set(counts.values()) == {1}
    runs = [len(a.scheduler.history(i)) for i in ids]
    assert runs == [1] * 12
    # which of the two made each run varies from run to run; that each item ran once does not


@pytest.mark.asyncio
async def test_edit_racing_the_due_loop_is_all_or_nothing(pair: tuple[Runtime, Runtime, Clock]) -> None:
    a, b, clock = pair
    acct = a.accounts.by_name("Sandbox").id
    for i in range(6):
        item = await a.scheduler.create(
            ScheduleRequest(acct, [f"07911 13{i:02d}00"], "old text", clock.now + timedelta(minutes=1))
        )
        clock.advance(minutes=1, seconds=1)
        edit = b.scheduler.edit(item.id, item.version, text="new text")
        results = await asyncio.gather(a.scheduler.tick(), edit, return_exceptions=True)
        edited = not isinstance(results[1], BaseException)
        if not edited:
            assert isinstance(results[1], InvalidInput)
        await until(lambda item=item: a.scheduler.get(item.id).state == "done", timeout=15)
        [msg] = a.sending.messages.get_many(a.scheduler.repo.message_ids(item.id))
        assert msg.body == ("new text" if edited else "old text")
    # Which side wins here is up to the loops; both sides winning is forced in the next test.
    assert set(refs(a).values()) == {1} and len(refs(a)) == 6


def _one_write_late(rt: Runtime, which: str, first: Callable[[], Awaitable[object]]) -> None:
    """Make ``rt``'s next write made by ``which`` (a function's qualified name) wait until
    ``first()`` has finished: the other process acts inside this one's read-then-write window."""
    original = rt.store.db.write

    async def write(fn: Callable[..., Any]) -> Any:
        if which in getattr(fn, "__qualname__", ""):
            rt.store.db.write = original  # type: ignore[method-assign]
            await first()
        return await original(fn)

    rt.store.db.write = write  # type: ignore[method-assign]


@pytest.mark.asyncio
async def test_edit_and_run_each_win_the_race_and_the_loser_changes_nothing(
    pair: tuple[Runtime, Runtime, Clock],
) -> None:
    a, b, clock = pair
    a.scheduler.stop()  # this test makes the runs itself, at the exact moments it needs
    b.scheduler.stop()
    await asyncio.sleep(0.1)
    acct = a.accounts.by_name("Sandbox").id
    outcomes: list[str] = []
    for i in range(4):
        item = await a.scheduler.create(
            ScheduleRequest(acct, [f"07911 15{i:02d}00"], "old text", clock.now + timedelta(minutes=1))
        )
        clock.advance(minutes=1, seconds=1)
        if i % 2 == 0:
            # b read the item and is about to save the edit when a's due loop starts the run
            _one_write_late(b, "ScheduleRepository.edit", a.scheduler.tick)
            with pytest.raises(InvalidInput, match="started sending"):
                await b.scheduler.edit(item.id, item.version, text="new text")
            outcomes.append("run won")
        else:
            # a planned the run and is about to claim it when b's edit lands
            _one_write_late(
                a,
                "ScheduleRepository.start_run",
                lambda item=item: b.scheduler.edit(item.id, item.version, text="new text"),
            )
            assert await a.scheduler.tick() == 0  # the claim is refused: the plan was of the old text
            assert a.scheduler.get(item.id).state == "scheduled" and not a.scheduler.history(item.id)
            assert await a.scheduler.tick() == 1  # the next pass runs what the person saved
            outcomes.append("edit won")
        await until(lambda item=item: a.scheduler.get(item.id).state == "running", timeout=5)
        [msg] = a.sending.messages.get_many(a.scheduler.repo.message_ids(item.id))
        assert msg.body == ("new text" if outcomes[-1] == "edit won" else "old text")
        await until(lambda msg=msg: a.sending.messages.get(msg.id).local_id in refs(a), timeout=15)
    assert outcomes == ["run won", "edit won", "run won", "edit won"]
    assert len(refs(a)) == 4 and set(refs(a).values()) == {1}
    assert sorted(s.content for s in a.sandbox.server.sent) == ["new text", "new text", "old text", "old text"]


@pytest.mark.asyncio
async def test_cancel_racing_the_due_loop_never_sends_a_cancelled_message(pair: tuple[Runtime, Runtime, Clock]) -> None:
    a, b, clock = pair
    acct = a.accounts.by_name("Sandbox").id
    for i in range(6):
        nums = [f"07911 14{i:02d}{j:02d}" for j in range(5)]
        item = await a.scheduler.create(ScheduleRequest(acct, nums, "maybe", clock.now + timedelta(minutes=1)))
        clock.advance(minutes=1, seconds=1)
        await asyncio.gather(a.scheduler.tick(), b.scheduler.cancel(item.id), return_exceptions=True)
        assert a.scheduler.get(item.id).state == "cancelled"
    await asyncio.sleep(0)
    await until(
        lambda: not a.store.db.query("SELECT 1 FROM messages WHERE status IN ('queued', 'scheduled')"), timeout=15
    )
    sent_refs = refs(a)
    assert set(sent_refs.values()) <= {1}
    for m in a.sending.messages.recent(100, "out"):
        if m.status == Status.CANCELLED:
            assert m.local_id not in sent_refs
        else:
            assert m.local_id in sent_refs


@pytest.mark.asyncio
async def test_provider_side_schedule_is_handed_over_and_cancelled_with_delete(
    pair: tuple[Runtime, Runtime, Clock],
) -> None:
    a, _b, clock = pair
    acct = a.accounts.by_name("Sandbox").id
    assert "cancel" in a.scheduler.provider.notice(a.accounts.get(acct)).lower()
    await a.scheduler.provider.set_opt_in(acct, True)
    when = clock.now + timedelta(days=2)
    item = await a.scheduler.create(ScheduleRequest(acct, ["07911 123456"], "at the provider", when))
    assert item.location == "provider"
    item = await until(lambda: (it := a.scheduler.get(item.id)).handed_off and it)  # by a's or b's loop
    assert a.sandbox is not None
    [rec] = a.sandbox.server.sent
    assert rec.send_at == when.strftime("%Y-%m-%dT%H:%M:%SZ") and rec.status == "Queued"
    [msg] = a.sending.messages.get_many(a.scheduler.repo.message_ids(item.id))
    assert msg.status == Status.SCHEDULED and msg.provider_message_id == rec.id
    await a.scheduler.tick()  # the local loop must leave it alone
    assert len(a.sandbox.server.sent) == 1
    await a.scheduler.cancel(item.id)
    assert rec.status == "Cancelled"
    [msg] = a.sending.messages.get_many([msg.id])
    assert msg.status == Status.CANCELLED


@pytest.mark.asyncio
async def test_opt_in_is_refused_without_acknowledgement_when_the_provider_cannot_cancel(
    pair: tuple[Runtime, Runtime, Clock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    from smsdesk.providers import puresms
    from smsdesk.providers import sandbox as sandbox_provider

    a, _b, _clock = pair
    no_cancel = dataclasses.replace(sandbox_provider.SPEC, caps=dataclasses.replace(puresms.CAPS, cancel=False))
    monkeypatch.setattr(a.accounts, "spec", lambda account: no_cancel)
    acct = a.accounts.by_name("Sandbox").id
    with pytest.raises(InvalidInput, match="NO cancel"):
        await a.scheduler.provider.set_opt_in(acct, True)
    account = await a.scheduler.provider.set_opt_in(acct, True, acknowledged=True)
    assert account.settings["provider_schedule"] == "on"


@pytest.mark.asyncio
async def test_editing_a_provider_side_send_cancels_the_old_copy_first(pair: tuple[Runtime, Runtime, Clock]) -> None:
    a, _b, clock = pair
    acct = a.accounts.by_name("Sandbox").id
    await a.scheduler.provider.set_opt_in(acct, True)
    item = await a.scheduler.create(ScheduleRequest(acct, ["07911 123456"], "v1", clock.now + timedelta(days=1)))
    # either process's loop may be the one handing it over; an edit meanwhile is refused
    item = await until(lambda: (it := a.scheduler.get(item.id)).handed_off and it)
    # Longer than the sandbox's dispatch delay: a copy it wrongly took as due (by the real date
    # rather than the test's clock) would be dispatched by now and could not be cancelled.
    await asyncio.sleep(0.3)
    edited = await a.scheduler.edit(item.id, item.version, text="v2")
    assert edited.handed_off and edited.body == "v2"
    assert a.sandbox is not None
    assert [(r.content, r.status) for r in a.sandbox.server.sent] == [("v1", "Cancelled"), ("v2", "Queued")]
