"""The contract every adapter keeps, run over each one against its fake server."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from smsdesk.domain.errors import ErrorKind, InvalidInput, InvalidNumber, ProviderError
from smsdesk.domain.models import OutboundMessage
from smsdesk.domain.status import Status
from smsdesk.domain.webhook_request import WebhookRejected
from smsdesk.providers import registry
from smsdesk.providers._http import make_client
from smsdesk.providers.base import AccountConfig, Provider
from tests.providers.cases import CASES, Case, now
from tests.providers.fakes import FakeProvider, Reply

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest_asyncio.fixture
async def fake(case: Case) -> AsyncIterator[FakeProvider]:
    server = FakeProvider(case.wire)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def build(case: Case, base_url: str, client: Any, **settings: Any) -> Provider:
    acct = AccountConfig(
        name=f"test-{case.id}",
        base_url=base_url,
        sender=case.sender,
        settings={**case.settings, **settings},
        secrets=case.secrets,
        webhook_url="http://127.0.0.1:9/hooks/1?token=tok-123",
    )
    return registry.build(case.id, acct, client)


@pytest_asyncio.fixture
async def adapter(case: Case, fake: FakeProvider) -> AsyncIterator[Provider]:
    client = make_client(timeout=2.0)
    try:
        yield build(case, fake.url, client)
    finally:
        await client.aclose()


def msg(case: Case, sender: str = "", to: str = "") -> OutboundMessage:
    return OutboundMessage("a1b2c3d4e5f60718293a4b5c6d7e8f90", to or case.to, sender, "Your table is booked for 7pm")


async def test_send_ok_sends_the_wire_format(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    result = await adapter.send(msg(case))
    assert result.status == Status.SENT
    assert result.local_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    [req] = fake.sends
    assert req.path == case.send_path
    assert req.json[case.number_key] == case.wire_number
    assert req.headers["Content-Type"].startswith("application/json")
    if case.wire != "send2":  # Send-2 has no client reference at all
        assert "a1b2c3d4e5f60718293a4b5c6d7e8f90" in str(req.json)


async def test_each_error_class_keeps_the_providers_words(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    assert case.errors
    for status, body, headers, kind, flag, words in case.errors:
        fake.push(Reply(status, body, headers))
        with pytest.raises(ProviderError) as info:
            await adapter.send(msg(case))
        err = info.value
        label = f"HTTP {status} {body}"
        assert err.kind == kind, label
        assert err.status_code == status, label
        assert words in str(err), label
        assert err.auth == (flag == "auth"), label
        assert err.opted_out == (flag == "opted_out"), label
        assert err.rejected == (flag == "rejected"), label
        if "Retry-After" in headers:
            assert err.retry_after == float(headers["Retry-After"]), label


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: a new connection's SYN is dropped, so the
    client's connect times out and not one byte of the request is ever written."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):  # the first is queued, the rest keep the queue full
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for sock in (*fillers, server):
            sock.close()


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_connect_refused_is_retryable(case: Case, transport: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(timeout=2.0, transport=transport)
    try:
        with pytest.raises(ProviderError) as info:
            await build(case, f"http://127.0.0.1:{port}", client).send(msg(case))
    finally:
        await client.aclose()
    assert info.value.kind == ErrorKind.RETRYABLE
    assert "nothing was sent" in str(info.value)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_timeout_before_the_request_was_sent_is_retryable(
    case: Case, transport: str, unanswered_port: int
) -> None:
    client = make_client(timeout=httpx.Timeout(5.0, connect=0.3), transport=transport)
    try:
        with pytest.raises(ProviderError) as info:
            await build(case, f"http://127.0.0.1:{unanswered_port}", client).send(msg(case))
    finally:
        await client.aclose()
    assert info.value.kind == ErrorKind.RETRYABLE, str(info.value)
    assert "nothing was sent" in str(info.value)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_no_answer_after_upload_is_ambiguous(case: Case, fake: FakeProvider, transport: str) -> None:
    fake.push(Reply(action="hang"))
    client = make_client(timeout=0.5, transport=transport)
    try:
        with pytest.raises(ProviderError) as info:
            await build(case, fake.url, client).send(msg(case))
    finally:
        await client.aclose()
    assert info.value.kind == case.ambiguous_kind
    assert len(fake.sends) == 1


async def test_dropped_connection_is_not_blindly_retried(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    fake.push(Reply(action="drop"))
    with pytest.raises(ProviderError) as info:
        await adapter.send(msg(case))
    assert info.value.kind == case.ambiguous_kind


async def test_invalid_sender_is_refused_before_any_request(case: Case, fake: FakeProvider) -> None:
    client = make_client(timeout=2.0)
    try:
        p = build(case, fake.url, client)
        acct = AccountConfig(
            p.account.name, p.account.base_url, "", p.account.settings, p.account.secrets, p.account.webhook_url
        )  # no account sender to fall back on
        p = registry.build(case.id, acct, client)
        for bad in {case.bad_sender, *case.bad_senders}:
            with pytest.raises(InvalidInput) as info:
                await p.send(msg(case, sender=bad))
            assert bad in str(info.value) or "sender" in str(info.value).lower(), bad
    finally:
        await client.aclose()
    assert fake.sends == []


async def test_sender_id_rules(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    assert case.senders
    for given, wire in case.senders:
        await adapter.send(msg(case, sender=given))
        sent = fake.sends[-1].json["sender" if "sender" in fake.sends[-1].json else "originator"]
        assert sent == wire and type(sent) is type(wire), given  # Send-2: an integer, not a string


async def test_number_formatting(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    assert case.numbers
    for given, wire in case.numbers:
        await adapter.send(msg(case, to=given))
        assert fake.sends[-1].json[case.number_key] == wire, given


async def test_invalid_number_is_refused_before_any_request(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    assert case.bad_numbers
    for bad in case.bad_numbers:
        with pytest.raises(InvalidNumber) as info:
            await adapter.send(msg(case, to=bad))
        assert bad in str(info.value) and "country code" in str(info.value), bad  # what is wrong, what to do
    assert fake.sends == []


async def test_429_retry_after_as_an_http_date(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    fake.push(
        Reply(429, {"message": "slow down", "error": "slow down"}, {"Retry-After": format_datetime(when, usegmt=True)})
    )
    with pytest.raises(ProviderError) as info:
        await adapter.send(msg(case))
    assert info.value.kind == ErrorKind.RETRYABLE
    assert info.value.retry_after is not None and 60 < info.value.retry_after <= 121


async def test_webhook_parsing_from_captured_bodies(case: Case, adapter: Provider, data_dir: Path) -> None:
    for name, n_receipts, n_inbound, status, raw, ref in case.hooks:
        body = (data_dir / "webhooks" / name).read_bytes()
        parsed = adapter.parse_webhook(case.request(body))
        assert (len(parsed.receipts), len(parsed.inbound)) == (n_receipts, n_inbound), name
        if n_receipts:
            first = parsed.receipts[0]
            assert (first.status, first.raw_status, first.client_ref) == (status, raw, ref), name
        if n_inbound:
            assert parsed.inbound[0].from_number.startswith("+"), name
            assert parsed.inbound[0].text
            if not n_receipts:
                assert parsed.inbound[0].from_number == ref, name
        assert adapter.webhook_dedupe_key(case.request(body))
    for name, pmid in case.hook_ids:
        parsed = adapter.parse_webhook(case.request((data_dir / "webhooks" / name).read_bytes()))
        [item] = parsed.receipts or parsed.inbound
        assert item.provider_message_id == pmid, name
    if not case.hooks:
        assert not adapter.spec.caps.webhooks


async def test_webhook_authentication_accepts_and_rejects(case: Case, adapter: Provider, data_dir: Path) -> None:
    if case.sign is None or not case.forges:
        pytest.skip(f"{case.id} has no webhooks")
    body = (data_dir / "webhooks" / case.hooks[0][0]).read_bytes()
    t = now()
    headers, query = case.sign(body, t)
    adapter.verify_webhook(case.request(body, headers, query), t)
    for forge in case.forges:
        forged_h, forged_q = forge(body, t)
        with pytest.raises(WebhookRejected) as info:
            adapter.verify_webhook(case.request(body, forged_h, forged_q), t)
        assert info.value.status == 401
    with pytest.raises(WebhookRejected):
        adapter.verify_webhook(case.request(body), t)


async def test_webhook_time_must_be_a_finite_whole_number_within_the_window(
    case: Case, adapter: Provider, data_dir: Path
) -> None:
    """A correctly signed request with ``nan``, ``inf`` or a 400-digit time is refused (401), never
    accepted for ever and never an exception other than the refusal (a 500 at the receiver)."""
    if case.stamp is None:
        pytest.skip(f"{case.id}'s callbacks carry no time to check" if case.hooks else f"{case.id} has no webhooks")
    body = (data_dir / "webhooks" / case.hooks[0][0]).read_bytes()
    t = int(now())
    for text in case.good_stamps(t):
        headers, query = case.stamp(body, text)
        adapter.verify_webhook(case.request(body, headers, query), t)
    outcomes: dict[str, str] = {}
    for text in case.bad_stamps(t):
        headers, query = case.stamp(body, text)
        try:
            adapter.verify_webhook(case.request(body, headers, query), t)
            outcomes[text[:40]] = "accepted"
        except WebhookRejected as rej:
            if rej.status != 401:
                outcomes[text[:40]] = f"answered {rej.status}"
        except Exception as exc:  # noqa: BLE001 - what the receiver would have turned into a 500
            outcomes[text[:40]] = f"raised {type(exc).__name__}"
    assert outcomes == {}


async def test_duplicate_deliveries_share_a_dedupe_key(case: Case, adapter: Provider, data_dir: Path) -> None:
    if not case.hooks:
        pytest.skip(f"{case.id} has no webhooks")
    keys = {adapter.webhook_dedupe_key(case.request((data_dir / "webhooks" / h[0]).read_bytes())) for h in case.hooks}
    assert len(keys) == len(case.hooks)  # different events never collide
    body = (data_dir / "webhooks" / case.hooks[0][0]).read_bytes()
    assert adapter.webhook_dedupe_key(case.request(body)) == adapter.webhook_dedupe_key(case.request(body))


async def test_bulk_capable_adapters_send_in_chunks(case: Case, fake: FakeProvider, adapter: Provider) -> None:
    caps = adapter.spec.caps
    if not caps.bulk:
        with pytest.raises(ProviderError):
            await adapter.send_bulk([msg(case)])
        return
    msgs = [OutboundMessage(f"id{i:05d}", case.to, "", f"Hello {i}") for i in range(caps.max_batch + 5)]
    results = await adapter.send_bulk(msgs)
    assert [r.local_id for r in results] == [m.local_id for m in msgs]
    assert {r.status for r in results} == {Status.SENT}
    assert len(fake.sends) == 2


async def test_bulk_partial_failure_rejects_only_the_refused_item(
    case: Case, fake: FakeProvider, adapter: Provider
) -> None:
    if not adapter.spec.caps.bulk:
        pytest.skip(f"{case.id} has no bulk endpoint")
    assert case.partial is not None
    fake.push(case.partial)
    msgs = [OutboundMessage(f"id{i:05d}", case.to, "", f"Hello {i}") for i in range(3)]
    results = await adapter.send_bulk(msgs)
    assert [r.local_id for r in results] == [m.local_id for m in msgs]
    assert [r.status for r in results] == [Status.SENT, Status.REJECTED, Status.SENT]
    assert "zebra" in (results[1].error or "")  # the provider's own words
    assert results[0].provider_message_id and results[2].provider_message_id
