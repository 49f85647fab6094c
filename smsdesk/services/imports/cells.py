"""What a cell holds, and whether a first row is a header, judged against the rows below it.

A header is a row of labels over columns of values: text over numbers, a cell named like a
phone or name column. One numeric-looking cell does not make a row data (survey exports name
columns ``100022``, attendance sheets name them by date), and one word does not make it a
header (a "Type" column holds "Mobile" in every row). Each column of the first row is compared
with the same column below; the row is a header when the evidence says so, or when nothing
speaks against it.

Phone numbers are recognised by parsing them in the chosen country (a date matches any
"digits and dots" pattern; it does not parse as a mobile number).
"""

from __future__ import annotations

import re
from collections import Counter

from smsdesk.services.imports.numbers import check_number
from smsdesk.services.imports.words import is_label

EMPTY, PHONE, DATE, NUMBER, TEXT = "empty", "phone", "date", "number", "text"
_SNIFF_ROWS = 50

_DATE = re.compile(r"^(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_NUMBER = re.compile(r"^[-+]?[$€£¥]?\s?[\d\s.,'\u00a0]*\d[\d\s.,'\u00a0]*\s?(?:%|[$€£¥])?$")
_LETTER = re.compile(r"[^\W\d_]")
_DIGITS = re.compile(r"\d")


def is_date(cell: str) -> bool:
    """``01.06.2013``, ``2015-11-04``, ``4/11/15`` (with an optional time), as a person reads them."""
    m = _DATE.match(cell.strip())
    if m is None:
        return False
    a, b, c = m.group(1), m.group(3), m.group(4)
    if len(a) == 4:  # year first: 2015-11-04
        return 1900 <= int(a) <= 2100 and 1 <= int(b) <= 12 and 1 <= int(c) <= 31 and len(c) <= 2
    if len(a) > 2 or len(c) not in (2, 4) or (len(c) == 4 and not 1900 <= int(c) <= 2100):
        return False
    day, month = int(a), int(b)
    return (1 <= day <= 31 and 1 <= month <= 12) or (1 <= day <= 12 and 1 <= month <= 31)


def is_phone(cell: str, region: str | None) -> bool:
    """A value that parses as a usable (mobile or unknown-type) number in ``region``."""
    s = cell.strip()
    if len(_DIGITS.findall(s)) < 6 or is_date(s):
        return False
    chk = check_number(s, region)
    return chk.e164 is not None and chk.mobile is not False


_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]{7,}$")


def is_phone_shaped(cell: str) -> bool:
    """Written like a phone number (7+ digits and phone punctuation), whatever its country;
    not a date."""
    s = cell.strip()
    return _PHONE_SHAPE.match(s) is not None and len(_DIGITS.findall(s)) >= 7 and not is_date(s)


def kind(cell: str, region: str | None) -> str:
    """One of ``empty``, ``phone``, ``date``, ``number``, ``text``."""
    s = cell.strip()
    if not s:
        return EMPTY
    if is_date(s):
        return DATE
    digits = len(_DIGITS.findall(s))
    if digits >= 6:
        chk = check_number(s, region)
        if chk.e164 is not None:
            return PHONE
    if _NUMBER.match(s):
        return NUMBER
    return TEXT if _LETTER.search(s) else NUMBER if digits else TEXT


def _digits(cell: str) -> int:
    return len(_DIGITS.findall(cell))


def is_header(first: list[str], body: list[list[str]], region: str | None) -> bool:
    """Whether ``first`` labels the columns of ``body`` (the rows below it)."""
    body = body[:_SNIFF_ROWS]
    score = 0
    named = False
    data_like = False
    for j, cell in enumerate(first):
        f = cell.strip()
        if not f:
            continue
        column = [r[j].strip() for r in body if j < len(r) and r[j].strip()]
        kinds = Counter(kind(c, region) for c in column)
        dominant, n = kinds.most_common(1)[0] if kinds else (EMPTY, 0)
        if n * 5 < len(column) * 3:
            dominant = "mixed"
        fk = kind(f, region)
        repeated = f.lower() in {c.lower() for c in column}
        if fk == TEXT:
            if is_label(f) and not repeated:
                score += 3
                named = True
            elif dominant in (PHONE, NUMBER, DATE):
                score += 2  # a word over a column of numbers
            elif repeated:
                score -= 1  # a value the column holds again below
        elif fk == PHONE and dominant == PHONE:
            score -= 3  # a phone number over phone numbers: the first contact
            data_like = True
        elif fk == dominant and fk == DATE:
            score -= 1
        elif fk == dominant and fk == NUMBER:
            usual = sorted(_digits(c) for c in column)[len(column) // 2]
            score -= 1 if abs(_digits(f) - usual) <= 1 else 0  # "100022" over "3" is a label
    if named and not data_like:
        return True
    return score > 0 or (score == 0 and not data_like)
