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
    assert conv is not None and conv.opted_out and "opted out" in runtime.conversations.blocked_reason(conv.id)
    with pytest.raises(OptedOut):
        await runtime.conversations.reply(conv.id, "Sorry to see you go")
    with pytest.raises(OptedOut):
        await runtime.sender.send(Draft(account.id, ["07911 123400"], "Compose is blocked too"))
    assert runtime.sender.messages.recent(10, direction="out") == []
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
    actions = [r["action"] for r in runtime.db.query("SELECT action FROM audit_log WHERE subject = ?", (_number(0),))]
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
    assert runtime.sender.check_recipient("07911 123456").error
    res = await runtime.optouts.remove("+44 7911 123456")
    assert res.changed and runtime.optouts.list() == []
    assert calls == [("+447911123456", True), ("+447911123456", False)]
    rows = runtime.db.query("SELECT action, detail FROM audit_log WHERE action LIKE 'optout.%' ORDER BY id")
    assert [(r["action"], json.loads(r["detail"])["source"]) for r in rows] == [
        ("optout.add", "manual"), ("optout.remove", "manual")]


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
