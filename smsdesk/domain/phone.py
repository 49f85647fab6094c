"""Phone numbers: parse what a person typed into canonical +E.164, or say why not.

Wraps ``phonenumbers``. Storage and every service use the canonical ``+E.164`` string;
each provider adapter renders its own wire format from it.

``phonenumbers`` (15 ms of imports and its metadata) is imported by the first call that needs
it, not with this module: the window's first paint does not wait for it, and the app warms it
in a background thread right after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from smsdesk.domain.errors import InvalidNumber

if TYPE_CHECKING:
    from types import ModuleType

    import phonenumbers

_pn: ModuleType | None = None


def _phonenumbers() -> ModuleType:
    """The ``phonenumbers`` module, imported by the first call (an ``import`` statement inside
    each parse would cost ~1 µs a number, 10% of validating a 100,000-row file)."""
    global _pn
    if _pn is None:
        import phonenumbers

        _pn = phonenumbers
    return _pn


# Ofcom reserves +44 7700 900000-900999 for drama; docs use them, phones never answer them.
_UK_DRAMA = re.compile(r"^\+447700900\d{3}$")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid number. ``e164`` is canonical; ``region`` the ISO country; ``mobile`` when known."""

    e164: str
    region: str | None
    mobile: bool | None

    def __str__(self) -> str:
        return self.e164


def is_reserved_for_drama(e164: str) -> bool:
    return bool(_UK_DRAMA.match(e164))


def parse(text: str, default_region: str | None = "GB") -> PhoneNumber:
    """Parse ``text`` into a valid number.

    Raises:
        InvalidNumber: with a reason a person can act on.
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidNumber("No number given.")
    return _parse_cached(raw, (default_region or "").upper() or None)


@lru_cache(maxsize=65536)
def _parse_cached(raw: str, region: str | None) -> PhoneNumber:
    phonenumbers = _phonenumbers()
    PhoneNumberType = phonenumbers.PhoneNumberType  # noqa: N806 - the library's name
    candidate = raw
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        num = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        if region is None and not candidate.startswith("+"):
            raise InvalidNumber(
                f"'{raw}' has no country code; write it as +<country><number> or set a default country."
            ) from exc
        raise InvalidNumber(f"'{raw}' is not a phone number.") from exc
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if is_reserved_for_drama(e164):
        raise InvalidNumber(f"'{raw}' is in the UK range reserved for TV and film (+44 7700 900xxx); no phone has it.")
    # is_valid_number, number_type and region_code_for_number each look the region up again
    # (the costly part of parsing): look it up once and classify once; valid <=> a known type.
    region = phonenumbers.region_code_for_number(num)
    ntype = _number_type(num, region)
    if region is None or ntype == PhoneNumberType.UNKNOWN:
        if not phonenumbers.is_possible_number(num):
            raise InvalidNumber(f"'{raw}' has the wrong number of digits for its country.")
        raise InvalidNumber(f"'{raw}' is not an assigned number in its country.")
    mobile: bool | None
    if ntype in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        mobile = True
    elif ntype == PhoneNumberType.UNKNOWN:
        mobile = None
    else:
        mobile = False
    return PhoneNumber(e164, region, mobile)


def _number_type(num: phonenumbers.PhoneNumber, region: str | None) -> int:
    """``phonenumbers.number_type`` for a region already known (same steps, one lookup fewer)."""
    phonenumbers = _phonenumbers()
    PhoneNumberType = phonenumbers.PhoneNumberType  # noqa: N806 - the library's name
    helper = getattr(phonenumbers.phonenumberutil, "_number_type_helper", None)
    if helper is None:  # a phonenumbers release without the helper: the public, slower call
        return int(phonenumbers.number_type(num))
    if num.country_code is None:
        return int(PhoneNumberType.UNKNOWN)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(num.country_code, region or "")
    if metadata is None:
        return int(PhoneNumberType.UNKNOWN)
    return int(helper(phonenumbers.national_significant_number(num), metadata))


def try_parse(text: str, default_region: str | None = "GB") -> PhoneNumber | None:
    try:
        return parse(text, default_region)
    except InvalidNumber:
        return None


def display(number: str, default_region: str | None = "GB") -> str:
    """``number`` as people write it: national format in the default country ("07911 123456"),
    international elsewhere ("+254 722 000000").

    Only for showing: storage, the CLI's JSON and every provider keep the +E.164 form.
    Anything that is not a +E.164 number (a brand-name sender, a short code) comes back as is.
    """
    return _display_cached(number or "", (default_region or "").upper() or None)


# Formatting costs ~22 µs a number; lists repaint and reload the same few numbers again and
# again, so each distinct (number, country) pair is formatted once.
@lru_cache(maxsize=65536)
def _display_cached(number: str, region: str | None) -> str:
    if not number.startswith("+") or not number[1:].isdigit():
        return number
    phonenumbers = _phonenumbers()
    try:
        num = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    home = phonenumbers.country_code_for_region(region) if region else 0
    # By calling code, not region: +1 numbers of the US and Canada are both dialled nationally.
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if num.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(num, fmt) or number


def canonical_inbound(digits_or_e164: str) -> str:
    """A number a provider sent us (maybe without ``+`` or with ``00``) as ``+E.164``.

    Alphanumeric senders (shortcodes, brand names) are returned unchanged.
    """
    s = (digits_or_e164 or "").strip().replace(" ", "")
    if s.startswith("00"):
        s = "+" + s[2:]
    if s.isdigit():
        s = "+" + s
    return s


def time_zones(e164: str) -> tuple[str, ...]:
    """Candidate IANA zones for a number (several for big countries), empty when unknown."""
    from phonenumbers import timezone as pn_tz

    phonenumbers = _phonenumbers()
    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(z for z in pn_tz.time_zones_for_number(num) if z != "Etc/Unknown")
    return zones
