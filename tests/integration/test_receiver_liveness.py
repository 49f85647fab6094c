"""The receiver keeps answering when the app loop is busy; early receipts are not lost."""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from tests.support import hooks
from tests.support.wait import until


@pytest_asyncio.fixture
async def rt(_isolated_home: Path) -> AsyncIterator[Runtime]:
    rt = Runtime.open(str(_isolated_home))
    await rt.start(sandbox=False)
    try:
        yield rt
    finally:
        await rt.stop()
        rt.close()


async def _add_pure(rt: Runtime, base_url: str = "http://127.0.0.1:9") -> int:
    acct = await rt.accounts.add(
        "Pure", "puresms", {"api_key": "k", "webhook_secret": hooks.SECRET, "sender": "Shop", "base_url": base_url}
    )
    return acct.id


@pytest.mark.asyncio
async def test_webhook_is_answered_and_committed_while_the_app_loop_is_blocked(rt: Runtime) -> None:
    account_id = await _add_pure(rt)
    body = hooks.reply("+447911123456", "Running 10 min late")
    url = f"{rt.receiver.url}/hooks/{account_id}"  # type: ignore[union-attr]
    seen: dict[str, object] = {}

    def provider_calls_in() -> None:
        req = urllib.request.Request(url, data=body, headers=hooks.signed_headers(body), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            seen["status"] = resp.status
        row = rt.store.db.query_one("SELECT state FROM webhook_events")
        seen["state"] = row["state"] if row else None

    def busy_gui() -> None:
        # The app loop is stuck in this callback for the whole delivery (a long layout, say).
        client = threading.Thread(target=provider_calls_in)
        client.start()
        client.join(15)

    asyncio.get_running_loop().call_soon(busy_gui)
    await until(lambda: "state" in seen, timeout=20)
    assert seen == {"status": 200, "state": "pending"}  # stored before the 200, processed later
    inbound = await until(lambda: rt.sending.messages.recent(direction="in"))
    assert inbound[0].body == "Running 10 min late" and inbound[0].remote == "+447911123456"
    assert rt.store.db.query_one("SELECT state FROM webhook_events")["state"] == "processed"


@pytest.mark.asyncio
async def test_receipt_that_beats_the_send_answer_is_matched_later(rt: Runtime) -> None:
    """The provider's receipt (carrying only its own id) arrives before its send answer."""
    state: dict[str, int] = {}

    async def fake_send(request: web.Request) -> web.Response:
        await request.json()
        body = hooks.receipt(message_id="pm-early", client_ref=None)
        url = f"{rt.receiver.url}/hooks/{state['account']}"  # type: ignore[union-attr]
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=hooks.signed_headers(body)) as resp,
        ):
            assert resp.status == 200
        # Hold the answer until the receipt was processed and parked (no message has this id yet).
        await until(lambda: rt.store.db.query_one("SELECT count(*) FROM pending_receipts")[0] == 1)
        return web.json_response({"id": "pm-early"})

    app = web.Application()
    app.router.add_post("/sms/send", fake_send)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        state["account"] = await _add_pure(rt, f"http://127.0.0.1:{port}")
        [msg] = await rt.sending.send(Draft(state["account"], ["+447911123456"], "Your order shipped"))
        final = await until(
            lambda: (m := rt.sending.messages.get(msg.id)) is not None and m.status == Status.DELIVERED and m
        )
        assert final.provider_message_id == "pm-early"
        assert [r.status for r in rt.sending.messages.transitions(msg.id)] == ["queued", "sent", "delivered"]
        assert rt.store.db.query_one("SELECT count(*) FROM pending_receipts")[0] == 0
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_a_burst_with_retries_inside_it_is_stored_once_each(rt: Runtime) -> None:
    """Concurrent deliveries share inserts; a retry racing its original is still a duplicate."""
    account_id = await _add_pure(rt)
    url = f"{rt.receiver.url}/hooks/{account_id}"  # type: ignore[union-attr]
    bodies = [hooks.receipt(message_id=f"pm-{i}", event_id=f"evt-{i}") for i in range(150)]
    bodies += bodies[:50]  # 50 retries sent at the same time as their originals

    async def post(session: aiohttp.ClientSession, body: bytes) -> str:
        async with session.post(url, data=body, headers=hooks.signed_headers(body)) as resp:
            assert resp.status == 200
            return str((await resp.json())["outcome"])

    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        outcomes = await asyncio.gather(*(post(session, b) for b in bodies))
    assert outcomes.count("accepted") == 150 and outcomes.count("duplicate") == 50
    assert rt.store.db.query_one("SELECT count(*) FROM webhook_events")[0] == 150
    assert rt.store.db.query_one("SELECT count(*) FROM webhook_log WHERE outcome = 'accepted'")[0] == 150
