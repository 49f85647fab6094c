"""Send-2, Channel API and PureSMS specifics beyond the shared contract."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import jwt
import pytest
import pytest_asyncio

from smsdesk.domain.errors import InvalidInput, ProviderError
from smsdesk.domain.models import OutboundMessage
from smsdesk.domain.status import Status
from smsdesk.domain.webhook_request import WebhookRejected, WebhookRequest
from smsdesk.providers import channel, puresms, registry, send2
from smsdesk.providers._http import make_client
from smsdesk.providers.base import AccountConfig, Provider
from tests.providers.fakes import FakeProvider, Reply

pytestmark = pytest.mark.asyncio
MPESA = "8556a495c390f3ba95d2bdf6d06436f2fd09f516531f0a7cd9591c60812fa46d"  # Send-2 docs' example
SECRET = "a-long-enough-channel-callback-secret-01"


@pytest_asyncio.fixture
async def mk() -> AsyncIterator:
    made: list[tuple[FakeProvider, object]] = []

    async def make(pid: str, wire: str, sender: str = "Bistro", **settings: str) -> tuple[FakeProvider, Provider]:
        fake = FakeProvider(wire)
        await fake.start()
        client = make_client(timeout=2.0)
        secrets = {"api_key": "k", "jwt_secret": settings.pop("jwt_secret", ""), "webhook_secret": "w"}
        acct = AccountConfig(pid, fake.url, sender, settings, secrets, "http://127.0.0.1:9/hooks/4")
        made.append((fake, client))
        return fake, registry.build(pid, acct, client)

    yield make
    for fake, client in made:
        await client.aclose()  # type: ignore[attr-defined]
        await fake.stop()


# ---- Send-2 -----------------------------------------------------------------------------
async def test_send2_hash_passthrough_and_optional_kenyan_hashing(mk) -> None:
    fake, plain = await mk("send2", "send2", "12345")
    await plain.send(OutboundMessage("a", MPESA, "", "otp"))
    await plain.send(OutboundMessage("b", "+254722000000", "", "otp"))
    assert [r.json["phone"] for r in fake.sends] == [MPESA, "+254722000000"]
    assert fake.sends[0].json["sender"] == 12345
    fake2, hashing = await mk("send2", "send2", "12345", hash_kenyan="true")
    await hashing.send(OutboundMessage("c", "+254722000000", "", "otp"))
    await hashing.send(OutboundMessage("d", "+447911123456", "", "otp"))  # never hash a non-Kenyan number
    assert [r.json["phone"] for r in fake2.sends] == [MPESA, "+447911123456"]
    assert hashlib.sha256(b"254722000000").hexdigest() == MPESA


@pytest.mark.parametrize(
    ("dlr", "expected"),
    [
        ("Delivered To Terminal", Status.DELIVERED),
        ("DeliveredToNetwork", Status.SENT),
        ("MessageWaiting", Status.SENT),
        ("DeliveryImpossible", Status.FAILED),
        ("Delivery Uncertain", Status.UNKNOWN),
        ("Not Delivered", Status.FAILED),
        ("Rejected By Operator", Status.REJECTED),
        ("Zorbled", Status.UNKNOWN),
    ],
)
async def test_send2_dlr_keywords_keep_the_raw_text(mk, dlr: str, expected: Status) -> None:
    fake, p = await mk("send2", "send2", "12345")
    fake.push(Reply(body={"success": True, "message": "Fetched", "data": {"status": "Sent", "dlr": dlr, "units": 1}}))
    ev = await p.poll_status("01ksm2b4y5ttaca57a66f5aw81")
    assert ev is not None and (ev.status, ev.raw_status) == (expected, dlr)
    assert fake.requests[-1].path == "/v1/message/01ksm2b4y5ttaca57a66f5aw81"


async def test_send2_units_balance_and_refusals(mk) -> None:
    fake, p = await mk("send2", "send2", "12345")
    res = await p.send(OutboundMessage("a", "+254722000000", "", "otp"))
    assert (res.provider_message_id, res.segments, res.raw_status) == ("01ksm2b4y5ttaca57a66f5aw81", 1, "Sent")
    assert "678,999" in await p.test()
    fake.push(Reply(200, {"success": False, "message": "Sender not allowed"}))
    with pytest.raises(ProviderError, match="Sender not allowed"):
        await p.send(OutboundMessage("b", "+254722000000", "", "otp"))


# ---- Channel API ------------------------------------------------------------------------
async def test_channel_body_and_chan_headers(mk) -> None:
    fake, p = await mk("channel", "channel", url="/send", **{"chan.Example-Token": "123", "chan.Region": "eu"})
    await p.send(OutboundMessage("L1", "+447911123456", "", "hi"))
    [req] = fake.sends
    assert req.path == "/send"
    assert req.headers["Chan-Api-Key"] == "k"
    assert req.headers["Chan-Example-Token"] == "123" and req.headers["Chan-Region"] == "eu"
    assert {k: req.json[k] for k in ("sender", "recipient", "request_id", "custom_data", "webhook_url")} == {
        "sender": "Bistro",
        "recipient": "00447911123456",
        "request_id": "L1",
        "custom_data": "L1",
        "webhook_url": "http://127.0.0.1:9/hooks/4",
    }
    assert isinstance(req.json["metadata"], dict)


async def test_channel_url_may_be_absolute_and_test_uses_verify_url(mk) -> None:
    fake, _ = await mk("channel", "channel")
    client = make_client(timeout=2.0)
    try:
        acct = AccountConfig(
            "c", "", "Bistro", {"url": fake.url + "/x/send", "verify_url": fake.url + "/x/verify"}, {"api_key": "k"}, ""
        )
        p = registry.build("channel", acct, client)
        await p.send(OutboundMessage("L1", "+447911123456", "", "hi"))
        assert "accepted" in await p.test()
        assert [r.path for r in fake.requests] == ["/x/send", "/x/verify"]
        with pytest.raises(InvalidInput):
            await registry.build("channel", AccountConfig("c", "", "B", {}, {}, ""), client).send(
                OutboundMessage("L2", "+447911123456", "", "hi")
            )
    finally:
        await client.aclose()


def _hook(auth: str | None) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if auth is not None:
        headers["authorization"] = auth
    return WebhookRequest("POST", "/hooks/4", headers, b'[{"custom_data":"L1","status":"delivered"}]')


async def test_channel_jwt_raw_or_bearer_with_iat_window(mk) -> None:
    _, p = await mk("channel", "channel", url="/send", jwt_secret=SECRET)
    now = time.time()
    token = jwt.encode({"iat": int(now)}, SECRET, algorithm="HS256")
    p.verify_webhook(_hook(token), now)
    p.verify_webhook(_hook("Bearer " + token), now)
    bad = [
        None,
        jwt.encode({"iat": int(now)}, "another-secret-of-enough-length-000001", algorithm="HS256"),
        jwt.encode({"iat": int(now - 16 * 60)}, SECRET, algorithm="HS256"),
        jwt.encode({"iat": int(now + 600)}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "x"}, SECRET, algorithm="HS256"),
        "Bearer not.a.jwt",
    ]
    for auth in bad:
        with pytest.raises(WebhookRejected):
            p.verify_webhook(_hook(auth), now)
    # No JWT secret: the callback URL's token authenticates the report (issue 4: no open route).
    _, open_p = await mk("channel", "channel", url="/send", webhook_token="tok-0123456789")
    with pytest.raises(WebhookRejected):
        open_p.verify_webhook(_hook(None), now)
    unsigned = _hook(None)
    open_p.verify_webhook(
        WebhookRequest("POST", unsigned.path, unsigned.headers, unsigned.body, {"token": "tok-0123456789"}), now
    )


async def test_channel_statuses_never_crash() -> None:
    assert channel.map_status("enqueue_failed") == (Status.REJECTED, "enqueue_failed")
    assert channel.map_status("Delivered") == (Status.DELIVERED, "Delivered")
    assert channel.map_status(None) == (Status.UNKNOWN, "")
    assert channel.map_status(42) == (Status.UNKNOWN, "42")


# ---- PureSMS ----------------------------------------------------------------------------
async def test_puresms_207_fails_only_the_rejected_items(mk) -> None:
    fake, p = await mk("puresms", "puresms")
    fake.push(
        Reply(
            207,
            {
                "batchId": "77",
                "messageCount": 2,
                "messageIds": ["1", None, "3"],
                "errors": [{"index": 1, "error": "Recipient is blocked"}],
            },
        )
    )
    msgs = [OutboundMessage(f"L{i}", f"+44791112345{i}", "", "hi") for i in range(3)]
    res = {r.local_id: r for r in await p.send_bulk(msgs)}
    assert res["L1"].status == Status.REJECTED and res["L1"].error == "Recipient is blocked"
    assert (res["L0"].provider_message_id, res["L2"].provider_message_id) == ("1", "3")
    assert res["L0"].batch_id == "77"
    assert [m["clientReference"] for m in fake.sends[0].json["messages"]] == ["L0", "L1", "L2"]


async def test_puresms_schedule_and_cancel(mk) -> None:
    fake, p = await mk("puresms", "puresms")
    res = await p.send(OutboundMessage("L1", "+447911123456", "", "hi", send_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC)))
    assert res.status == Status.SCHEDULED and fake.sends[0].json["sendAtUtc"] == "2030-01-02T03:04:00Z"
    await p.cancel(res.provider_message_id or "")
    fake.push(Reply(400, {"message": "Message not found or can no longer be cancelled"}))
    with pytest.raises(ProviderError, match="can no longer be cancelled"):
        await p.cancel("5")


async def test_provider_side_queued_never_means_our_outbox() -> None:
    # No PENDING in smsdesk (documented deviation): SENT, with the raw status kept.
    assert puresms.map_status("Queued") == (Status.SENT, "Queued")
    assert puresms.map_status(1) == (Status.SENT, "1")
    assert send2.map_dlr("Queued")[0] == Status.SENT


async def test_puresms_test_accepts_only_answers_that_prove_the_key(mk) -> None:
    fake, p = await mk("puresms", "puresms")
    fake.push(Reply(400, {"message": "Message not found or can no longer be cancelled"}))
    assert "accepted the API key" in await p.test()
    assert (fake.requests[-1].method, fake.requests[-1].path) == ("DELETE", "/sms/send/0")
    assert fake.requests[-1].headers["X-Api-Key"] == "k"
    refusals = [
        (Reply(404, {"title": "Not Found"}), "Check the base URL", False),  # some other API at this URL
        (Reply(404, "<h1>Not Found</h1>", action="text"), "Check the base URL", False),
        (Reply(200, "<html>Welcome to nginx</html>", action="text"), "not JSON", False),
        (Reply(302, "moved", action="text"), "Check the base URL", False),
        (Reply(429, {"message": "Slow down"}, {"Retry-After": "7"}), "press Test again in 7 s", False),
        (Reply(401, {"title": "Unauthorized"}), "refused the API key", True),
    ]
    for reply, words, auth in refusals:
        fake.push(reply)
        with pytest.raises(ProviderError) as info:
            await p.test()
        assert words in str(info.value), reply
        assert "accepted" not in str(info.value)
        assert info.value.auth is auth


async def test_channel_test_without_a_verify_url_says_the_key_was_not_checked(mk) -> None:
    fake, p = await mk("channel", "channel", url="/send")
    with pytest.raises(ProviderError) as info:
        await p.test()
    assert str(info.value).startswith("Saved; this connector has no verify endpoint, so the key was not checked")
    assert fake.requests == []  # nothing was called, so nothing can have been proved
