"""Opt-out keywords end to end: a signed sandbox reply -> receiver -> opt-out list -> sending
blocked everywhere (service, reply, CLI); START/UNSTOP lift it. Manual changes are audited."""

from __future__ import annotations

import json

import pytest

from smsdesk.cli import main as cli_main
from smsdesk.domain.errors import OptedOut
from smsdesk.services.send import Draft
from tests.support.wait import until

OPT_OUT = ["STOP", "stop!", " Unsubscribe. ", "STOPALL", "cancel", "End", "QUIT", "Stop all"]
NOT_KEYWORDS = ["please stop texting me at night", "stopped", "Started"]


def _number(i: int) -> str:
    return f"+4479111234{i:02d}"


async def _reply(runtime, sender: str, body: str) -> None:
    srv = runtime.sandbox.server
    assert runtime.sandbox.call(srv._post_inbound(sender, srv.config.inbound_number, body))


@pytest.mark.asyncio
async def test_keyword_matrix_end_to_end(runtime, capsys) -> None:
    account = runtime.accounts.by_name("Sandbox")
    for i, body in enumerate(OPT_OUT):
        await _reply(runtime, _number(i), body)
    for j, body in enumerate(NOT_KEYWORDS, start=50):
        await _reply(runtime, _number(j), body)
    await until(lambda: runtime.conversations.count() == len(OPT_OUT) + len(NOT_KEYWORDS))
    await until(lambda: len(runtime.optouts.list()) == len(OPT_OUT))
    assert {o.number for o in runtime.optouts.list()} == {_number(i) for i in range(len(OPT_OUT))}
    assert all(o.source == "reply" for o in runtime.optouts.list())

    conv = runtime.conversations.find(account.id, _number(0))
    assert conv is not None and conv.opted_out
    assert "has opted out (replied STOP on " in runtime.conversations.blocked_reason(conv.id)
    with pytest.raises(OptedOut):
        await runtime.conversations.reply(conv.id, "Sorry to see you go")
    with pytest.raises(OptedOut):
        await runtime.sending.send(Draft(account.id, ["07911 123400"], "Compose is blocked too"))
    assert runtime.sending.messages.recent(10, direction="out") == []
    opted = [c.remote for c in runtime.conversations.list("opted_out")]
    assert sorted(opted) == sorted(_number(i) for i in range(len(OPT_OUT)))
    assert cli_main(["conversations", "--json", "--filter", "opted_out"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(c["number"] for c in listed) == sorted(opted) and all(c["opted_out"] for c in listed)

    await _reply(runtime, _number(0), "START")
    await _reply(runtime, _number(1), " unstop ")
    await until(lambda: not runtime.optouts.is_opted_out(_number(0)) and not runtime.optouts.is_opted_out(_number(1)))
    [msg] = await runtime.conversations.reply(conv.id, "Welcome back")
    assert msg.remote == _number(0)
    actions = [
        r["action"] for r in runtime.store.db.query("SELECT action FROM audit_log WHERE subject = ?", (_number(0),))
    ]
    assert actions == ["optout.add", "optout.remove"]


@pytest.mark.asyncio
async def test_manual_optout_is_audited_and_synced_to_providers(runtime) -> None:
    calls: list[tuple[str, bool]] = []

    async def hook(number: str, opted_out: bool) -> list[str]:
        calls.append((number, opted_out))
        return []

    runtime.optouts.sync_hooks.append(hook)
    res = await runtime.optouts.add("07911 123456", "asked by phone")
    assert res.changed and res.number == "+447911123456" and res.provider_errors == []
    [entry] = runtime.optouts.list()
    assert (entry.source, entry.note, entry.source_label) == ("manual", "asked by phone", "Added by hand")
    assert runtime.sending.check_recipient("07911 123456").error
    res = await runtime.optouts.remove("+44 7911 123456")
    assert res.changed and runtime.optouts.list() == []
    assert calls == [("+447911123456", True), ("+447911123456", False)]
    rows = runtime.store.db.query("SELECT action, detail FROM audit_log WHERE action LIKE 'optout.%' ORDER BY id")
    assert [(r["action"], json.loads(r["detail"])["source"]) for r in rows] == [
        ("optout.add", "manual"),
        ("optout.remove", "manual"),
    ]


def test_cli_optouts_add_list_remove_and_bad_number(tmp_path, capsys) -> None:
    home = str(tmp_path / "cli")
    assert cli_main(["optouts", "add", "07911 123456", "--note", "asked", "--home", home]) == 0
    assert cli_main(["optouts", "--json", "--home", home]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(o["number"], o["source"], o["note"]) for o in listed] == [("+447911123456", "manual", "asked")]
    assert cli_main(["optouts", "add", "12", "--home", home]) == 2
    err = capsys.readouterr().err
    assert "wrong number of digits" in err
    assert cli_main(["optouts", "remove", "+447911123456", "--home", home]) == 0
    assert cli_main(["optouts", "--json", "--home", home]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli_main(["conversations", "--json", "--home", home]) == 0
    assert json.loads(capsys.readouterr().out) == []


class _FakeMobivate:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    async def optout_add(self, number: str) -> None:
        if self.fail:
            from smsdesk.domain.errors import ProviderError

            raise ProviderError("Mobivate said 503")
        self.calls.append(("add", number))

    async def optout_remove(self, number: str) -> None:
        self.calls.append(("remove", number))


@pytest.mark.asyncio
async def test_provider_sync_calls_adapters_that_keep_a_list(runtime, monkeypatch, expect_warnings) -> None:
    fake = _FakeMobivate()
    monkeypatch.setattr(runtime.accounts, "adapter", lambda account_id: fake)
    res = await runtime.optouts.add("+447911123456")
    assert fake.calls == [("add", "+447911123456")] and res.provider_errors == []
    await runtime.optouts.remove("+447911123456")
    assert fake.calls[-1] == ("remove", "+447911123456")
    fake.fail = True
    res = await runtime.optouts.add("+447911123457")
    assert res.changed and runtime.optouts.is_opted_out("+447911123457")  # local list wins
    assert res.provider_errors and "503" in res.provider_errors[0]


# ---- an opt-out that arrives after a message was queued (checked again when it is about to go) --
def _sent_to(runtime, number: str) -> list[str]:
    return [s.content for s in runtime.sandbox.server.sent if s.recipient == number]


@pytest.mark.asyncio
async def test_stop_reply_stops_a_retry_waiting_in_the_outbox(runtime) -> None:
    from smsdesk.domain.status import Status

    cfg = runtime.sandbox.server.config
    cfg.rate_429 = 1.0  # the first try is turned away; the message waits in back-off
    cfg.retry_after = 60
    account = runtime.accounts.by_name("Sandbox")
    [msg] = await runtime.sending.send(Draft(account.id, ["07911 123499"], "Your order is ready"))
    await until(lambda: runtime.store.db.query_one("SELECT next_attempt_at FROM messages WHERE id = ?", (msg.id,))[0])
    cfg.rate_429 = 0.0
    await _reply(runtime, msg.remote, "STOP")
    await until(lambda: runtime.optouts.is_opted_out(msg.remote))
    # the back-off runs out (as if a minute passed) and the dispatcher looks again
    await runtime.store.db.write(
        lambda c: c.execute("UPDATE messages SET next_attempt_at = '2000-01-01' WHERE id = ?", (msg.id,))
    )
    runtime.dispatcher.kick()
    final = await until(lambda: (m := runtime.sending.messages.get(msg.id)).status.is_final and m)
    assert final.status == Status.REJECTED
    assert "opted out (replied STOP on" in final.error and "Not sent" in final.error
    assert _sent_to(runtime, msg.remote) == []


@pytest.mark.asyncio
async def test_opt_out_added_by_hand_stops_a_scheduled_message_and_says_so(runtime) -> None:
    from datetime import UTC, datetime, timedelta

    from smsdesk.domain.status import Status

    account = runtime.accounts.by_name("Sandbox")
    later = datetime.now(UTC) + timedelta(hours=1)
    msgs = await runtime.sending.send(
        Draft(account.id, ["07911 123497", "07911 123498"], "See you at 9", send_at=later)
    )
    assert {m.status for m in msgs} == {Status.SCHEDULED}
    await runtime.optouts.add("07911 123498", "asked by phone")
    err = runtime.sending.check_recipient("07911 123498").error
    assert "added to the opt-out list by hand" in err and "replied STOP" not in err
    runtime.scheduler.clock = lambda: later + timedelta(seconds=1)  # the send time has come
    await runtime.scheduler.tick()
    await until(lambda: _sent_to(runtime, "+447911123497") == ["See you at 9"])
    blocked = runtime.sending.messages.get(msgs[1].id)
    assert blocked.status == Status.REJECTED
    assert "added to the opt-out list by hand" in blocked.error and "replied STOP" not in blocked.error
    runtime.dispatcher.kick()
    await until(lambda: not runtime.dispatcher.busy)
    assert _sent_to(runtime, "+447911123498") == []


@pytest.mark.asyncio
async def test_stop_during_a_bulk_run_stops_its_rows_already_in_the_outbox(_isolated_home, tmp_path) -> None:
    from collections import Counter

    from smsdesk.domain.status import Status
    from smsdesk.runtime import Runtime
    from smsdesk.services.bulk_send_flow import BulkSendFlow

    rt = Runtime.open(str(_isolated_home))
    rt.settings.extra["sandbox_reply_rate"] = 0.0
    rt.settings.extra["sandbox_stop_rate"] = 0.0
    await rt.start(tunnel=False, polling=False, dispatcher=False)  # the run is queued; nothing sends yet
    try:
        rt.sandbox.server.config.dispatch_delay = 0.02
        path = tmp_path / "list.csv"
        path.write_text("name,phone\n" + "".join(f"P{i},07400{i:06d}\n" for i in range(6)))
        wiz = BulkSendFlow(rt.bulk_send, "GB")
        wiz.load(path)
        wiz.validate()
        wiz.set_account(rt.accounts.by_name("Sandbox").id)
        wiz.set_template("Hi {{name}}")
        run_id = await wiz.start()
        assert rt.bulk_send.progress(run_id).waiting == 6  # all six are in the outbox
        await _reply(rt, "+447400000003", "stop")
        await until(lambda: rt.optouts.is_opted_out("+447400000003"))
        rt.spawn(rt.dispatcher.run())
        rt.spawn(rt.bulk_send.run())
        await until(lambda: rt.bulk_send.progress(run_id).done, timeout=20)
        sent = Counter(s.recipient for s in rt.sandbox.server.sent)
        assert "+447400000003" not in sent and len(sent) == 5 and set(sent.values()) == {1}
        [blocked] = [m for m in rt.sending.messages.recent(20, "out") if m.remote == "+447400000003"]
        assert blocked.status == Status.REJECTED and "replied STOP on" in blocked.error
    finally:
        await rt.stop()
        rt.close()


@pytest.mark.asyncio
async def test_stop_and_start_replies_reach_a_providers_own_opt_out_list(runtime) -> None:
    """Mobivate keeps its own opt-out list: a STOP received on any account puts the number on it,
    and START takes it off again, in step with smsdesk's list (issue 3)."""
    cfg = runtime.sandbox.server.config
    await runtime.accounts.add(
        "Mob", "mobivate", {"base_url": runtime.sandbox.url + "/mobivate", "api_key": cfg.api_key, "sender": "Bistro"}
    )
    mobivate_list = runtime.sandbox.server.wires["mobivate"].optouts
    await _reply(runtime, _number(7), "STOP")
    await until(lambda: "447911123407" in mobivate_list)
    assert runtime.optouts.is_opted_out(_number(7))
    await _reply(runtime, _number(7), "start")
    await until(lambda: "447911123407" not in mobivate_list)
    assert not runtime.optouts.is_opted_out(_number(7))


@pytest.mark.asyncio
async def test_the_threads_banner_says_how_the_number_opted_out(runtime) -> None:
    account = runtime.accounts.by_name("Sandbox")
    await runtime.sending.send(Draft(account.id, ["07911 123456"], "Your order is ready"))
    await runtime.optouts.add("07911 123456", "asked by phone")
    conv = runtime.conversations.find(account.id, "+447911123456")
    why = runtime.conversations.blocked_reason(conv.id)
    assert "opted out (added to the opt-out list by hand on " in why and "source:" not in why
