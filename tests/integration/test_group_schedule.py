"""A scheduled, repeating send to a contact group takes the group's members at each run:
someone added between runs gets the next one, someone who opted out meanwhile does not, and
each message is personalised (a member without a value for a merge field is left out, named
in the run's note, never sent a gap). Real SQLite file, real sandbox, injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from smsdesk.domain.contacts import ContactDraft, DraftNumber
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.schedule import Recurrence
from smsdesk.runtime import Runtime
from smsdesk.services.scheduler import ScheduleRequest
from tests.support.sched import Clock, fast_sandbox, open_runtime
from tests.support.wait import until

TEXT = "Hi {{first_name|there}}, see you at {{salon}}"


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


async def _person(rt: Runtime, given: str, number: str, salon: str = "Kings Road") -> int:
    fields = {"salon": salon} if salon else {}
    draft = ContactDraft(name=f"{given} Lee", given_name=given, numbers=(DraftNumber(number),), fields=fields)
    return (await rt.contacts.add(draft)).contact_id


def _sent(rt: Runtime) -> list[tuple[str, str]]:
    assert rt.sandbox is not None
    return sorted((s.recipient, s.content) for s in rt.sandbox.server.sent)


@pytest.mark.asyncio
async def test_each_run_takes_the_members_of_that_moment(rt: Runtime, clock: Clock) -> None:
    from smsdesk.domain.contacts import FieldKind

    await rt.contacts.define_field("salon", FieldKind.TEXT)
    ann = await _person(rt, "Ann", "07911 123456")
    tom = await _person(rt, "Tom", "07911 123457")
    gid = await rt.groups.create("Regulars")
    await rt.groups.add_members(gid, [ann, tom])
    account = rt.accounts.by_name("Sandbox").id
    item = await rt.scheduler.create(
        ScheduleRequest(account, [], TEXT, clock.now + timedelta(hours=1), recurrence=Recurrence("daily"), group_id=gid)
    )
    assert item.group_id == gid and item.recipient_count == 2 and item.location == "local"

    clock.advance(hours=1, seconds=1)
    rt.scheduler.kick()
    await until(lambda: len(_sent(rt)) == 2)
    assert _sent(rt) == [
        ("+447911123456", "Hi Ann, see you at Kings Road"),
        ("+447911123457", "Hi Tom, see you at Kings Road"),
    ]

    # Between runs: Mia joins, Tom opts out, Zoe joins without a salon (left out, named).
    mia = await _person(rt, "Mia", "07911 123458")
    zoe = await _person(rt, "Zoe", "07912 345678", salon="")
    await rt.groups.add_members(gid, [mia, zoe])
    await rt.optouts.add("07911 123457", "asked by phone")
    clock.advance(days=1)
    rt.scheduler.kick()
    await until(lambda: len(_sent(rt)) == 4)
    assert _sent(rt) == [
        ("+447911123456", "Hi Ann, see you at Kings Road"),
        ("+447911123456", "Hi Ann, see you at Kings Road"),
        ("+447911123457", "Hi Tom, see you at Kings Road"),  # day one only: he opted out since
        ("+447911123458", "Hi Mia, see you at Kings Road"),  # joined after day one
    ]  # and never Zoe: no value for {{salon}}
    await until(lambda: len(rt.scheduler.history(item.id)) == 2)
    newest = rt.scheduler.history(item.id)[0]
    assert "Zoe Lee has no salon" in newest["note"] and "Tom Lee opted out" in newest["note"]


@pytest.mark.asyncio
async def test_a_group_nobody_in_can_be_texted_is_refused(rt: Runtime, clock: Clock) -> None:
    gid = await rt.groups.create("Empty")
    with pytest.raises(InvalidInput, match="No one in 'Empty' can be texted now"):
        await rt.scheduler.create(
            ScheduleRequest(rt.accounts.by_name("Sandbox").id, [], "Hi", clock.now + timedelta(hours=1), group_id=gid)
        )
    assert rt.scheduler.items() == []
