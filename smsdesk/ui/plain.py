"""Technical detail kept off the main screens: shown words without HTTP codes.

Provider errors carry their HTTP status ("PureSMS refused the message (HTTP 400): Invalid
sender"), which helps whoever reads a log or a tooltip and means nothing to a salon owner.
Lists and bubbles show :func:`without_codes` of it; their tooltips keep the whole text.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"\s*\(HTTP \d{3}[^)]*\)")


def without_codes(text: str) -> str:
    """``text`` without its parenthesised HTTP codes: "refused the message: Invalid sender"."""
    return _CODE.sub("", text)
