"""Phone cells from spreadsheets: repair Excel damage, then parse fast, with the same answers.

Excel damage:
- scientific notation (``4.47911E+11``): when the mantissa still holds every digit the
  number is rebuilt and flagged; when digits were lost (the usual case) the row is rejected,
  because the trailing zeros are invented;
- ``447911123456.0`` (a float written back as text): the ``.0`` is dropped;
- a lost leading zero (``7911123463`` for a GB mobile): parsed as the national number it
  was, and flagged so the person can see it was repaired.

Speed: ``phonenumbers.parse`` + ``is_valid_number`` + ``number_type`` cost ~100 us per
number (ARCHITECTURE.md pitfall 9), ~10 s for 100,000 rows. Most rows of a real list are
mobiles written as ``+CC...``, ``00CC...``, ``0...`` (national) or ``CC...``. For those the
country code and national significant number can be split off with string operations and
checked with the two metadata patterns that decide the answer (general and mobile), which is
what ``number_type`` does first anyway. Anything else (landlines, odd prefixes, carrier
codes, shared country codes whose main region does not match) takes the full
:func:`smsdesk.domain.phone.parse` path, so reasons stay exactly the domain's. A unit test
checks both paths agree over generated numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

from smsdesk.domain import phone
from smsdesk.domain.errors import InvalidNumber

_SCI = re.compile(r"^\+?(\d+)(?:[.,](\d*))?[eE]\+?(\d{1,2})$")
_FLOAT_TAIL = re.compile(r"^(\+?\d{6,})[.,]0+$")
_PUNCT = str.maketrans("", "", " -().\u00a0/\t\u2009\u202f")
_CC = phonenumbers.COUNTRY_CODE_TO_REGION_CODE

REPAIRED_SCI = "scientific_notation_repaired"
REPAIRED_ZERO = "lost_leading_zero"
REPAIRED_FLOAT = "decimal_suffix"


@dataclass(frozen=True, slots=True)
class NumberCheck:
    """The verdict on one phone cell.

    Attributes:
        e164: canonical number when usable.
        mobile: True / False / None (unknown) when usable.
        code: a rejection code (``missing_number``, ``invalid_number``,
            ``scientific_notation``) or None.
        detail: a sentence for the person.
        repair: what was repaired, if anything (one of the ``REPAIRED_*`` names).
    """

    e164: str | None
    mobile: bool | None = None
    code: str | None = None
    detail: str = ""
    repair: str | None = None


_DESC: dict[int, tuple[tuple[int, ...], re.Pattern[str] | None]] = {}


def _matches(nsn: str, desc: object) -> bool:
    """``phonenumberutil._is_number_matching_desc`` with the pattern compiled once per desc."""
    if desc is None:
        return False
    entry = _DESC.get(id(desc))
    if entry is None:
        pattern = getattr(desc, "national_number_pattern", None)
        entry = (tuple(getattr(desc, "possible_length", ()) or ()), re.compile(pattern) if pattern else None)
        _DESC[id(desc)] = entry
    lengths, compiled = entry
    if lengths and len(nsn) not in lengths:
        return False
    return compiled is not None and compiled.fullmatch(nsn) is not None


@lru_cache(maxsize=512)
def _region_meta(region: str) -> PhoneMetadata | None:
    return PhoneMetadata.metadata_for_region(region, None)


@lru_cache(maxsize=512)
def _cc_meta(cc: int) -> PhoneMetadata | None:
    regions = _CC.get(cc)
    if not regions:
        return None
    md = _region_meta(regions[0])
    if md is None or (len(regions) > 1 and md.leading_digits is not None):
        return None  # region_code_for_number could pick another region first
    return md


_NPFP: dict[int, re.Pattern[str] | None] = {}


def _npfp(md: PhoneMetadata) -> re.Pattern[str] | None:
    key = id(md)  # metadata objects live for the process (phonenumbers caches them)
    if key not in _NPFP:
        pattern = md.national_prefix_for_parsing or md.national_prefix
        _NPFP[key] = re.compile(pattern) if pattern else None
    return _NPFP[key]


def _mobile_nsn(md: PhoneMetadata, nsn: str) -> bool:
    """True when ``nsn`` is, per metadata, a valid mobile of ``md``'s main region."""
    if not nsn or nsn[0] == "0" and md.national_prefix == "0":
        return False
    return _matches(nsn, md.general_desc) and _matches(nsn, md.mobile)


def _fast(digits: str, region: str | None) -> tuple[str, str | None] | None:
    """``(e164, repair)`` for a plain mobile, or None to take the full path."""
    if digits.startswith("+") or digits.startswith("00"):
        intl = digits[1:] if digits[0] == "+" else digits[2:]
        if not intl.isdigit():
            return None
        for size in (1, 2, 3):
            cc = int(intl[:size]) if len(intl) > size else 0
            if cc in _CC:
                md = _cc_meta(cc)
                nsn = intl[size:]
                if md is None or md.national_prefix_transform_rule:
                    return None
                pat = _npfp(md)
                if pat is not None and pat.match(nsn):
                    return None  # parse would strip a national prefix here
                return ("+" + intl, None) if _mobile_nsn(md, nsn) else None
        return None
    if not digits.isdigit() or region is None:
        return None
    md = _region_meta(region)
    if md is None or md.national_prefix_transform_rule or _cc_meta(md.country_code) is not md:
        return None
    cc = str(md.country_code)
    pat = _npfp(md)
    m = pat.match(digits) if pat is not None else None
    if m is not None:
        if m.group(0) != md.national_prefix or m.lastindex:
            return None
        nsn = digits[len(m.group(0)) :]
        return ("+" + cc + nsn, None) if _mobile_nsn(md, nsn) else None
    if digits.startswith(cc) and not _matches(digits, md.general_desc):
        nsn = digits[len(cc) :]
        return ("+" + cc + nsn, None) if _mobile_nsn(md, nsn) else None
    if _mobile_nsn(md, digits):
        return "+" + cc + digits, (REPAIRED_ZERO if md.national_prefix == "0" else None)
    return None


def _repair(raw: str) -> tuple[str, str | None, NumberCheck | None]:
    """Undo Excel damage: ``(text, repair, rejection)``."""
    s = raw.strip().lstrip("'\ufeff\u200b").strip()
    m = _SCI.match(s.replace(" ", ""))
    if m:
        whole, frac, exp = m.group(1), m.group(2) or "", int(m.group(3))
        written = (whole + frac).lstrip("0")
        try:
            value = Decimal(f"{whole}.{frac or '0'}E{exp}")
        except InvalidOperation:
            value = None
        magnitude = len(whole.lstrip("0")) + exp
        # Fewer digits written than the number has: Excel rounded it and the tail is made up.
        if value is None or len(written) < magnitude or value != value.to_integral_value():
            return s, None, NumberCheck(
                None, None, "scientific_notation",
                f"Excel turned this number into {s} and dropped its last digits; "
                "format the column as Text in the spreadsheet and export again.",
            )
        return str(int(value)), REPAIRED_SCI, None
    f = _FLOAT_TAIL.match(s)
    if f:
        return f.group(1), REPAIRED_FLOAT, None
    return s, None, None


@lru_cache(maxsize=262144)
def check_number(raw: str, region: str | None) -> NumberCheck:
    """Judge one phone cell with ``region`` as the default country (cached per raw text)."""
    text, repair, rejected = _repair(raw)
    if rejected is not None:
        return rejected
    if not text:
        return NumberCheck(None, None, "missing_number", "No number in this row.")
    digits = text.translate(_PUNCT)
    fast = _fast(digits, region)
    if fast is not None:
        e164, fix = fast
        if not phone.is_reserved_for_drama(e164):
            return NumberCheck(e164, True, None, "", repair or fix)
    try:
        num = phone.parse(text, region)
    except InvalidNumber as exc:
        if digits.isdigit() and len(digits) >= 10 and not digits.startswith("0"):
            # A country code written without its "+" (SMS_RULES.md 2.2).
            try:
                num = phone.parse("+" + digits, None)
            except InvalidNumber:
                return NumberCheck(None, None, "invalid_number", str(exc))
            return NumberCheck(num.e164, num.mobile, None, "", repair or "added_plus")
        return NumberCheck(None, None, "invalid_number", str(exc))
    if repair is None and region and digits.isdigit() and not digits.startswith("0"):
        md = _region_meta(region)
        if md is not None and md.national_prefix == "0" and num.e164 == f"+{md.country_code}{digits}":
            repair = REPAIRED_ZERO
    return NumberCheck(num.e164, num.mobile, None, "", repair)


def clear_cache() -> None:
    check_number.cache_clear()
