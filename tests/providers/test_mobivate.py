"""Mobivate specifics: batch body, polling, reconciliation, provider opt-outs, status codes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from smsdesk.domain.errors import ProviderError
from smsdesk.domain.models import OutboundMessage
from smsdesk.domain.status import Status
from smsdesk.domain.webhook_request import WebhookRequest
from smsdesk.providers import mobivate
from smsdesk.providers._http import make_client
from smsdesk.providers.base import AccountConfig
from tests.providers.fakes import FakeProvider, Reply

pytestmark = pytest.mark.asyncio
HOOK = "http://127.0.0.1:9/hooks/3?token=tok-123"


@pytest_asyncio.fixture
async def env() -> AsyncIterator[tuple[FakeProvider, mobivate.MobivateProvider]]:
    fake = FakeProvider("mobivate")
    await fake.start()
    client = make_client(timeout=2.0)
    acct = AccountConfig("m", fake.url, "Bistro", {"webhook_token": "tok-123"}, {"api_key": "k"}, HOOK)
    try:
        yield fake, mobivate.MobivateProvider(acct, client)
    finally:
        await client.aclose()
        await fake.stop()


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("DELIVERED", 1, Status.DELIVERED),
        ("INTERIM_QUEUED", 8, Status.SENT),  # provider-side pending never means "in our outbox"
        ("EXPIRED", 3, Status.EXPIRED),
        ("FAILED_NOROUTE", 12, Status.REJECTED),
        ("FAILED_SOMETHING_LATER", 31, Status.FAILED),  # an unlisted FAILED_* is a failure
        (None, 5, Status.FAILED),
        ("delivered", None, Status.DELIVERED),
        ("BRAND_NEW", 77, Status.UNKNOWN),
    ],
)
async def test_status_mapping(name: str | None, code: int | None, expected: Status) -> None:
    status, raw = mobivate.map_status(name, code)
    assert status == expected
    assert raw == (name or str(code))


async def test_single_send_carries_reference_callback_and_schedule(env) -> None:
    fake, p = env
    when = datetime(2030, 3, 1, 14, 30, tzinfo=UTC)
    res = await p.send(OutboundMessage("L1", "+447911123456", "", "hi", send_at=when))
    body = fake.sends[0].json
    assert body["reference"] == "L1" and body["originator"] == "Bistro"
    assert body["callbackURL"] == HOOK
    assert body["scheduleDateTime"] == "2030-03-01T14:30:00Z"
    assert body["excludeOptouts"] is True
    assert fake.sends[0].headers["Authorization"] == "Bearer k"
    assert res.status == Status.SCHEDULED and res.provider_message_id


async def test_batch_maps_each_reference_to_its_id(env) -> None:
    fake, p = env
    msgs = [OutboundMessage(f"L{i}", f"+44791112345{i}", "", f"Hi {i}") for i in range(3)]
    results = await p.send_bulk(msgs)
    body = fake.sends[0].json
    assert fake.sends[0].path == "/send/batch"
    assert [r["reference"] for r in body["recipients"]] == ["L0", "L1", "L2"]
    assert all("text" in r for r in body["recipients"])  # texts differ: each recipient has its own
    assert body["excludeOptOuts"] is True
    assert all(r.provider_message_id and r.batch_id for r in results)


async def test_a_bad_number_in_a_batch_fails_alone(env) -> None:
    fake, p = env
    msgs = [OutboundMessage("ok", "+447911123456", "", "x"), OutboundMessage("bad", "not-a-number", "", "x")]
    results = {r.local_id: r for r in await p.send_bulk(msgs)}
    assert results["ok"].status == Status.SENT
    assert results["bad"].status == Status.REJECTED and "not-a-number" in (results["bad"].error or "")
    assert len(fake.sends[0].json["recipients"]) == 1


async def test_reconcile_finds_an_ambiguous_send_in_the_log(env) -> None:
    fake, p = env
    fake.push(
        Reply(
            body=[
                {"id": "x1", "senderReference": "other", "status": "DELIVERED"},
                {"id": "x2", "senderReference": "L9", "status": "ACCEPTED", "statusCode": 2},
            ]
        )
    )
    found = await p.reconcile("L9", datetime.now(UTC) - timedelta(hours=1))
    assert found is not None and found.provider_message_id == "x2" and found.status == Status.SENT
    q = fake.requests[-1].query
    assert q["direction"] == "MT" and q["pageSize"] == "1000"
    assert await p.reconcile("L10", datetime.now(UTC) - timedelta(hours=1)) is None


async def test_poll_status_and_inbound(env) -> None:
    fake, p = env
    ev = await p.poll_status("abc")
    assert ev is not None and ev.status == Status.DELIVERED and ev.client_ref == "ref-1"
    assert fake.requests[-1].path == "/message/abc"
    fake.push(Reply(body={"code": 404, "message": "Not Found"}, status=404))
    assert await p.poll_status("gone") is None
    fake.push(
        Reply(
            body=[
                {
                    "id": "mo1",
                    "originator": "447911123456",
                    "recipient": "447860000100",
                    "body": "Yes",
                    "direction": "MO",
                    "created": "2023-09-01T00:30:36+0000",
                }
            ]
        )
    )
    [mo] = await p.poll_inbound(datetime.now(UTC) - timedelta(days=1))
    assert (mo.from_number, mo.to_number, mo.text) == ("+447911123456", "+447860000100", "Yes")
    assert mo.received_at is not None and fake.requests[-1].query["direction"] == "MO"


async def test_optouts_are_mirrored_on_the_provider(env) -> None:
    fake, p = env
    await p.optout_add("+447911123456")
    await p.optout_remove("+447911123456")
    assert [(r.method, r.path, r.json) for r in fake.requests] == [
        ("POST", "/addressbook/optout", {"mobile": "447911123456"}),
        ("DELETE", "/addressbook/optout", {"mobile": "447911123456"}),
    ]


async def test_403_without_a_name_reads_the_words(env) -> None:
    fake, p = env
    fake.push(Reply(403, {"message": "Recipient has opted out"}), Reply(403, {"message": "Invalid API key"}))
    with pytest.raises(ProviderError) as a:
        await p.send(OutboundMessage("L1", "+447911123456", "", "hi"))
    with pytest.raises(ProviderError) as b:
        await p.send(OutboundMessage("L2", "+447911123456", "", "hi"))
    assert a.value.opted_out and not a.value.auth
    assert b.value.auth and not b.value.opted_out


async def test_test_call_proves_the_key(env) -> None:
    fake, p = env
    assert "accepted" in await p.test()
    fake.push(Reply(401, {"code": 401, "message": "Unauthorized"}))
    with pytest.raises(ProviderError) as info:
        await p.test()
    assert info.value.auth and "Unauthorized" in str(info.value)


async def test_loopback_callback_is_not_sent_to_a_remote_mobivate() -> None:
    client = make_client(timeout=2.0)
    try:
        remote = mobivate.MobivateProvider(
            AccountConfig("m", "https://api.example.net", "Bistro", {}, {"api_key": "k"}, HOOK), client
        )
        public = mobivate.MobivateProvider(
            AccountConfig(
                "m", "https://api.example.net", "Bistro", {}, {"api_key": "k"}, "https://abc.ngrok.app/hooks/3?token=t"
            ),
            client,
        )
    finally:
        await client.aclose()
    assert "callbackURL" not in remote._single_body(OutboundMessage("L", "+447911123456", "", "x"))
    assert public._single_body(OutboundMessage("L", "+447911123456", "", "x"))["callbackURL"].startswith("https://abc")


async def test_batch_items_the_server_refuses_are_rejected_with_its_words() -> None:
    """Against the sandbox's Mobivate routes: an opted-out recipient is refused inside a 200 batch."""
    from smsdesk.sandbox import SandboxConfig, SandboxServer

    server = SandboxServer(SandboxConfig(api_key="k-sand", send_receipts=False))
    url = await server.start()
    client = make_client(timeout=5.0)
    try:
        p = mobivate.MobivateProvider(
            AccountConfig("m", url + "/mobivate", "Bistro", {"webhook_token": "t"}, {"api_key": "k-sand"}, ""), client
        )
        await p.optout_add("+447911123452")
        msgs = [OutboundMessage(f"L{i}", f"+44791112345{i}", "", "Sale today") for i in range(1, 4)]
        res = {r.local_id: r for r in await p.send_bulk(msgs)}
    finally:
        await client.aclose()
        await server.stop()
    assert res["L2"].status == Status.REJECTED
    assert "Recipient has opted out" in (res["L2"].error or "")
    assert {res["L1"].status, res["L3"].status} == {Status.SENT}
    assert res["L1"].provider_message_id and res["L3"].provider_message_id
    assert sorted(r.client_reference or "" for r in server.sent) == ["L1", "L3"]


async def test_batch_items_missing_from_the_answer_need_review(env) -> None:
    fake, p = env
    msgs = [OutboundMessage(f"L{i}", f"+44791112345{i}", "", "hi") for i in range(3)]
    fake.push(
        Reply(
            body={
                "success": True,
                "record": {
                    "id": "b1",
                    "recipients": [{"id": "r0", "recipient": "447911123450", "reference": "L0"}],
                    "rejected": [{"index": 2, "error": "Invalid Recipient object"}],
                },
            }
        )
    )
    res = {r.local_id: r for r in await p.send_bulk(msgs)}
    assert (res["L0"].status, res["L0"].provider_message_id, res["L0"].batch_id) == (Status.SENT, "r0", "b1")
    assert res["L1"].status == Status.NEEDS_REVIEW
    assert "did not mention this message" in (res["L1"].error or "")
    assert res["L2"].status == Status.REJECTED and "Invalid Recipient object" in (res["L2"].error or "")


async def test_a_batch_answer_with_only_a_short_count_claims_nothing_as_sent(env) -> None:
    fake, p = env
    msgs = [OutboundMessage(f"L{i}", f"+44791112345{i}", "", "hi") for i in range(3)]
    fake.push(
        Reply(body={"success": True, "record": {"id": "b2", "type": "BatchSMS", "recipientCount": 2}}),
        Reply(body={"success": True, "record": {"id": "b3", "type": "BatchSMS", "recipientCount": 3}}),
    )
    short = await p.send_bulk(msgs)
    assert {r.status for r in short} == {Status.NEEDS_REVIEW}
    assert "accepted 2 of 3" in (short[0].error or "")
    full = await p.send_bulk(msgs)
    assert {r.status for r in full} == {Status.SENT}


@pytest.mark.parametrize(("name", "code"), [("INTERIM_QUEUED", 8), ("RETRY", 10), (None, 8), (None, 10)])
async def test_provider_side_pending_is_sent_with_the_raw_status_kept(name: str | None, code: int) -> None:
    # No PENDING in smsdesk (documented deviation): SENT, never our outbox's QUEUED.
    assert mobivate.map_status(name, code) == (Status.SENT, name or str(code))
    body = json.dumps({"deliveryMessageId": "d" * 32, "clientReference": "L1", "status": name, "statusCode": code})
    [ev] = (
        mobivate.MobivateProvider(AccountConfig("m", "", "B"), None)
        .parse_webhook(  # type: ignore[arg-type]
            WebhookRequest("POST", "/hooks/3", {}, body.encode())
        )
        .receipts
    )
    assert (ev.status, ev.raw_status, ev.error) == (Status.SENT, name or str(code), None)
