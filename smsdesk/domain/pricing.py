"""Prices: what an account's provider charges per message part, as exact decimal text.

An empty or unreadable price means *unknown* (estimates and reports say "cost unknown"),
never free. Prices are kept as text ("0.045") and computed with :class:`~decimal.Decimal`,
never floats, so totals add up to the penny.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

PRICE_KEY = "price_per_segment"


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
    ``cost unknown``; "" for an empty text."""
    if parts <= 0:
        return ""
    if per_part is None:
        return "cost unknown"
    each = Decimal(per_part) * parts
    if recipients is None:
        return f"about {money(each, currency)} each"
    if recipients <= 1:
        return f"about {money(each, currency)}"
    return f"about {money(each * recipients, currency)} for {recipients:,} people"
