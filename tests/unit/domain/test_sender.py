"""Sender-ID rules: alphanumeric 1-11 characters with a letter, or up to 15 digits."""

from __future__ import annotations

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.sender import check_sender


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Shop", "Shop"),
        ("  Shop  ", "Shop"),
        ("MyShop2026", "MyShop2026"),
        ("A" * 11, "A" * 11),
        ("Bob & Co", "Bob & Co"),
        ("my-shop.uk", "my-shop.uk"),
        ("+447911123456", "+447911123456"),
        ("447911123456", "447911123456"),
        ("60123", "60123"),
        ("1" * 15, "1" * 15),
    ],
)
def test_valid(given: str, kept: str) -> None:
    assert check_sender(given) == kept


def test_empty_is_refused_with_the_rule() -> None:
    for given in ("", "   ", None):
        with pytest.raises(InvalidInput, match="sender ID is needed"):
            check_sender(given)  # type: ignore[arg-type]


def test_too_long_name() -> None:
    with pytest.raises(InvalidInput, match="at most 11 characters"):
        check_sender("A" * 12)


@pytest.mark.parametrize("given", ["Shop!", "Café", "Shop\tNow", "Shop😀"])
def test_characters_outside_the_allowed_set(given: str) -> None:
    with pytest.raises(InvalidInput, match="A-Z, a-z, 0-9"):
        check_sender(given)


def test_a_name_needs_a_letter() -> None:
    with pytest.raises(InvalidInput, match="must contain a letter"):
        check_sender("123 45")


def test_too_many_digits() -> None:
    for given in ("1" * 16, "+" + "4" * 16):
        with pytest.raises(InvalidInput, match="at most 15 digits"):
            check_sender(given)
        with pytest.raises(InvalidInput, match="at most 15 digits"):
            check_sender(given, numeric_only=True)


def test_numeric_only_providers_refuse_names() -> None:
    assert check_sender("447911123456", numeric_only=True) == "447911123456"
    with pytest.raises(InvalidInput, match="must be a number"):
        check_sender("Shop", numeric_only=True)
