"""Phone numbers: what a person typed -> canonical +E.164, or a reason they can act on."""

from __future__ import annotations

import pytest

from smsdesk.domain import phone
from smsdesk.domain.errors import InvalidInput, InvalidNumber


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("07911 123456", "GB", "+447911123456"),
        ("07911123456", "GB", "+447911123456"),
        ("07911-123-456", "GB", "+447911123456"),
        ("(020) 7946 0018", "GB", "+442079460018"),
        ("+44 (0)7911 123456", None, "+447911123456"),
        ("+447911123456", "US", "+447911123456"),  # a + number ignores the default region
        ("00447911123456", "GB", "+447911123456"),
        ("00 44 7911 123456", "GB", "+447911123456"),
        ("0044 7911 123456", "US", "+447911123456"),  # 00 works even where the IDD is 011
        ("011 44 7911 123456", "US", "+447911123456"),
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("  07911 123456  ", "gb", "+447911123456"),  # region in lower case, surrounding blanks
        ("Tel: 07911 123456", "GB", "+447911123456"),
    ],
)
def test_parses_to_e164(typed: str, region: str | None, e164: str) -> None:
    num = phone.parse(typed, region)
    assert num.e164 == e164
    assert str(num) == e164


def test_region_and_mobile_are_reported() -> None:
    mobile = phone.parse("07812 345678", "GB")
    assert (mobile.region, mobile.mobile) == ("GB", True)
    # 07911 is a Guernsey range: same +44 country code, its own region.
    assert phone.parse("07911 123456", "GB").region == "GG"
    landline = phone.parse("020 7946 0018", "GB")
    assert (landline.region, landline.mobile) == ("GB", False)


def test_drama_range_gets_its_own_message() -> None:
    for typed in ("07700 900123", "+447700900000", "+44 7700 900999"):
        with pytest.raises(InvalidNumber, match="reserved for TV and film"):
            phone.parse(typed, "GB")
    assert phone.is_reserved_for_drama("+447700900123")
    assert not phone.is_reserved_for_drama("+447700901123")
    assert not phone.is_reserved_for_drama("+447911123456")


def test_too_long() -> None:
    with pytest.raises(InvalidNumber, match="wrong number of digits"):
        phone.parse("079111234567890", "GB")
    with pytest.raises(InvalidNumber, match="wrong number of digits"):
        phone.parse("+4479111234567", None)


@pytest.mark.parametrize("typed", ["07911 12345", "07911", "+44 79"])
def test_too_short_is_refused_with_the_typed_text(typed: str) -> None:
    with pytest.raises(InvalidNumber) as err:
        phone.parse(typed, "GB")
    assert typed in str(err.value)


def test_missing_region_says_to_add_a_country_code() -> None:
    with pytest.raises(InvalidNumber, match="no country code"):
        phone.parse("07911123456", None)
    with pytest.raises(InvalidNumber, match="no country code"):
        phone.parse("07911123456", "")


@pytest.mark.parametrize("typed", ["hello", "call me", "+", "++44"])
def test_gibberish(typed: str) -> None:
    with pytest.raises(InvalidNumber, match="not a phone number"):
        phone.parse(typed, "GB")


@pytest.mark.parametrize("typed", ["", "   "])
def test_empty(typed: str) -> None:
    with pytest.raises(InvalidNumber, match="No number given"):
        phone.parse(typed, "GB")


def test_invalid_number_is_bad_input() -> None:
    # The CLI maps InvalidInput to exit code 2.
    assert issubclass(InvalidNumber, InvalidInput)


def test_try_parse() -> None:
    assert phone.try_parse("07911 123456") is not None
    assert phone.try_parse("07911 123456").e164 == "+447911123456"  # type: ignore[union-attr]
    assert phone.try_parse("nope") is None


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("447911123456", "+447911123456"),
        ("00447911123456", "+447911123456"),
        ("+447911123456", "+447911123456"),
        (" +44 7911 123456 ", "+447911123456"),
        ("MyShop", "MyShop"),  # alphanumeric senders stay as they are
        ("60123", "+60123"),  # digits are taken as international (providers send MSISDNs)
        ("", ""),
    ],
)
def test_canonical_inbound(given: str, canonical: str) -> None:
    assert phone.canonical_inbound(given) == canonical


def test_time_zones() -> None:
    assert "Europe/London" in phone.time_zones("+447911123456")
    assert phone.time_zones("+14155552671") == ("America/Los_Angeles",)
    au = phone.time_zones("+61412345678")  # a mobile anywhere in Australia: several zones
    assert len(au) > 1 and "Australia/Sydney" in au and "Australia/Perth" in au
    assert phone.time_zones("not a number") == ()
    assert "Etc/Unknown" not in phone.time_zones("+882345678901")  # international networks


@pytest.mark.parametrize(
    ("e164", "region", "shown"),
    [
        ("+447911123456", "GB", "07911 123456"),  # the default country: as dialled at home
        ("+447911123456", "gb", "07911 123456"),
        ("+254722000000", "GB", "+254 722 000000"),  # elsewhere: international
        ("+447911123456", "KE", "+44 7911 123456"),
        ("+14165550123", "US", "(416) 555-0123"),  # Canada shares +1: dialled nationally from the US
        ("+447911123456", None, "+44 7911 123456"),
        ("SMSDESK", "GB", "SMSDESK"),  # a brand-name sender is not a number
        ("+44abc", "GB", "+44abc"),
        ("", "GB", ""),
    ],
)
def test_numbers_are_shown_as_people_write_them(e164: str, region: str | None, shown: str) -> None:
    assert phone.display(e164, region) == shown


def test_showing_a_number_leaves_what_is_stored_alone() -> None:
    # display() is for eyes only: parsing what it shows gives the same +E.164 back.
    for e164 in ("+447911123456", "+254722000000"):
        assert phone.parse(phone.display(e164, "GB"), "GB").e164 == e164
