"""Each message keeps the price per part and currency its account had when it was queued: a
later price change never rewrites what was sent; no price means unknown, never free."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.pricing import cost
from smsdesk.services.reports import period
from smsdesk.services.send import Draft
from tests.support.wait import until


@pytest.mark.asyncio
async def test_a_message_keeps_the_price_it_was_sent_at(runtime) -> None:
    acct = runtime.accounts.by_name("Sandbox")
    [unknown] = await runtime.sending.send(Draft(acct.id, ["07911 123456"], "Before any price"))
    assert unknown.price_per_part is None  # unknown, not 0

    await runtime.accounts.update(acct, {**acct.settings, "price_per_segment": "0.04", "currency": "gbp"})
    acct = runtime.accounts.by_name("Sandbox")
    [first] = await runtime.sending.send(Draft(acct.id, ["07911 123457"], "x" * 200))  # two parts
    assert (first.price_per_part, first.currency, first.segments) == ("0.04", "GBP", 2)
    assert cost(first.segments or 0, first.price_per_part) == Decimal("0.08")

    await runtime.accounts.update(acct, {**acct.settings, "price_per_segment": "0.05"})
    [later] = await runtime.sending.send(Draft(acct.id, ["07911 123458"], "After the change"))
    assert later.price_per_part == "0.05"
    assert runtime.sending.messages.get(first.id).price_per_part == "0.04"  # history kept
    await until(lambda: all(m.status.is_final for m in runtime.sending.messages.recent(10, direction="out")))


@pytest.mark.asyncio
@pytest.mark.parametrize("bad", ["-0.01", "cheap"])
async def test_a_price_that_is_not_a_number_or_negative_is_refused(runtime, bad: str) -> None:
    acct = runtime.accounts.by_name("Sandbox")
    with pytest.raises(InvalidInput, match="Price per segment"):
        await runtime.accounts.update(acct, {**acct.settings, "price_per_segment": bad})


@pytest.mark.asyncio
async def test_send2_units_are_the_parts_a_message_costs(runtime) -> None:
    # Send-2 answers each send with the units it charged; a 310-character text is 3 parts by
    # the SMS rules (153 each) but the (sandbox) provider bills 2: reports use its count.
    cfg = runtime.sandbox.server.config
    account = await runtime.accounts.add(
        "S2",
        "send2",
        {"base_url": runtime.sandbox.url + "/send2", "api_key": cfg.api_key, "sender": "12345",
         "price_per_segment": "0.80", "currency": "KES"},
    )  # fmt: skip
    [msg] = await runtime.sending.send(Draft(account.id, ["+254722000000"], "x" * 310))
    assert msg.segments == 3
    await until(lambda: runtime.store.db.query_one("SELECT parts_billed FROM messages WHERE id = ?", (msg.id,))[0])
    [parts] = runtime.store.db.query_one("SELECT parts_billed FROM messages WHERE id = ?", (msg.id,))
    assert parts == 2
    today = runtime.reports.today()
    head = runtime.reports.build(period("today", today), account.id).headline
    assert (head.parts, head.cost.by_currency) == (2, {"KES": Decimal("1.60")})
