"""Prices: what an account's provider charges per message part, as exact decimal text.

An empty or unreadable price means *unknown* (estimates and reports say "cost unknown"),
never free. Prices are kept as text ("0.045") and computed with :class:`~decimal.Decimal`,
never floats, so totals add up to the penny.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from smsdesk.domain.errors import InvalidInput

PRICE_KEY = "price_per_segment"
COUNTRY_PRICES_KEY = "prices_by_country"
CURRENCY_KEY = "currency"
_PAIR = re.compile(r"^\s*([A-Za-z]{2})\s*[=:]\s*(\S+)\s*$")


def price_per_part(settings: Mapping[str, Any]) -> str | None:
    """An account's price per part from its settings ("0.045"), or None when not known."""
    raw = str(settings.get(PRICE_KEY) or "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    return str(value)


def country_prices(text: str) -> dict[str, str]:
    """``"KE=0.80, US=0.0079"`` as ``{"KE": "0.80", "US": "0.0079"}`` (country codes as ISO
    3166 two-letter codes, any case; commas, semicolons or new lines between).

    Raises:
        InvalidInput: a part is not ``CC=price``, or a price is not a number or is negative.
    """
    out: dict[str, str] = {}
    for part in re.split(r"[,;\n]+", text or ""):
        if not part.strip():
            continue
        m = _PAIR.match(part)
        if m is None:
            raise InvalidInput(
                f"'{part.strip()}' is not a country and a price: write them like KE=0.80 (two-letter country codes)."
            )
        country, raw = m.group(1).upper(), m.group(2)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise InvalidInput(f"The price for {country}, '{raw}', is not a number.") from None
        if not value.is_finite() or value < 0:
            raise InvalidInput(f"The price for {country} cannot be negative ('{raw}').")
        out[country] = str(value)
    return out


def format_country_prices(prices: Mapping[str, str]) -> str:
    """The stored form of a country table: ``"KE=0.80, US=0.0079"`` (sorted by country)."""
    return ", ".join(f"{c}={p}" for c, p in sorted(prices.items()))


@lru_cache(maxsize=8192)
def _region(e164: str, shared: bool) -> str | None:
    import phonenumbers  # only an account with prices by country pays for it

    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if not shared:
        return phonenumbers.region_code_for_country_code(num.country_code or 0)
    return phonenumbers.region_code_for_number(num)


def region_of(e164: str, wanted: Iterable[str] = ()) -> str | None:
    """The country of an E.164 number, cheaply: by its calling code, or by the number itself when
    the code is shared (+1 is the US and Canada...) and one of ``wanted`` shares it."""
    import phonenumbers

    for size in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(e164[1 : 1 + size] or 0))
        if regions:
            break
    else:
        return None
    wanted = set(wanted)
    if len(regions) == 1 or not wanted.intersection(regions[1:]):
        return regions[0]
    return _region(e164, True)


@dataclass(frozen=True, slots=True)
class Prices:
    """An account's prices now: per part (``base``, None when unknown), a price for some
    countries, and the currency they are in."""

    base: str | None = None
    by_country: dict[str, str] = field(default_factory=dict)
    currency: str = ""

    def per_part(self, e164: str) -> str | None:
        """What one part to ``e164`` costs (its country's price, else the base price)."""
        if self.by_country:
            region = region_of(e164, self.by_country)
            if region is not None and region in self.by_country:
                return self.by_country[region]
        return self.base

    def total(self, parts_by_number: Iterable[tuple[str, int]]) -> Decimal | None:
        """The cost of sending so many parts to each number; None when one of them has no price."""
        total = Decimal(0)
        for number, parts in parts_by_number:
            price = self.per_part(number)
            if price is None:
                return None
            total += Decimal(price) * parts
        return total


def prices(settings: Mapping[str, Any]) -> Prices:
    """An account's :class:`Prices` from its settings (a country table that does not read is ignored)."""
    try:
        table = country_prices(str(settings.get(COUNTRY_PRICES_KEY) or ""))
    except InvalidInput:
        table = {}
    return Prices(price_per_part(settings), table, str(settings.get(CURRENCY_KEY) or "").strip().upper())


def cost(parts: int, per_part: str | None) -> Decimal | None:
    """``parts`` x the price per part, or None when the price is unknown."""
    return None if per_part is None else Decimal(per_part) * parts


_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "AUD": "A$", "CAD": "C$", "NZD": "NZ$", "JPY": "¥", "INR": "₹"}


def symbol(currency: str) -> str:
    """How a currency is written before an amount: ``£`` for GBP, the code itself otherwise."""
    code = currency.strip().upper()
    return _SYMBOLS.get(code, code)


def money(amount: Decimal, currency: str) -> str:
    """``£12.50``, ``CHF 3.20``, or just ``12.50`` when the currency is not known."""
    sign = "-" if amount < 0 else ""
    places = 4 if 0 < abs(amount) < Decimal("0.01") else 2
    number = f"{abs(amount):,.{places}f}"
    mark = symbol(currency)
    if not mark:
        return f"{sign}{number}"
    return f"{sign}{mark}{' ' if mark[-1].isalpha() else ''}{number}"


def estimate_words(parts: int, per_part: str | None, currency: str, recipients: int | None = 1) -> str:
    """What sending costs, for the line under a message box: ``about £0.08``, ``about £0.24 for
    3 people``, ``about £0.08 each`` (``recipients`` None: a group, counted when sent), or
    ``cost unknown``; "" for an empty text. ``per_part``: one part to every recipient together
    (prices can differ by country), or to one person when ``recipients`` is None or 1."""
    if parts <= 0:
        return ""
    if per_part is None:
        return "cost unknown"
    amount = Decimal(per_part) * parts
    if recipients is None:
        return f"about {money(amount, currency)} each"
    if recipients <= 1:
        return f"about {money(amount, currency)}"
    return f"about {money(amount, currency)} for {recipients:,} people"
