"""``ReceptionService.reception(account)``: how each account's receipts and replies reach smsdesk
now, checked against what really arrives (sandbox, tunnel, polling, a relay, or not yet)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.reception import Route
from smsdesk.services.send import Draft
from smsdesk.services.tunnel import TunnelState
from tests.support import hooks
from tests.support.wait import until

pytestmark = pytest.mark.asyncio
FAKE = Path(__file__).resolve().parents[1] / "support" / "fake_tunnel.py"


def _fake_tunnel() -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, str(FAKE), "--url", "{local}"))


async def test_a_puresms_account_on_the_built_in_sandbox_says_so_and_its_receipts_arrive(runtime: Any) -> None:
    values = runtime.accounts.sandbox_values("puresms")
    acct = await runtime.accounts.add("Salon", "puresms", {**values, "sender": "Salon"})
    r = runtime.receiving.reception(acct)
    assert r.route == Route.SANDBOX and r.working
    assert "built-in sandbox" in r.text and "tunnel" not in r.text.lower()
    # True to the word: the receipt comes back to this account's webhook, with no tunnel up.
    [msg] = await runtime.sending.send(Draft(acct.id, ["+447911123456"], "Your table is ready"))
    await until(lambda: runtime.sending.messages.get(msg.id).status == Status.DELIVERED)
    assert not runtime.tunnel.is_up()
    assert runtime.store.db.query("SELECT outcome FROM webhook_log")[0]["outcome"] == "accepted"
    # The Sandbox account itself, and a Send-2 account on the sandbox (no webhooks: asked).
    assert runtime.receiving.reception(runtime.accounts.by_name("Sandbox")).route == Route.SANDBOX
    s2 = await runtime.accounts.add("S2", "send2", runtime.accounts.sandbox_values("send2"))
    r2 = runtime.receiving.reception(s2)
    assert r2.route == Route.SANDBOX and "asks the built-in sandbox for delivery reports" in r2.text


async def test_a_real_webhook_provider_without_a_tunnel_is_told_what_to_do(runtime: Any) -> None:
    pure = await runtime.accounts.add(
        "Shop", "puresms", {"api_key": "k", "sender": "Shop", "webhook_secret": hooks.SECRET}
    )
    r = runtime.receiving.reception(pure)
    assert r.route == Route.NOT_YET and not r.working
    assert r.text.startswith("Not yet:") and "start a tunnel" in r.text
    assert r.paste and r.webhook_url.endswith(f"/hooks/{pure.id}")


async def test_pollable_providers_are_asked_and_a_failing_poll_or_polling_off_is_said(
    runtime: Any, expect_warnings: Any
) -> None:
    p = runtime.polling
    p.tick, p.first_delay, p.inbound_every = 0.05, 0.05, 0.1
    # A closed port on this computer stands in for a provider that cannot be reached.
    nowhere = {"base_url": "http://127.0.0.1:9", "api_key": "k"}
    mob = await runtime.accounts.add("Mob", "mobivate", {**nowhere, "sender": "Shop"})
    s2 = await runtime.accounts.add("Kenya", "send2", {**nowhere, "sender": "12345"})
    r = runtime.receiving.reception(mob)
    assert r.route == Route.POLLING and "asks Mobivate for receipts and replies" in r.text
    assert "no tunnel is up" in r.text
    r2 = runtime.receiving.reception(s2)
    assert r2.route == Route.POLLING and "asks Send-2 for delivery reports" in r2.text
    p.kick()
    await until(lambda: p.state.get(mob.id) and p.state[mob.id].last_error)
    r = runtime.receiving.reception(mob)
    assert r.route == Route.POLLING and "but the last request failed: Could not reach Mobivate" in r.text
    off = await runtime.accounts.update(mob, {"polling": "off"})
    r3 = runtime.receiving.reception(off)
    assert r3.route == Route.NOT_YET and "start a tunnel" in r3.text and "Ask the provider for updates" in r3.text


async def test_through_a_tunnel_only_a_dashboard_provider_asks_for_the_url_to_be_pasted(_isolated_home: Path) -> None:
    rt = Runtime.open(str(_isolated_home))
    rt.tunnel.backoff_start = 0.2
    rt.settings.tunnel_kind = "command"
    rt.settings.tunnel_command = _fake_tunnel()
    try:
        await rt.start(sandbox=False, dispatcher=False, polling=False)
        pure = await rt.accounts.add("Shop", "puresms", {"api_key": "k", "sender": "Shop", "webhook_secret": "s"})
        mob = await rt.accounts.add("Mob", "mobivate", {"api_key": "k", "sender": "Shop"})
        await until(lambda: rt.tunnel.status.state == TunnelState.UP)
        public = rt.tunnel.status.public_url
        r = rt.receiving.reception(pure)
        assert r.route == Route.TUNNEL and r.paste and r.webhook_url.startswith(public)
        assert "Paste this account's webhook URL into the PureSMS dashboard" in r.text
        m = rt.receiving.reception(mob)
        assert m.route == Route.TUNNEL and not m.paste and "Paste" not in m.text  # each send names the URL
        # The Sandbox account, with demo mode off, is not in use rather than "not yet".
        off = rt.receiving.reception(rt.accounts.by_name("Sandbox"))
        assert off.route == Route.OFF and "demo mode is off" in off.text
    finally:
        await rt.stop()
        rt.close()


async def test_a_receiver_that_could_not_start_is_said(_isolated_home: Path, expect_warnings: Any) -> None:
    rt = Runtime.open(str(_isolated_home))
    rt.settings.receiver_host = "192.0.2.1"  # not an address of this computer: listening fails
    try:
        await rt.start(dispatcher=False, polling=False, tunnel=False)
        assert rt.status.receiver_error
        r = rt.receiving.reception(rt.accounts.by_name("Sandbox"))
        assert r.route == Route.NOT_YET and "receiver on this computer is not running" in r.text
        assert rt.receiving.receiver() == ("", rt.status.receiver_error)
    finally:
        await rt.stop()
        rt.close()


async def test_with_a_relay_on_the_data_folder_the_relay_asks(_isolated_home: Path) -> None:
    relay = Runtime.open(str(_isolated_home))
    await relay.start(sandbox=False, dispatcher=False, polling=False, relay=True, tunnel=False)
    gui = Runtime.open(str(_isolated_home))
    try:
        await gui.start(sandbox=False, dispatcher=False, polling=False, tunnel=False)
        await until(lambda: gui.relay.other is not None)
        mob = await gui.accounts.add("Mob", "mobivate", {"api_key": "k", "sender": "Shop"})
        pure = await gui.accounts.add("Shop", "puresms", {"api_key": "k", "sender": "Shop", "webhook_secret": "s"})
        r = gui.receiving.reception(mob)
        assert r.route == Route.RELAY and r.text.startswith("smsdesk serve (pid ") and "asks Mobivate" in r.text
        p = gui.receiving.reception(pure)
        assert p.route == Route.NOT_YET and "has no tunnel" in p.text
        # The data folder's sandbox and receiver are the relay's, not this process's.
        sb = gui.receiving.reception(gui.accounts.by_name("Sandbox"))
        assert sb.route == Route.RELAY and sb.text.endswith("receives them for this data folder.")
    finally:
        await gui.stop()
        gui.close()
        await relay.stop()
        relay.close()
