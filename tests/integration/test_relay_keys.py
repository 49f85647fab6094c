"""Provider keys live only with the relays of a team workspace: a desktop queues, a relay that
holds the account's keys sends, a relay without them leaves the message waiting (never
failed), and the desktops say why in plain words."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from smsdesk.cli import main as cli_main
from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from tests.support.wait import until

RELAY_ONLY = {"sandbox": False, "receiver": True, "dispatcher": True, "polling": False, "tunnel": False}


@pytest.mark.asyncio
async def test_only_a_relay_holding_the_keys_sends_and_the_desktop_says_what_waits(
    pg_database: str, tmp_path: Path, memory_keyring: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli_main(["workspace", "create", pg_database]) == 0
    monkeypatch.setenv("SMSDESK_DATABASE_URL", pg_database)
    desk = Runtime.open(str(tmp_path / "desk"), database=pg_database)
    await desk.accounts.ensure_sandbox()  # its keys are made by whichever relay runs the sandbox
    account = desk.accounts.by_name("Sandbox")
    assert desk.accounts.keys_per_computer and not desk.accounts.holds_keys(account)
    [queued] = await desk.sending.send(Draft(account.id, ["07911 123456"], "Your table is ready"))
    try:
        # No relay at all.
        assert desk.receiving.waiting_for_relay() == [
            "1 message waits for a relay: none is running ('smsdesk serve' on the relay's computer sends them)."
        ]

        # A relay without the account's keys: the message waits (never fails), and says for what.
        keyless = Runtime.open(str(tmp_path / "keyless"), database=pg_database, session_secrets=True)
        await keyless.start(relay=True, **RELAY_ONLY)
        try:
            words = await until(lambda: [w for w in desk.receiving.waiting_for_relay() if "holds the key" in w])
            assert words == [
                "1 message of Sandbox waits for a relay that holds the key of account Sandbox "
                "('smsdesk accounts add --name \"Sandbox\" ...' on a relay)."
            ]
            await asyncio.sleep(1.5)  # several dispatcher passes
            assert desk.sending.messages.get(queued.id).status is Status.QUEUED  # type: ignore[union-attr]
            # An account's Test needs the keys: asked of the relays, none of which holds them.
            monkeypatch.setattr("smsdesk.services.accounts.RELAY_ANSWER_S", 1.5)
            with pytest.raises(SmsdeskError, match="No relay holding the keys of Sandbox answered"):
                await desk.accounts.test(account)
        finally:
            await keyless.stop()
            keyless.close()

        # A relay that holds them (it runs the sandbox, whose keys are its own) sends it.
        holder = Runtime.open(str(tmp_path / "holder"), database=pg_database, session_secrets=True)
        holder.settings.extra["sandbox_reply_rate"] = 0.0
        holder.settings.extra["sandbox_stop_rate"] = 0.0
        await holder.start(relay=True, **{**RELAY_ONLY, "sandbox": True})
        try:
            await until(
                lambda: (
                    desk.sending.messages.get(queued.id).status  # type: ignore[union-attr]
                    in (Status.SENT, Status.DELIVERED)
                ),
                timeout=15,
            )
            await until(lambda: desk.receiving.waiting_for_relay() == [])
            # The relay holding the keys makes the desktop's Test and answers with its words.
            monkeypatch.setattr("smsdesk.services.accounts.RELAY_ANSWER_S", 15.0)
            words = await desk.accounts.test(account)
            assert words and words == await holder.accounts.test(account)
            assert cli_main(["--home", str(tmp_path / "desk"), "accounts", "secrets", "Sandbox", "--json"]) == 0
            said = json.loads(capsys.readouterr().out)
            assert said["this_computer"] is False and len(said["relays"]) == 1
        finally:
            await holder.stop()
            holder.close()
    finally:
        desk.close()


def test_a_second_relay_keeps_its_own_copy_of_an_accounts_keys(
    pg_database: str, tmp_path: Path, memory_keyring: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli_main(["workspace", "create", pg_database]) == 0
    monkeypatch.setenv("SMSDESK_DATABASE_URL", pg_database)
    monkeypatch.setenv("SMSDESK_SECRET_API_KEY", "pure-key")
    add = ["accounts", "add", "--name", "Shop", "--provider", "puresms"]
    assert cli_main(["--home", str(tmp_path / "relay1"), *add]) == 0
    assert "run the same command on every relay" in capsys.readouterr().err
    assert cli_main(["--home", str(tmp_path / "relay2"), *add]) == 0  # the row exists: keys only
    assert "Kept this computer's copy of the keys of 'Shop'" in capsys.readouterr().err
    code = cli_main(["--home", str(tmp_path / "relay2"), "accounts", "add", "--name", "Shop", "--provider", "send2"])
    assert code == 2 and "is a puresms account, not send2" in capsys.readouterr().err
    assert cli_main(["--home", str(tmp_path / "relay2"), "accounts", "list", "--json"]) == 0
    assert [a["name"] for a in json.loads(capsys.readouterr().out)] == ["Shop"]


@pytest.mark.asyncio
async def test_a_desktop_cancels_a_send_waiting_at_the_provider_through_a_relay(
    pg_database: str, tmp_path: Path, memory_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send scheduled at the provider is cancelled there with the account's keys, which a
    desktop of a workspace does not hold: the desktop asks, the relay holding them cancels,
    and the message shows as cancelled on the desktop."""
    from datetime import UTC, datetime, timedelta

    from smsdesk.services.scheduler import ScheduleRequest

    assert cli_main(["workspace", "create", pg_database]) == 0
    monkeypatch.setenv("SMSDESK_DATABASE_URL", pg_database)
    monkeypatch.setattr("smsdesk.services.accounts.RELAY_ANSWER_S", 15.0)
    desk = Runtime.open(str(tmp_path / "desk"), database=pg_database)
    holder = Runtime.open(str(tmp_path / "holder"), database=pg_database, session_secrets=True)
    holder.settings.extra["sandbox_reply_rate"] = 0.0
    holder.settings.extra["sandbox_stop_rate"] = 0.0
    try:
        await desk.accounts.ensure_sandbox()
        account = desk.accounts.by_name("Sandbox")
        await holder.start(relay=True, **{**RELAY_ONLY, "sandbox": True})
        await desk.scheduler.provider.set_opt_in(account.id, True)
        when = datetime.now(UTC) + timedelta(days=2)
        item = await desk.scheduler.create(ScheduleRequest(account.id, ["07911 123456"], "At the provider", when))
        assert item.location == "provider"
        await until(lambda: desk.scheduler.get(item.id).handed_off, timeout=15)  # by the relay
        assert holder.sandbox is not None
        [held] = holder.sandbox.server.sent
        assert held.status == "Queued"
        assert not desk.accounts.holds_keys(account)
        said = await desk.scheduler.cancel(item.id)
        assert said.startswith("Cancelled.")
        assert held.status == "Cancelled"  # at the provider, by the relay
        [msg] = desk.sending.messages.get_many(desk.scheduler.repo.message_ids(item.id))
        assert msg.status is Status.CANCELLED
    finally:
        await holder.stop()
        holder.close()
        desk.close()
