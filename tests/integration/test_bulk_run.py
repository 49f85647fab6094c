"""Bulk runs over real loopback HTTP: personalised sends, pause / resume / cancel, schedule.

Counting happens at the sandbox (what the "provider" accepted), not in our own tables.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.services.bulk_send_flow import BulkSendFlow, Step
from tests.support.bulk_flow import ready_to_send
from tests.support.wait import until

DATA = Path(__file__).resolve().parents[1] / "data"


def _big_file(tmp_path: Path, n: int) -> Path:
    p = tmp_path / f"list{n}.csv"
    p.write_text("name,phone\n" + "".join(f"P{i},07400{i:06d}\n" for i in range(n)) + "Bad,12345\n")
    return p


def _sent(rt: Any) -> list[Any]:
    assert rt.sandbox is not None
    return list(rt.sandbox.server.sent)


async def _wizard(rt: Any, path: Path, text: str) -> BulkSendFlow:
    return ready_to_send(rt.bulk_send, path, rt.accounts.by_name("Sandbox").id, text)


@pytest.mark.asyncio
async def test_personalised_send_reaches_each_recipient_once(runtime: Any) -> None:
    wiz = await _wizard(runtime, DATA / "csv/contacts_utf8.csv", "Hi {{first_name|there}}, see you {{appointment}}")
    assert wiz.step == Step.SEND
    wiz.set_group("Clinic")
    run_id = await wiz.start()
    await until(lambda: runtime.bulk_send.progress(run_id).done, timeout=20)
    sent = _sent(runtime)
    assert Counter(r.recipient for r in sent) == Counter(
        {"+447911123456": 1, "+447911123457": 1, "+447911123458": 1, "+447911123459": 1, "+447911123460": 1}
    )
    assert {r.content for r in sent} >= {"Hi Alice, see you Mon 10:00", "Hi Chloé, see you Wed 09:15"}
    p = runtime.bulk_send.progress(run_id)
    assert (p.rows_in, p.accepted, p.rejected) == (7, 5, 2)
    assert p.finished == 5
    rejects = runtime.bulk_send.rejects_csv(run_id).splitlines()
    assert rejects[0] == "name,phone,appointment,row,reason,detail"
    assert rejects[1].startswith("Bob Jones,07911123457,Tue 11:30,6,Duplicate in file")
    members = runtime.store.db.query_one(
        "SELECT count(*) FROM contact_group_members m JOIN contact_groups g ON g.id = m.group_id"
        " WHERE g.name = 'Clinic'"
    )
    assert members[0] == 5
    assert runtime.store.db.query_one("SELECT name FROM contacts WHERE number = '+447911123458'")[0] == "Chloé Martin"
    wiz.next()
    assert wiz.step == Step.REPORT
    # The same file cannot be started twice while its run is unfinished; once done it can.
    assert runtime.bulk_send.get(run_id).state == "done"


@pytest.mark.asyncio
async def test_pause_holds_every_row_and_resume_finishes(runtime: Any) -> None:
    runtime.sandbox.server.config.latency = 0.02
    runtime.bulk_send.window = 20
    wiz = await _wizard(runtime, _big_file(runtime.paths.home, 400), "Hello {{name}}")
    run_id = await wiz.start()
    await until(lambda: len(_sent(runtime)) >= 40, timeout=20)
    assert await runtime.bulk_send.pause(run_id)
    # What was in flight lands; then nothing more is accepted while paused.
    await until(lambda: runtime.bulk_send.progress(run_id).sending == 0, timeout=10)
    held = len(_sent(runtime))
    await until(lambda: runtime.dispatcher.sent_count >= held, timeout=10)
    import asyncio

    await asyncio.sleep(0.6)  # several dispatcher passes
    assert len(_sent(runtime)) == held < 400
    assert runtime.bulk_send.progress(run_id).state == "paused"
    assert await runtime.bulk_send.resume(run_id)
    await until(lambda: runtime.bulk_send.progress(run_id).done, timeout=30)
    counts = Counter(r.recipient for r in _sent(runtime))
    assert len(counts) == 400 and max(counts.values()) == 1
    p = runtime.bulk_send.progress(run_id)
    assert (p.rows_in, p.accepted, p.rejected, p.finished) == (401, 400, 1, 400)


@pytest.mark.asyncio
async def test_cancel_stops_the_rest(runtime: Any) -> None:
    runtime.sandbox.server.config.latency = 0.02
    runtime.bulk_send.window = 20
    wiz = await _wizard(runtime, _big_file(runtime.paths.home, 300), "Hello {{name}}")
    run_id = await wiz.start()
    await until(lambda: len(_sent(runtime)) >= 20, timeout=20)
    await runtime.bulk_send.cancel(run_id)
    await until(lambda: runtime.bulk_send.progress(run_id).sending == 0, timeout=10)
    p = runtime.bulk_send.progress(run_id)
    sent = len(_sent(runtime))
    assert p.state == "cancelled" and sent < 300
    assert p.sent + p.delivered + p.cancelled + p.failed + p.needs_review == 300
    assert p.cancelled == 300 - sent


@pytest.mark.asyncio
async def test_schedule_hands_the_run_to_the_scheduled_queue(runtime: Any) -> None:
    from datetime import UTC, datetime, timedelta

    wiz = await _wizard(runtime, DATA / "csv/contacts_utf8.csv", "Hi {{first_name|there}}")
    wiz.set_schedule(datetime.now(UTC) + timedelta(days=2))
    run_id = await wiz.start()
    run = runtime.bulk_send.get(run_id)
    assert run.state == "scheduled" and run.schedule_id
    item = runtime.scheduler.get(run.schedule_id)
    assert item.recipient_count == 5
    assert runtime.bulk_send.progress(run_id).scheduled == 5
    assert not _sent(runtime)
    again = await _wizard(runtime, DATA / "csv/contacts_utf8.csv", "Hi again")
    with pytest.raises(InvalidInput, match="already being sent"):
        await again.start()
    await runtime.bulk_send.cancel(run_id)
    assert runtime.bulk_send.get(run_id).state == "cancelled"


@pytest.mark.asyncio
async def test_opt_out_during_a_run_is_honoured(runtime: Any) -> None:
    """Someone who replies STOP after the file was checked is not messaged when their turn comes."""
    from smsdesk.storage import optouts as opt_store

    runtime.bulk_send.window = 10
    wiz = await _wizard(runtime, _big_file(runtime.paths.home, 50), "Hello {{name}}")
    await runtime.bulk_send.pause(-1)  # no such run: nothing happens
    late = "+447400000045"
    run_id = await wiz.start()
    await runtime.store.db.write(lambda c: opt_store.add(c, late, "inbound", "STOP"))
    await until(lambda: runtime.bulk_send.progress(run_id).done, timeout=20)
    assert late not in {r.recipient for r in _sent(runtime)}
    assert len(_sent(runtime)) == 49
    p = runtime.bulk_send.progress(run_id)
    assert p.failed == 1 and p.finished == 50


@pytest.mark.asyncio
@pytest.mark.parametrize("action", ["cancel", "skip"])
async def test_ending_a_scheduled_bulk_send_in_the_queue_ends_its_import_run(runtime: Any, action: str) -> None:
    """Cancel (or skip the only run) in the scheduled queue: the import run is cancelled with it,
    so the wizard shows it ended and the same file can be sent again."""
    from datetime import UTC, datetime, timedelta

    wiz = await _wizard(runtime, DATA / "csv/contacts_utf8.csv", "Hi {{first_name|there}}")
    wiz.set_schedule(datetime.now(UTC) + timedelta(days=2))
    run_id = await wiz.start()
    sid = runtime.bulk_send.get(run_id).schedule_id
    if action == "cancel":
        await runtime.scheduler.cancel(sid)
    else:
        await runtime.scheduler.skip(sid)
    assert runtime.scheduler.get(sid).state == "cancelled"
    p = runtime.bulk_send.progress(run_id)
    assert p.state == "cancelled" and p.done and runtime.bulk_send.get(run_id).finished_at
    again = await _wizard(runtime, DATA / "csv/contacts_utf8.csv", "Hi again {{first_name|there}}")
    again_id = await again.start()  # not refused as "already being sent"
    await until(lambda: runtime.bulk_send.progress(again_id).done, timeout=20)
    assert sorted(r.content for r in _sent(runtime))[0].startswith("Hi again")
    assert len(_sent(runtime)) == 5


async def _scheduled_bulk(rt: Any, when: Any) -> tuple[int, int]:
    wiz = await _wizard(rt, DATA / "csv/contacts_utf8.csv", "Hi {{first_name|there}}, see you {{appointment}}")
    wiz.set_schedule(when)
    run_id = await wiz.start()
    return run_id, rt.bulk_send.get(run_id).schedule_id


@pytest.mark.asyncio
async def test_a_scheduled_bulk_run_shows_progress_and_pauses_once_it_starts(_isolated_home: Path) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from smsdesk.domain.status import Status
    from tests.support.sched import Clock, fast_sandbox, open_runtime

    clock = Clock(datetime.now(UTC))
    rt = open_runtime(_isolated_home, clock)
    await rt.start(tunnel=False, polling=False, dispatcher=False)  # loops driven by hand until resumed
    fast_sandbox(rt, clock)
    try:
        run_id, sid = await _scheduled_bulk(rt, clock.now + timedelta(hours=1))
        assert rt.bulk_send.get(run_id).state == "scheduled"
        await rt.optouts.add("07911 123458", "asked by phone")  # after the file was checked
        clock.advance(hours=1, seconds=1)
        assert await rt.scheduler.tick() == 1
        p = rt.bulk_send.progress(run_id)
        assert p.state == "running"  # the wizard's run page shows "Sending" and offers Pause
        assert (p.waiting, p.failed, p.accepted) == (4, 1, 5)  # the opted-out row is accounted for
        assert await rt.bulk_send.pause(run_id)
        rt.spawn(rt.dispatcher.run())
        rt.spawn(rt.bulk_send.run())
        await asyncio.sleep(0.5)  # several dispatcher passes
        assert _sent(rt) == [] and rt.bulk_send.progress(run_id).state == "paused"
        assert await rt.bulk_send.resume(run_id)
        rt.spawn(rt.scheduler.run())
        await until(lambda: rt.bulk_send.progress(run_id).done, timeout=20)
        await until(lambda: rt.scheduler.get(sid).state == "done", timeout=10)
        sent = Counter(r.recipient for r in _sent(rt))
        assert len(sent) == 4 and set(sent.values()) == {1} and "+447911123458" not in sent
        p = rt.bulk_send.progress(run_id)
        assert p.state == "done"
        assert p.sent + p.delivered + p.failed == p.accepted == 5
        [blocked] = [m for m in rt.sending.messages.recent(20, "out") if m.remote == "+447911123458"]
        assert blocked.status == Status.REJECTED and "added to the opt-out list by hand" in blocked.error
    finally:
        await rt.stop()
        rt.close()


@pytest.mark.asyncio
async def test_a_scheduled_bulk_sends_text_cannot_be_edited_in_the_queue_but_its_time_can(runtime: Any) -> None:
    from datetime import UTC, datetime, timedelta

    run_id, sid = await _scheduled_bulk(runtime, datetime.now(UTC) + timedelta(days=2))
    item = runtime.scheduler.get(sid)
    with pytest.raises(InvalidInput, match="personalised for each recipient"):
        await runtime.scheduler.edit(sid, item.version, text="One text for all")
    later = datetime.now(UTC) + timedelta(days=3)
    moved = await runtime.scheduler.edit(sid, item.version, when=later)
    assert abs((moved.next_run - later).total_seconds()) < 60
    texts = {body for _n, body in runtime.scheduler.repo.recipients(sid)}
    assert "Hi Alice, see you Mon 10:00" in texts and "One text for all" not in texts
    assert runtime.bulk_send.get(run_id).state == "scheduled"


@pytest.mark.asyncio
async def test_the_accounts_price_per_segment_drives_the_estimated_cost(runtime: Any, tmp_path: Path) -> None:
    sandbox = runtime.accounts.by_name("Sandbox")
    await runtime.accounts.update(sandbox, {"price_per_segment": "0.05"})
    path = tmp_path / "cost.csv"
    path.write_text("name,phone\nAnn,07400000001\nBob,07400000002\nCy,07400000003\n")
    text = "Hi {{name}}, " + "x" * 160  # two segments each
    wiz = BulkSendFlow(runtime.bulk_send, "GB")
    wiz.load(path)
    wiz.validate()
    wiz.set_account(sandbox.id)
    report = wiz.set_template(text)
    assert report.total_segments == 6
    assert report.cost == pytest.approx(0.30) and report.as_json()["estimated_cost"] == pytest.approx(0.30)
    # another price, read again when the account is chosen: the estimate follows the setting
    await runtime.accounts.update(runtime.accounts.get(sandbox.id), {"price_per_segment": "0.1"})
    wiz.set_account(sandbox.id)
    assert wiz.report.cost == pytest.approx(0.60)


@pytest.mark.asyncio
async def test_an_account_without_a_price_gives_cost_unknown_never_zero(runtime: Any, tmp_path: Path) -> None:
    sandbox = runtime.accounts.by_name("Sandbox")
    assert not sandbox.settings.get("price_per_segment")  # a new account has no price
    path = tmp_path / "cost.csv"
    path.write_text("name,phone\nAnn,07400000001\nBob,07400000002\n")
    wiz = BulkSendFlow(runtime.bulk_send, "GB")
    wiz.load(path)
    wiz.validate()
    wiz.set_account(sandbox.id)
    report = wiz.set_template("Hi {{name}}")
    assert report.total_segments == 2
    assert report.cost is None and report.as_json()["estimated_cost"] is None
