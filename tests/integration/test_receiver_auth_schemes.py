"""The other providers' callback authentication through the real receiver: Mobivate's secret
URL token and the Channel API's HS256 JWT. Rejections store nothing and are logged."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import jwt
import pytest
import pytest_asyncio

from smsdesk.runtime import Runtime

JWT_SECRET = "channel-callback-secret-long-enough-0001"
DR = {
    "deliveryMessageId": "a3f1c2d4e5f60718293a4b5c6d7e8f90",
    "batchId": "b1",
    "clientReference": "ref-1",
    "created": "2026-11-22T10:00:00.000+00:00",
    "status": "DELIVERED",
    "statusCode": 1,
    "parts": 1,
    "hlr": None,
}
REPORT = [
    {
        "request_id": "req-1",
        "custom_data": "ref-1",
        "message_id": "m-1",
        "status": "delivered",
        "timestamp": "2026-11-22T10:00:00Z",
        "error": None,
    }
]


@pytest_asyncio.fixture
async def rt(_isolated_home: Path) -> AsyncIterator[Runtime]:
    rt = Runtime.open(str(_isolated_home))
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    try:
        yield rt
    finally:
        await rt.stop()
        rt.close()


async def _post(url: str, body: object, headers: dict[str, str] | None = None) -> int:
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=json.dumps(body).encode(), headers=hdrs) as resp,
    ):
        return resp.status


def _stored(rt: Runtime) -> int:
    return int(rt.store.db.query_one("SELECT count(*) FROM webhook_events")[0])


@pytest.mark.asyncio
async def test_mobivate_url_token(rt: Runtime) -> None:
    acct = await rt.accounts.add("Mob", "mobivate", {"api_key": "k", "sender": "Shop"})
    good = rt.accounts.webhook_url(acct)
    token = acct.settings["webhook_token"]
    bare = good.split("?")[0]
    assert await _post(bare, DR) == 401
    assert await _post(f"{bare}?token=guess", DR) == 401
    assert await _post(f"{bare}?token={token[:-1]}", DR) == 401
    assert _stored(rt) == 0
    assert await _post(good, DR) == 200
    assert await _post(good, DR) == 200  # a retry of the same (id, status): stored once
    assert _stored(rt) == 1
    reasons = [r["reason"] for r in rt.store.db.query("SELECT reason FROM webhook_log WHERE outcome = 'rejected'")]
    assert reasons == ["the callback URL has no ?token=", "wrong callback token", "wrong callback token"]
    assert not any(token in r for r in reasons)  # the secret never reaches the log


@pytest.mark.asyncio
async def test_channel_api_jwt(rt: Runtime) -> None:
    acct = await rt.accounts.add(
        "Chan",
        "channel",
        {"api_key": "k", "sender": "Shop", "url": "http://127.0.0.1:9/send", "jwt_secret": JWT_SECRET},
    )
    url = rt.accounts.webhook_url(acct)
    now = int(time.time())

    def bearer(secret: str = JWT_SECRET, iat: int = now) -> dict[str, str]:
        return {"Authorization": "Bearer " + jwt.encode({"iat": iat}, secret, algorithm="HS256")}

    assert await _post(url, REPORT) == 401  # no JWT
    assert await _post(url, REPORT, bearer(secret="x" * 40)) == 401  # wrong secret
    assert await _post(url, REPORT, bearer(iat=now - 3600)) == 401  # stale
    assert await _post(url, REPORT, bearer(iat=now + 3600)) == 401  # from the future
    assert await _post(url, REPORT, {"Authorization": "Bearer not.a.jwt"}) == 401
    assert _stored(rt) == 0
    assert await _post(url, REPORT, bearer()) == 200
    assert _stored(rt) == 1


@pytest.mark.asyncio
async def test_channel_api_without_jwt_secret_is_authenticated_by_the_url_token(rt: Runtime) -> None:
    from smsdesk.domain.models import OutboundMessage
    from tests.providers.fakes import FakeProvider

    fake = FakeProvider("channel")
    await fake.start()
    try:
        acct = await rt.accounts.add("Chan", "channel", {"api_key": "k", "sender": "Shop", "url": fake.url + "/send"})
        token = acct.settings["webhook_token"]
        assert len(token) >= 24  # generated when not given
        # The URL smsdesk hands the connector with every message carries the token.
        await rt.accounts.adapter(acct.id).send(OutboundMessage("ref-1", "+447911123456", "Shop", "hi"))
        sent_url = fake.sends[0].json["webhook_url"]
        assert sent_url.endswith(f"/hooks/{acct.id}?token={token}")
    finally:
        await fake.stop()
    good = rt.accounts.webhook_url(acct)
    bare = good.split("?")[0]
    assert await _post(bare, REPORT) == 401  # anyone who guesses the port and account id
    assert await _post(f"{bare}?token=guess", REPORT) == 401
    assert _stored(rt) == 0
    assert await _post(good, REPORT) == 200
    assert await _post(good, REPORT) == 200  # the same report replayed: stored once
    assert _stored(rt) == 1
    log = rt.store.db.query("SELECT outcome, reason FROM webhook_log ORDER BY id")
    assert [r["outcome"] for r in log] == ["rejected", "rejected", "accepted", "duplicate"]
    assert "no ?token=" in log[0]["reason"] and log[1]["reason"] == "wrong callback token"
    assert not any(token in r["reason"] for r in log)


@pytest.mark.asyncio
async def test_channel_api_jwt_from_the_near_future_is_refused(rt: Runtime) -> None:
    acct = await rt.accounts.add(
        "Chan",
        "channel",
        {"api_key": "k", "sender": "Shop", "url": "http://127.0.0.1:9/send", "jwt_secret": JWT_SECRET},
    )
    url = rt.accounts.webhook_url(acct)

    def bearer(iat: float) -> dict[str, str]:
        return {"Authorization": "Bearer " + jwt.encode({"iat": int(iat)}, JWT_SECRET, algorithm="HS256")}

    assert await _post(url, REPORT, bearer(time.time() + 180)) == 401  # beyond the clock skew allowed
    assert "in the future" in rt.store.db.query_one("SELECT reason FROM webhook_log")["reason"]
    assert await _post(url, REPORT, bearer(time.time() - 14 * 60)) == 200  # the contract's 15 minutes


def test_an_account_made_before_the_token_existed_gets_one(_isolated_home: Path) -> None:
    rt = Runtime.open(str(_isolated_home))
    try:
        rt.store.db.write_sync(
            lambda c: c.execute(
                "INSERT INTO accounts (name, provider, settings, created_at, updated_at) VALUES "
                "('Old', 'channel', '{\"url\": \"http://127.0.0.1:9/send\"}', '2026-01-01', '2026-01-01')"
            )
        )
    finally:
        rt.close()
    rt = Runtime.open(str(_isolated_home))
    try:
        old = rt.accounts.by_name("Old")
        assert len(old.settings["webhook_token"]) >= 24
        assert rt.accounts.webhook_url(old).endswith("?token=" + old.settings["webhook_token"])
    finally:
        rt.close()
