"""Each kind of account, added through the services, sends through the dispatcher to the
sandbox's wire format for it, and the status a person sees is recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from smsdesk.storage.optouts import OptOutRepository
from tests.support.wait import until

pytestmark = pytest.mark.asyncio
JWT_SECRET = "sandbox-channel-jwt-secret-long-enough-1"


async def _add(runtime: Any, name: str, provider: str, prefix: str, **values: str) -> Any:
    cfg = runtime.sandbox.server.config
    return await runtime.accounts.add(
        name, provider, {"base_url": runtime.sandbox.url + prefix, "api_key": cfg.api_key, **values}
    )


async def _status(runtime: Any, msg_id: int, *wanted: Status) -> Any:
    def check() -> Any:
        m = runtime.sender.messages.get(msg_id)
        return m if m.status in wanted else None

    return await until(check)


@pytest.mark.parametrize(
    ("provider", "prefix", "values"),
    [
        ("mobivate", "/mobivate", {"sender": "Bistro"}),
        ("channel", "/channel", {"sender": "Bistro", "url": "/send", "jwt_secret": JWT_SECRET, "chan.Region": "eu"}),
        ("puresms", "", {"sender": "Bistro"}),
    ],
)
async def test_webhook_providers_reach_delivered(runtime: Any, provider: str, prefix: str, values: dict) -> None:
    cfg = runtime.sandbox.server.config
    cfg.channel_jwt_secret = JWT_SECRET
    if provider == "puresms":
        values = {**values, "webhook_secret": cfg.webhook_secret}
    account = await _add(runtime, f"My {provider}", provider, prefix, **values)
    if provider == "puresms":
        cfg.webhook_url = runtime.accounts.webhook_url(account)  # PureSMS has one workspace webhook
    [msg] = await runtime.sender.send(Draft(account.id, ["07911 123456"], "Your table is booked for 7pm"))
    final = await _status(runtime, msg.id, Status.DELIVERED)
    assert final.provider_message_id
    [sent] = [s for s in runtime.sandbox.server.sent if s.client_reference == msg.local_id]
    assert sent.wire == (provider if provider != "puresms" else "puresms")
    log = runtime.db.query("SELECT outcome FROM webhook_log")
    assert {r["outcome"] for r in log} == {"accepted"}
    if provider == "channel":
        assert sent.extra["headers"].get("chan-region") == "eu"


async def test_send2_is_delivered_by_polling(runtime: Any) -> None:
    account = await _add(runtime, "My Send-2", "send2", "/send2", sender="12345")
    [msg] = await runtime.sender.send(Draft(account.id, ["+254722000000"], "Your code is 123456"))
    sent = await _status(runtime, msg.id, Status.SENT)
    assert sent.segments == 1 and sent.provider_message_id
    adapter = runtime.accounts.adapter(account.id)

    async def poll() -> Any:
        ev = await adapter.poll_status(sent.provider_message_id)
        return ev if ev and ev.status == Status.DELIVERED else None

    ev = None
    for _ in range(200):  # what a poller does: ask again until the dlr is final
        ev = await poll()
        if ev:
            break
        await asyncio.sleep(0.05)
    assert ev is not None and ev.raw_status == "Delivered To Terminal"
    await runtime.inbound.apply_receipts(account.id, [ev])
    final = runtime.sender.messages.get(msg.id)
    assert final.status == Status.DELIVERED and final.raw_status == "Delivered To Terminal"
    assert "Balance" in await runtime.accounts.test(account)


async def test_mobivate_opt_out_at_the_provider_joins_our_list(runtime: Any) -> None:
    account = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    await runtime.accounts.adapter(account.id).optout_add("+447911123456")
    [msg] = await runtime.sender.send(Draft(account.id, ["07911 123456"], "Sale today"))
    final = await _status(runtime, msg.id, Status.REJECTED)
    assert "opted out" in (final.error or "")
    assert OptOutRepository(runtime.db).is_opted_out("+447911123456")


async def test_mobivate_dropped_send_is_reconciled_not_resent(runtime: Any) -> None:
    account = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    runtime.sandbox.server.config.rate_drop = 1.0
    [msg] = await runtime.sender.send(Draft(account.id, ["07911 123456"], "Hello"))
    final = await _status(runtime, msg.id, Status.NEEDS_REVIEW)
    assert final.attempts == 1  # never blindly resent
    assert runtime.sandbox.server.sent == []


async def test_test_button_shows_each_providers_words(runtime: Any) -> None:
    mob = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    assert "accepted" in await runtime.accounts.test(mob)
    ch = await _add(runtime, "Chan", "channel", "/channel", sender="Bistro", url="/send", verify_url="/verify")
    assert "accepted" in await runtime.accounts.test(ch)
