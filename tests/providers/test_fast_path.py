"""The aiohttp client's answers: their deadlines (one timer for every request in flight), their charset.

A send that gets no answer fails as "may or may not have been sent", and only that send: the
task that made it goes on (the dispatcher's worker sends its next message), other requests in
flight are answered, and a cancellation from elsewhere (smsdesk stopping) stays a cancellation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from smsdesk.domain.errors import ErrorKind, InvalidNumber, ProviderError
from smsdesk.domain.models import OutboundMessage
from smsdesk.domain.status import Status
from smsdesk.providers import registry
from smsdesk.providers._http import make_client
from smsdesk.providers.base import AccountConfig, Provider, international_digits
from tests.providers.cases import CASES
from tests.providers.fakes import FakeProvider, Reply

pytestmark = pytest.mark.asyncio

PURE = next(c for c in CASES if c.id == "puresms")


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    server = FakeProvider(PURE.wire)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def adapter(fake: FakeProvider) -> AsyncIterator[Provider]:
    client = make_client(timeout=0.4, transport="aiohttp")  # deadline 0.8 s (connect + read)
    acct = AccountConfig("deadlines", fake.url, PURE.sender, dict(PURE.settings), PURE.secrets, "")
    try:
        yield registry.build(PURE.id, acct, client)
    finally:
        await client.aclose()


def msg(n: int = 0) -> OutboundMessage:
    return OutboundMessage(f"{n:032x}", PURE.to, "", "Your table is booked for 7pm")


async def test_an_unanswered_send_fails_as_ambiguous_and_its_task_goes_on(
    fake: FakeProvider, adapter: Provider
) -> None:
    fake.push(Reply(action="hang"))
    began = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await adapter.send(msg(1))
    waited = time.monotonic() - began
    assert info.value.kind == ErrorKind.AMBIGUOUS
    assert "did not answer in time" in str(info.value)
    assert 0.7 < waited < 5.0
    # The same task sends again at once: the time-out left no cancellation behind.
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    result = await adapter.send(msg(2))
    assert result.status == Status.SENT
    await asyncio.sleep(0.05)  # an await after it: no stray CancelledError arrives
    assert len(fake.sends) == 2


async def test_only_the_late_request_fails(fake: FakeProvider, adapter: Provider) -> None:
    fake.push(Reply(action="hang"))
    late = asyncio.ensure_future(adapter.send(msg(1)))
    await asyncio.sleep(0.05)  # the hanging one goes first
    answered = [await adapter.send(msg(n)) for n in range(2, 6)]
    assert [r.status for r in answered] == [Status.SENT] * 4
    with pytest.raises(ProviderError) as info:
        await late
    assert info.value.kind == ErrorKind.AMBIGUOUS


async def test_a_cancelled_send_stays_cancelled(fake: FakeProvider, adapter: Provider) -> None:
    fake.push(Reply(action="hang"))
    task = asyncio.ensure_future(adapter.send(msg(1)))
    await asyncio.sleep(0.1)
    task.cancel()  # smsdesk stopping: not a time-out, and not turned into one
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_answer_in_latin_1_is_read_in_its_own_charset(fake: FakeProvider, adapter: Provider) -> None:
    # The charset is read from the answer only when its text is (the fast path skips it).
    fake.push(Reply(400, "Numéro refusé", action="text", headers={"Content-Type": "text/plain; charset=latin-1"}))
    with pytest.raises(ProviderError) as info:
        await adapter.send(msg(1))
    assert "Numéro refusé" in str(info.value)


@pytest.mark.parametrize(
    ("number", "digits"),
    [("+447911123456", "447911123456"), ("0044 7911 123456", "447911123456"), ("447911123456", "447911123456")],
)
async def test_international_digits_reads_the_forms_adapters_get(number: str, digits: str) -> None:
    assert international_digits(number, "PureSMS") == digits


@pytest.mark.parametrize("number", ["+0447911123", "+44-7911", "+١٢٣٤٥٦٧٨٩", "+44²7911123", "+4479", ""])
async def test_international_digits_refuses_anything_else(number: str) -> None:
    # The last guard before a provider: Arabic-Indic or superscript digits pass str.isdigit().
    with pytest.raises(InvalidNumber):
        international_digits(number, "PureSMS")
