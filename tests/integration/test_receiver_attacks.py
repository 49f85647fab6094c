"""The receiver under bad input, over real loopback HTTP (SMS_RULES.md 4.2).

Each attack is rejected with the right status, nothing is stored as accepted, the delivery
is in the webhook log with its reason, and a genuine receipt sent right after still gets 200.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from tests.support import hooks
from tests.support.wait import until


@pytest_asyncio.fixture
async def rt(_isolated_home: Path) -> AsyncIterator[Runtime]:
    rt = Runtime.open(str(_isolated_home))
    await rt.start(sandbox=False, dispatcher=False)
    rt.pure = await rt.accounts.add(  # type: ignore[attr-defined]
        "Pure", "puresms", {"api_key": "k", "webhook_secret": hooks.SECRET, "sender": "Shop"}
    )
    try:
        yield rt
    finally:
        await rt.stop()
        rt.close()


def _url(rt: Runtime, route: object | None = None) -> str:
    return f"{rt.receiver.url}/hooks/{rt.pure.id if route is None else route}"  # type: ignore[union-attr, attr-defined]


def _events(rt: Runtime) -> int:
    return int(rt.db.query_one("SELECT count(*) FROM webhook_events")[0])


def _log(rt: Runtime) -> list[dict[str, object]]:
    return [dict(r) for r in rt.db.query("SELECT * FROM webhook_log ORDER BY id")]


async def _genuine_still_served(rt: Runtime, session: aiohttp.ClientSession) -> None:
    body = hooks.receipt()
    async with session.post(_url(rt), data=body, headers=hooks.signed_headers(body)) as resp:
        assert resp.status == 200
        assert (await resp.json())["outcome"] == "accepted"


def _attacks(rt: Runtime) -> dict[str, tuple[str, bytes, dict[str, str], int, str]]:
    body = hooks.receipt()
    now = time.time()
    good = hooks.signed_headers(body)
    return {
        "unsigned": (_url(rt), body, {"Content-Type": "application/json"}, 401, "unsigned"),
        "wrong signature": (
            _url(rt), body, {**good, "X-Webhook-Signature": hooks.signed_headers(b"{}")["X-Webhook-Signature"]},
            401, "signature mismatch",
        ),
        "tampered body": (_url(rt), body.replace(b"Delivered", b"Failed"), good, 401, "signature mismatch"),
        "wrong secret": (_url(rt), body, hooks.signed_headers(body, secret="not-the-secret"), 401, "signature mismatch"),
        "stale timestamp": (_url(rt), body, hooks.signed_headers(body, ts=now - 330), 401, "off (window"),
        "future timestamp": (_url(rt), body, hooks.signed_headers(body, ts=now + 330), 401, "off (window"),
        "malformed timestamp": (_url(rt), body, {**good, "X-Webhook-Timestamp": "yesterday"}, 401, "malformed"),
        "malformed JSON": (_url(rt), b"{not json", hooks.signed_headers(b"{not json"), 400, "malformed JSON"),
        "wrong content type": (_url(rt), body, {**good, "Content-Type": "text/plain"}, 415, "text/plain"),
        "form post": (
            _url(rt), b"a=1", {**hooks.signed_headers(b"a=1"), "Content-Type": "application/x-www-form-urlencoded"},
            415, "is not JSON",
        ),
        "unknown account": (_url(rt, 9999), body, good, 404, "unknown account"),
        "non-numeric route": (_url(rt, "admin"), body, good, 404, "unknown account"),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name",
    [
        "unsigned", "wrong signature", "tampered body", "wrong secret", "stale timestamp", "future timestamp",
        "malformed timestamp", "malformed JSON", "wrong content type", "form post", "unknown account",
        "non-numeric route",
    ],
)
async def test_attack_is_rejected_and_nothing_is_stored(rt: Runtime, name: str) -> None:
    url, body, headers, status, reason = _attacks(rt)[name]
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as resp:
            assert resp.status == status
            answer = await resp.json()
        assert answer["ok"] is False
        assert _events(rt) == 0
        [entry] = _log(rt)
        assert entry["status_code"] == status and entry["outcome"] == "rejected"
        assert reason in str(entry["reason"])
        # The log says why without echoing secrets or signatures.
        assert hooks.SECRET not in str(entry["reason"])
        assert headers.get("X-Webhook-Signature", "@@") not in str(entry["reason"])
        await _genuine_still_served(rt, session)
    assert _events(rt) == 1


@pytest.mark.asyncio
async def test_replayed_event_answers_200_and_is_stored_once(rt: Runtime) -> None:
    sent = await rt.sender.send(Draft(rt.pure.id, ["+447911123456"], "hello"))  # type: ignore[attr-defined]
    body = hooks.receipt(message_id="pm-9", client_ref=sent[0].local_id, event_id="evt_replayed")
    outcomes = []
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            # A retry is re-signed with a fresh timestamp, as providers do; the event id is the same.
            async with session.post(_url(rt), data=body, headers=hooks.signed_headers(body)) as resp:
                assert resp.status == 200
                outcomes.append((await resp.json())["outcome"])
    assert outcomes == ["accepted"] + ["duplicate"] * 4
    assert _events(rt) == 1
    assert [e["outcome"] for e in _log(rt)] == ["accepted"] + ["duplicate"] * 4
    msg = await until(lambda: (m := rt.sender.messages.get(sent[0].id)) and m.status.value == "delivered" and m)
    assert [r["status"] for r in rt.sender.messages.transitions(msg.id)] == ["queued", "delivered"]


@pytest.mark.asyncio
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_oversized_body_is_413(rt: Runtime, chunked: bool) -> None:
    big = b'{"id": "x", "pad": "' + b"a" * (1024 * 1024 + 10) + b'"}'

    async def gen() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    async with aiohttp.ClientSession() as session:
        data = gen() if chunked else big
        try:
            async with session.post(_url(rt), data=data, headers=hooks.signed_headers(big)) as resp:
                assert resp.status == 413
        except aiohttp.ClientOSError:
            pass  # the server may close before the client finished writing; the log tells the status
        await _genuine_still_served(rt, session)
    assert _events(rt) == 1
    assert [(e["status_code"], e["outcome"]) for e in _log(rt)] == [(413, "rejected"), (200, "accepted")]


@pytest.mark.asyncio
async def test_slow_body_gets_408_while_others_are_served(rt: Runtime) -> None:
    rt.receiver.receiver.body_timeout = 1.5  # type: ignore[union-attr]
    port = rt.receiver.receiver.port  # type: ignore[union-attr]
    body = hooks.receipt()
    head = "".join(f"{k}: {v}\r\n" for k, v in hooks.signed_headers(body).items())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /hooks/{rt.pure.id} HTTP/1.1\r\nHost: x\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()  # type: ignore[attr-defined]
        + body[:5]
    )
    await writer.drain()

    async def trickle() -> None:
        for i in range(5, len(body)):  # one byte every 0.2 s: far longer than the timeout
            await asyncio.sleep(0.2)
            writer.write(body[i : i + 1])
            await writer.drain()

    trickler = asyncio.ensure_future(trickle())
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(3):  # everyone else is answered while the slow one hangs
                started = time.monotonic()
                await _genuine_still_served(rt, session)
                assert time.monotonic() - started < 1.0
        status_line = await asyncio.wait_for(reader.readline(), 10)
        assert b" 408 " in status_line
    finally:
        trickler.cancel()
        writer.close()
    assert _events(rt) == 3
    assert [e["status_code"] for e in _log(rt) if e["outcome"] == "rejected"] == [408]


@pytest.mark.asyncio
async def test_wrong_method_and_path_are_not_handled(rt: Runtime) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(_url(rt)) as resp:
            assert resp.status == 405
        async with session.post(f"{rt.receiver.url}/admin", data=b"{}") as resp:  # type: ignore[union-attr]
            assert resp.status == 404
        async with session.get(f"{rt.receiver.url}/health") as resp:  # type: ignore[union-attr]
            assert json.loads(await resp.text()) == {"ok": True}
    assert _events(rt) == 0
