"""The receiver under bad input, over real loopback HTTP.

Each attack is rejected with the right status, nothing is stored as accepted, the delivery
is in the webhook log with its reason, and a genuine receipt sent right after still gets 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import jwt
import pytest
import pytest_asyncio
from jwt.api_jws import PyJWS

from smsdesk.providers.puresms import sign
from smsdesk.receiver.receiver import Receiver
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
    return int(rt.store.db.query_one("SELECT count(*) FROM webhook_events")[0])


def _log(rt: Runtime) -> list[dict[str, object]]:
    return [dict(r) for r in rt.store.db.query("SELECT * FROM webhook_log ORDER BY id")]


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
            _url(rt),
            body,
            {**good, "X-Webhook-Signature": hooks.signed_headers(b"{}")["X-Webhook-Signature"]},
            401,
            "signature mismatch",
        ),
        "tampered body": (_url(rt), body.replace(b"Delivered", b"Failed"), good, 401, "signature mismatch"),
        "wrong secret": (
            _url(rt),
            body,
            hooks.signed_headers(body, secret="not-the-secret"),
            401,
            "signature mismatch",
        ),
        "stale timestamp": (_url(rt), body, hooks.signed_headers(body, ts=now - 330), 401, "off (window"),
        "future timestamp": (_url(rt), body, hooks.signed_headers(body, ts=now + 330), 401, "off (window"),
        "malformed timestamp": (_url(rt), body, {**good, "X-Webhook-Timestamp": "yesterday"}, 401, "malformed"),
        "malformed JSON": (_url(rt), b"{not json", hooks.signed_headers(b"{not json"), 400, "malformed JSON"),
        "wrong content type": (_url(rt), body, {**good, "Content-Type": "text/plain"}, 415, "text/plain"),
        "form post": (
            _url(rt),
            b"a=1",
            {**hooks.signed_headers(b"a=1"), "Content-Type": "application/x-www-form-urlencoded"},
            415,
            "is not JSON",
        ),
        "unknown account": (_url(rt, 9999), body, good, 404, "unknown account"),
        "non-numeric route": (_url(rt, "admin"), body, good, 404, "unknown account"),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name",
    [
        "unsigned",
        "wrong signature",
        "tampered body",
        "wrong secret",
        "stale timestamp",
        "future timestamp",
        "malformed timestamp",
        "malformed JSON",
        "wrong content type",
        "form post",
        "unknown account",
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
    sent = await rt.sending.send(Draft(rt.pure.id, ["+447911123456"], "hello"))  # type: ignore[attr-defined]
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
    msg = await until(lambda: (m := rt.sending.messages.get(sent[0].id)) and m.status.value == "delivered" and m)
    assert [r.status for r in rt.sending.messages.transitions(msg.id)] == ["queued", "delivered"]


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


# ---- garbage that used to be a 500 with a traceback (or reached the wrong account) -------------
JWT_SECRET = "channel-callback-secret-long-enough-0001"
HUGE = "9" * 400
BODY = hooks.receipt()


def _signed_at(stamp: str, body: bytes = BODY) -> list[bytes]:
    """A PureSMS signature that is right for ``stamp``, so only the time itself can refuse it."""
    return [
        b"X-Webhook-Timestamp: " + stamp.encode(),
        b"X-Webhook-Signature: " + sign(hooks.SECRET, stamp, body).encode(),
    ]


async def _raw_post(rt: Runtime, target: str | bytes, lines: list[bytes], body: bytes = BODY) -> int:
    """POST over a bare socket: header bytes go out exactly as given (aiohttp's client would
    refuse or re-encode them)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", rt.receiver.receiver.port)  # type: ignore[union-attr]
    path = target if isinstance(target, bytes) else target.encode()
    head = [
        b"POST " + path + b" HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Content-Type: application/json",
        f"Content-Length: {len(body)}".encode(),
        b"Connection: close",
        *lines,
    ]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    return int(status_line.split()[1])


def _garbage(rt: Runtime) -> dict[str, tuple[str, list[bytes], int]]:
    pid = rt.pure.id  # type: ignore[attr-defined]
    good = _signed_at(str(int(time.time())))
    chan = rt.chan.id  # type: ignore[attr-defined]
    chan_jwt = jwt.encode({"iat": int(time.time())}, JWT_SECRET, algorithm="HS256").encode()
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(pid))
    return {
        "timestamp nan": (f"/hooks/{pid}", _signed_at("nan"), 401),
        "timestamp inf": (f"/hooks/{pid}", _signed_at("inf"), 401),
        "timestamp Infinity": (f"/hooks/{pid}", _signed_at("Infinity"), 401),
        "timestamp of 400 digits": (f"/hooks/{pid}", _signed_at(HUGE), 401),
        "timestamp not UTF-8": (f"/hooks/{pid}", [b"X-Webhook-Timestamp: \xff\xfe1", good[1]], 401),
        "signature not UTF-8": (f"/hooks/{pid}", [good[0], b"X-Webhook-Signature: \xff\xfe\xfd=="], 401),
        "JWT not UTF-8": (f"/hooks/{chan}", [b"Authorization: Bearer " + chan_jwt[:-4] + b"\xff\xfe\xfd\xfc"], 401),
        "JWT iat NaN": (
            f"/hooks/{chan}",
            [b"Authorization: Bearer " + PyJWS().encode(b'{"iat": NaN}', JWT_SECRET, algorithm="HS256").encode()],
            401,
        ),
        "token not UTF-8": (f"/hooks/{chan}?token=%FF%FE", [], 401),
        "account number too large for SQLite": ("/hooks/99999999999999999999999", good, 404),
        "account number beyond int64": (f"/hooks/{2**63}", good, 404),
        "account number with a leading zero": (f"/hooks/0{pid}", good, 404),
        "account number with a plus sign": (f"/hooks/+{pid}", good, 404),
        "account number with a space": (f"/hooks/%20{pid}", good, 404),
        "account number with an underscore": (f"/hooks/{pid}_", good, 404),
        "account number in full-width digits": (f"/hooks/{quote(fullwidth)}", good, 404),
        "route not UTF-8": ("/hooks/%FF%FE", good, 404),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name",
    [
        "timestamp nan",
        "timestamp inf",
        "timestamp Infinity",
        "timestamp of 400 digits",
        "timestamp not UTF-8",
        "signature not UTF-8",
        "JWT not UTF-8",
        "JWT iat NaN",
        "token not UTF-8",
        "account number too large for SQLite",
        "account number beyond int64",
        "account number with a leading zero",
        "account number with a plus sign",
        "account number with a space",
        "account number with an underscore",
        "account number in full-width digits",
        "route not UTF-8",
    ],
)
async def test_garbage_is_a_4xx_with_one_log_line_and_no_traceback(
    rt: Runtime, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    rt.chan = await rt.accounts.add(  # type: ignore[attr-defined]
        "Chan",
        "channel",
        {"api_key": "k", "sender": "Shop", "url": "http://127.0.0.1:9/send", "jwt_secret": JWT_SECRET},
    )
    caplog.set_level(logging.DEBUG)
    target, lines, status = _garbage(rt)[name]
    assert await _raw_post(rt, target, lines) == status
    [entry] = _log(rt)
    assert (entry["status_code"], entry["outcome"]) == (status, "rejected")
    assert _events(rt) == 0
    # One line in the log saying why, never a traceback (smsdesk's or aiohttp's).
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    # (By logger, not text: the CLI's redacting filter, once installed, rewrites lines naming
    # the Authorization header.)
    assert sum(r.name == "smsdesk.services.webhook_intake" and r.levelno == logging.INFO for r in caplog.records) == 1
    async with aiohttp.ClientSession() as session:
        await _genuine_still_served(rt, session)


def _unparseable(rt: Runtime) -> dict[str, tuple[bytes, list[bytes]]]:
    pid = str(rt.pure.id).encode()  # type: ignore[attr-defined]
    lines = _signed_at(str(int(time.time())))
    return {
        "raw bytes in the path": (b"/hooks/\xff\xfe", lines),
        "raw bytes in the query": (b"/hooks/" + pid + b"?token=\xff", lines),
        "a control character in a header": (b"/hooks/" + pid, [*lines, b"X-Note: a\x00b"]),
        "a header line of 10 kB": (b"/hooks/" + pid, [*lines, b"X-Pad: " + b"a" * 10_000]),
        "too many headers": (b"/hooks/" + pid, [*lines, *(f"X-H{i}: {i}".encode() for i in range(200))]),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name",
    [
        "raw bytes in the path",
        "raw bytes in the query",
        "a control character in a header",
        "a header line of 10 kB",
        "too many headers",
    ],
)
async def test_a_request_that_is_not_http_is_a_400_with_one_log_line(
    rt: Runtime, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    target, lines = _unparseable(rt)[name]
    assert 400 <= await _raw_post(rt, target, lines) < 500
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING] == []
    assert sum("refused a malformed request" in r.getMessage() for r in caplog.records) == 1
    assert _events(rt) == 0
    async with aiohttp.ClientSession() as session:
        await _genuine_still_served(rt, session)


@pytest.mark.asyncio
async def test_connections_trickling_headers_are_closed_within_the_header_timeout(rt: Runtime) -> None:
    receiver = Receiver(rt.webhook_intake, "127.0.0.1", 0, header_timeout=1.0)
    await receiver.start()
    conns = [await asyncio.open_connection("127.0.0.1", receiver.port) for _ in range(20)]

    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(f"POST /hooks/{rt.pure.id} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode())  # type: ignore[attr-defined]
        with contextlib.suppress(ConnectionError):
            while True:  # one byte of a header that never ends, every 0.1 s
                await asyncio.sleep(0.1)
                writer.write(b"a")
                await writer.drain()

    tricklers = [asyncio.ensure_future(trickle(w)) for _, w in conns]
    try:
        body = hooks.receipt()
        url = f"{receiver.url}/hooks/{rt.pure.id}"  # type: ignore[attr-defined]
        async with (
            aiohttp.ClientSession() as session,
            session.post(  # the others are served meanwhile
                url, data=body, headers=hooks.signed_headers(body)
            ) as resp,
        ):
            assert resp.status == 200
        # Every trickling connection is closed by the receiver (EOF) well before the 10 s bodies
        # get, and long before aiohttp's own hour-long keep-alive.
        ends = await asyncio.wait_for(asyncio.gather(*(r.read() for r, _ in conns)), 8)
        assert all(b" 200 " not in end for end in ends)
    finally:
        for task in tricklers:
            task.cancel()
        for _, w in conns:
            w.close()
        await receiver.stop()
