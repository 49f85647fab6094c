"""Sender-ID rules: alphanumeric 1-11 chars with a letter, or up to 15 digits.

An alphanumeric sender cannot be replied to and is not allowed to the US, Canada or Puerto Rico;
15 digits is the providers' convention for a numeric one.
"""

from __future__ import annotations

import re

from smsdesk.domain.errors import InvalidInput

_ALNUM = re.compile(r"^[A-Za-z0-9 .&_-]{1,11}$")
_NUMERIC = re.compile(r"^\+?\d{1,15}$")


def check_sender(sender: str, *, numeric_only: bool = False) -> str:
    """Return the sender ID trimmed, or raise with the rule it breaks."""
    s = (sender or "").strip()
    if not s:
        raise InvalidInput("A sender ID is needed: a name of up to 11 letters/digits, or a number.")
    if _NUMERIC.match(s):
        return s
    if s.lstrip("+").isdigit():
        raise InvalidInput(f"Sender '{s}' is too long: a number sender has at most 15 digits.")
    if numeric_only:
        raise InvalidInput(f"Sender '{s}' must be a number for this provider.")
    if not _ALNUM.match(s):
        raise InvalidInput(
            f"Sender '{s}' is not valid: a name is at most 11 characters of A-Z, a-z, 0-9, space . & _ -."
        )
    if not any(c.isalpha() for c in s):
        raise InvalidInput(f"Sender '{s}' must contain a letter, or be all digits.")
    return s
