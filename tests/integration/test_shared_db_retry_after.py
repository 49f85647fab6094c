"""Two senders on one database file (the GUI and ``smsdesk serve``) and a provider that rate
limits: no message is sent again before the provider's Retry-After, whichever process holds it.

Times are taken where the provider receives each request (the fake's clock), per message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from tests.providers.fakes import FakeProvider, Recorded, Reply
from tests.support.wait import until

RETRY_AFTER_S = 2
N = 24


class RateLimiting(FakeProvider):
    """PureSMS that refuses the first request for each message with 429 and Retry-After: 2."""

    def __init__(self) -> None:
        super().__init__("puresms")
        self.refused: set[str] = set()

    @staticmethod
    def refs(rec: Recorded) -> list[str]:
        items = rec.json.get("messages", []) if rec.path == "/sms/send/bulk" else [rec.json]
        return [str(i.get("clientReference")) for i in items]

    def default(self, rec: Recorded) -> Reply:
        fresh = [r for r in self.refs(rec) if r not in self.refused]
        if fresh:
            self.refused.update(fresh)
            return Reply(429, {"message": "Too many requests"}, {"Retry-After": str(RETRY_AFTER_S)})
        return super().default(rec)

    def receipts(self) -> dict[str, list[float]]:
        times: dict[str, list[float]] = defaultdict(list)
        for rec in self.sends:
            for ref in self.refs(rec):
                times[ref].append(rec.at)
        return times


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[RateLimiting]:
    fake = RateLimiting()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest_asyncio.fixture
async def pair(_isolated_home: Path) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """GUI-like ``a`` and serve-like ``b``: two dispatchers, one database file."""
    a = Runtime.open(str(_isolated_home))
    b = Runtime.open(str(_isolated_home))
    await a.start(receiver=False, sandbox=False, tunnel=False, polling=False)
    await b.start(receiver=False, sandbox=False, tunnel=False, polling=False)
    try:
        yield a, b
    finally:
        await b.stop()
        await a.stop()
        b.close()
        a.close()


@pytest.mark.asyncio
async def test_no_retry_before_retry_after_with_two_senders_on_one_database(
    pair: tuple[Runtime, Runtime], provider: RateLimiting
) -> None:
    a, b = pair
    acct = await a.accounts.add("Pure", "puresms", {"api_key": "k", "sender": "Shop", "base_url": provider.url})
    sent = await a.sending.send(Draft(acct.id, [f"+4479111{i:05d}" for i in range(N)], "Your table is booked"))
    b.dispatcher.kick()  # both processes hold the new ids in their queues

    def all_sent() -> bool:
        row = a.store.db.query_one("SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'")
        return row is not None and row[0] == N

    await until(all_sent, timeout=30)
    times = provider.receipts()
    assert set(times) == {m.local_id for m in sent}
    early = {
        ref: round(t[i + 1] - t[i], 3)
        for ref, t in times.items()
        for i in range(len(t) - 1)
        if t[i + 1] - t[i] < RETRY_AFTER_S
    }
    assert early == {}, f"sent again before Retry-After ({RETRY_AFTER_S} s): {early}"
