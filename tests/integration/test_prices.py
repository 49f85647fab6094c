"""Each message keeps the price per part and currency its account had when it was queued: a
later price change never rewrites what was sent; no price means unknown, never free."""

from __future__ import annotations

import re
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


@pytest.mark.asyncio
async def test_prices_by_country_price_each_message_and_the_estimate(runtime) -> None:
    acct = runtime.accounts.by_name("Sandbox")
    settings = {**acct.settings, "price_per_segment": "0.04", "currency": "GBP", "prices_by_country": "ke=0.8; CA=0.02"}
    await runtime.accounts.update(acct, settings)
    acct = runtime.accounts.by_name("Sandbox")
    assert acct.settings["prices_by_country"] == "CA=0.02, KE=0.8"  # tidied when saved
    draft = Draft(acct.id, ["+254722000000", "07911 123456", "+1 416 555 0100", "+1 202 555 0100"], "Hi")
    plan = runtime.sending.plan(draft)
    assert plan.estimate == Decimal("0.90") and plan.by_country  # 0.80 + 0.04 + 0.02 (Canada) + 0.04 (US)
    sent = await runtime.sending.send(draft)
    assert [m.price_per_part for m in sent] == ["0.8", "0.04", "0.02", "0.04"]
    await until(lambda: all(m.status.is_final for m in runtime.sending.messages.recent(10, direction="out")))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("table", "why"),
    [
        ("KE 0.8", "'KE 0.8' is not a country and a price"),
        ("KE=free", "The price for KE, 'free', is not a number."),
        ("KE=-1", "The price for KE cannot be negative"),
    ],
)
async def test_a_country_price_that_does_not_read_is_refused(runtime, table: str, why: str) -> None:
    acct = runtime.accounts.by_name("Sandbox")
    with pytest.raises(InvalidInput, match=re.escape(why)):
        await runtime.accounts.update(acct, {**acct.settings, "prices_by_country": table})
