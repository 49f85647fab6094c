"""Polling against the sandbox's Send-2 and Mobivate wire formats, and its back-off rules."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import pytest

from smsdesk.domain.errors import ProviderError
from smsdesk.domain.models import InboundMessage, StatusEvent
from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from tests.support.wait import until

pytestmark = pytest.mark.asyncio


def _fast(runtime: Any) -> None:
    p = runtime.polling
    p.tick, p.first_delay, p.max_delay, p.inbound_every = 0.05, 0.05, 0.2, 0.1
    p.kick()


async def _add(runtime: Any, name: str, provider: str, prefix: str, **values: str) -> Any:
    cfg = runtime.sandbox.server.config
    return await runtime.accounts.add(
        name, provider, {"base_url": runtime.sandbox.url + prefix, "api_key": cfg.api_key, **values}
    )


def _status(runtime: Any, msg_id: int, wanted: Status) -> Any:
    m = runtime.sending.messages.get(msg_id)
    return m if m.status == wanted else None


async def test_send2_receipts_arrive_by_polling_alone(runtime: Any) -> None:
    _fast(runtime)
    account = await _add(runtime, "S2", "send2", "/send2", sender="12345")
    [msg] = await runtime.sending.send(Draft(account.id, ["+254722000000"], "Your code is 123456"))
    final = await until(lambda: _status(runtime, msg.id, Status.DELIVERED))
    assert final.raw_status == "Delivered To Terminal"
    assert [r.status for r in runtime.sending.messages.transitions(msg.id)] == ["queued", "sent", "delivered"]
    assert runtime.store.db.query("SELECT * FROM webhook_log") == []  # nobody called in
    st = runtime.polling.state[account.id]
    assert st.active and st.reason == "the provider has no webhooks" and st.last_error == ""
    await runtime.polling.poll_once()
    assert runtime.polling.state[account.id].tracked == 0  # final: no longer polled


async def test_mobivate_without_tunnel_polls_statuses_and_replies(runtime: Any) -> None:
    _fast(runtime)
    wire = runtime.sandbox.server.wires["mobivate"]

    async def receipt_url_unreachable(rec: Any, status: str, same_event: bool = False) -> bool:
        return False

    wire._receipt = receipt_url_unreachable
    account = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    assert runtime.polling.should_poll(account) == (True, "no tunnel is up")
    [msg] = await runtime.sending.send(Draft(account.id, ["07911 123456"], "Table for two at 8?"))
    final = await until(lambda: _status(runtime, msg.id, Status.DELIVERED))
    assert final.raw_status.upper().startswith("DELIVERED")

    # A reply the provider could not push (no Receipt URL): only the MO log has it.
    assert await wire.post_inbound("447911123456", "447700900999", "Yes please") is False
    [reply] = await until(lambda: runtime.sending.messages.recent(direction="in"))
    assert reply.body == "Yes please" and reply.remote == "+447911123456"
    cursor = runtime.polling.repo.cursor(account.id)
    assert cursor and datetime.fromisoformat(cursor)
    for _ in range(3):  # the overlap re-reads it; it is stored once
        runtime.polling._inbound_due.clear()
        await runtime.polling.poll_once()
    assert len(runtime.sending.messages.recent(direction="in")) == 1


class _Script:
    """A fake adapter: SENT twice, then DELIVERED; records when it was asked."""

    def __init__(self, real: Any, fail: bool = False) -> None:
        self.spec = real.spec
        self.calls: list[tuple[str, float]] = []
        self.fail = fail

    async def poll_status(self, pmid: str) -> StatusEvent | None:
        self.calls.append((pmid, time.monotonic()))
        if self.fail:
            raise ProviderError("Send-2 refused the token (401).")
        n = sum(1 for p, _ in self.calls if p == pmid)
        status = Status.DELIVERED if n >= 3 else Status.SENT
        return StatusEvent(pmid, None, status, status.label)

    async def poll_inbound(self, since: datetime) -> list[InboundMessage]:
        return []


async def _open_sends(runtime: Any, n: int) -> Any:
    runtime.dispatcher.stop()
    runtime.polling.stop()  # the test drives the rounds itself
    await asyncio.sleep(0.05)
    runtime.polling._stopping = False
    account = await _add(runtime, "S2", "send2", "/send2", sender="12345")
    msgs = await runtime.sending.send(Draft(account.id, [f"+25472200000{i}" for i in range(n)], "Hi"))
    from smsdesk.storage import messages as msg_store

    def mark_sent(conn: Any) -> None:
        for i, m in enumerate(msgs):
            msg_store.apply_status(conn, m.id, Status.SENT, "Sent", None, f"pm-{i}")

    await runtime.store.db.write(mark_sent)
    runtime.polling.kick()  # the dispatcher's change-set does this in the app
    return account, msgs


async def test_each_message_backs_off_until_final_within_the_rate_limit(runtime: Any) -> None:
    account, msgs = await _open_sends(runtime, 4)
    runtime.accounts._adapters[account.id] = fake = _Script(runtime.accounts.adapter(account.id))
    p = runtime.polling
    p.first_delay, p.max_delay = 0.0, 0.05
    p._limiters[account.id] = type(p._limiter(account, fake))(5.0)  # 5 polls per second
    for _ in range(40):
        await p.poll_once()
        if all(_status(runtime, m.id, Status.DELIVERED) for m in msgs):
            break
        await asyncio.sleep(0.01)
    assert all(_status(runtime, m.id, Status.DELIVERED) for m in msgs)
    per_msg = {f"pm-{i}": sum(1 for pm, _ in fake.calls if pm == f"pm-{i}") for i in range(4)}
    assert per_msg == {f"pm-{i}": 3 for i in range(4)}  # stops asking at the final status
    stamps = [t for _, t in fake.calls]
    # Never above 5/s: in any one-second window the server saw at most 5 polls (+1 for the
    # window's edges and network jitter on a loaded machine, which can bunch arrivals).
    busiest = max(sum(1 for t in stamps if a <= t < a + 1.0) for a in stamps)
    assert busiest <= 6, f"{busiest} polls within one second"
    for _ in range(3):
        await p.poll_once()
    assert len(fake.calls) == 12 and p.state[account.id].tracked == 0


async def test_provider_errors_back_the_account_off(runtime: Any, expect_warnings: Any) -> None:
    account, msgs = await _open_sends(runtime, 1)
    runtime.accounts._adapters[account.id] = fake = _Script(runtime.accounts.adapter(account.id), fail=True)
    p = runtime.polling
    p.first_delay = 0.0
    await p.poll_once()
    assert p.state[account.id].last_error == "Send-2 refused the token (401)."
    for _ in range(5):  # backed off: no hammering a provider that refuses us
        await p.poll_once()
    assert len(fake.calls) == 1
    assert _status(runtime, msgs[0].id, Status.SENT)


async def test_an_adapter_bug_is_contained_and_shown(runtime: Any, expect_warnings: Any, caplog: Any) -> None:
    account, msgs = await _open_sends(runtime, 1)
    fake = _Script(runtime.accounts.adapter(account.id))

    async def broken(pmid: str) -> StatusEvent | None:
        raise KeyError("dlr")

    fake.poll_status = broken  # type: ignore[method-assign]
    runtime.accounts._adapters[account.id] = fake
    p = runtime.polling
    p.first_delay = 0.0
    for _ in range(3):
        await p.poll_once()
        p._backoff.clear()  # retry at once, to see it is reported only once
    assert p.state[account.id].last_error == "KeyError: 'dlr'"
    assert sum("failed unexpectedly" in r.getMessage() for r in caplog.records) == 1


async def test_a_429_with_retry_after_is_respected(runtime: Any, expect_warnings: Any) -> None:
    from smsdesk.storage import messages as msg_store
    from tests.providers.fakes import FakeProvider, Reply

    fake = FakeProvider("mobivate")
    await fake.start()
    try:
        runtime.dispatcher.stop()
        runtime.polling.stop()  # the test drives the rounds itself
        await asyncio.sleep(0.05)
        p = runtime.polling
        p._stopping = False
        account = await runtime.accounts.add(
            "Mob", "mobivate", {"base_url": fake.url, "api_key": "k", "sender": "Bistro"}
        )
        [msg] = await runtime.sending.send(Draft(account.id, ["07911 123456"], "Hi"))
        await runtime.store.db.write(lambda c: msg_store.apply_status(c, msg.id, Status.SENT, "Sent", None, "pm-1"))
        p.first_delay, p.backoff_start = 0.0, 0.05  # our own back-off alone would retry within the loop below
        p.kick()
        fake.push(Reply(429, {"error": {"name": "TooManyRequests", "message": "Slow down"}}, {"Retry-After": "60"}))
        await p.poll_once()
        assert [r.path for r in fake.requests] == ["/message/pm-1"]
        assert "asked to wait 60 s" in p.state[account.id].last_error
        for _ in range(6):
            await asyncio.sleep(0.05)
            await p.poll_once()
        assert len(fake.requests) == 1  # nothing more until the minute the provider asked for is over
        assert _status(runtime, msg.id, Status.SENT)
    finally:
        await fake.stop()


async def test_polling_can_be_switched_off_per_account_as_declared(runtime: Any) -> None:
    """``polling`` is a declared field (Settings form and ``accounts add --set``): off means the
    account is not polled, and the panel says why."""
    _fast(runtime)
    account = await _add(runtime, "S2", "send2", "/send2", sender="12345", polling="off")
    assert [f.name for f in runtime.accounts.spec(account).fields if f.name.startswith("poll")] == [
        "polling",
        "poll_per_second",
    ]
    [msg] = await runtime.sending.send(Draft(account.id, ["+254722000000"], "Your code is 123456"))
    await until(lambda: _status(runtime, msg.id, Status.SENT))
    await runtime.polling.poll_once()
    st = runtime.polling.state[account.id]
    assert not st.active and st.reason == "polling is switched off for this account"
    assert runtime.sending.messages.get(msg.id).status == Status.SENT  # nobody asked for its receipt


async def test_an_edited_poll_rate_applies_to_the_next_poll(runtime: Any) -> None:
    account = await _add(runtime, "S2", "send2", "/send2", sender="12345")
    adapter = runtime.accounts.adapter(account.id)
    assert runtime.polling._limiter(account, adapter).interval == pytest.approx(0.5)  # 2 per second
    await runtime.accounts.update(account, {"poll_per_second": "0.25"})
    edited = runtime.accounts.get(account.id)
    await until(lambda: runtime.polling._limiter(edited, adapter).interval == pytest.approx(4.0))
