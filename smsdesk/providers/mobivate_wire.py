"""Mobivate's wire format: status codes, numbers and sender IDs as it wants them, batch answers
read per recipient, and errors classified by ``error.name`` first and HTTP status second.

Split from :mod:`smsdesk.providers.mobivate` (the adapter) along that seam: everything here is a
pure function of what Mobivate sends or expects, testable without a client.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from smsdesk.domain.errors import ErrorKind, InvalidInput, ProviderError
from smsdesk.domain.models import (
    OutboundMessage,
    SendResult,
)
from smsdesk.domain.optout import PROVIDER_OPTED_OUT, provider_says_opted_out
from smsdesk.domain.sender import check_sender
from smsdesk.domain.status import Status
from smsdesk.providers import _http
from smsdesk.providers.base import international_digits

NAME = "Mobivate"
BATCH_CHUNK = 1000  # old docs: at most 1,000 messages per batch request
LOG_PAGE_SIZE = 1000
RECONCILE_MAX_PAGES = 10

# DR (status, statusCode) -> unified status, from Mobivate's DR table. There is no
# PENDING in smsdesk, so the provider-side pending states INTERIM_QUEUED (8) and RETRY (10)
# map to SENT (accepted, not final), never QUEUED, which means "in our outbox" and would make
# the dispatcher send it again. The raw status is kept beside it (StatusEvent.raw_status).
_STATUSES: tuple[tuple[int, str, Status], ...] = (
    (1, "DELIVERED", Status.DELIVERED),
    (2, "ACCEPTED", Status.SENT),
    (3, "EXPIRED", Status.EXPIRED),
    (4, "DELETED", Status.FAILED),
    (5, "UNDELIVERABLE", Status.FAILED),
    (6, "UNKNOWN", Status.UNKNOWN),
    (7, "REJECTED", Status.REJECTED),
    (8, "INTERIM_QUEUED", Status.SENT),
    (9, "INTERIM_ACKNOWLEDGED", Status.SENT),
    (10, "RETRY", Status.SENT),
    (11, "FAILED_NACK", Status.FAILED),
    (12, "FAILED_NOROUTE", Status.REJECTED),
    (17, "FAILED_INSUFFICIENT_CREDIT", Status.REJECTED),
    (18, "FAILED_ORIGINATOR_RECIPIENT_EQUAL", Status.REJECTED),
    (19, "FAILED_RECIPIENT_BLACKLISTED", Status.REJECTED),
    (20, "FAILED_ORIGINATOR_REJECTED", Status.REJECTED),
    (21, "FAILED_ROUTE_INVALID", Status.REJECTED),
    (22, "FAILED_LIMITS_EXCEEDED", Status.REJECTED),
    (24, "FAILED_EXHAUSTED", Status.FAILED),
    (28, "FAILED_INTERNAL_ERROR", Status.FAILED),
    (29, "FAILED_UNKNOWN", Status.FAILED),
)
CODE_MAP: dict[int, Status] = {code: status for code, _, status in _STATUSES}
NAME_MAP: dict[str, Status] = {name: status for _, name, status in _STATUSES}
OK_STATUSES = {Status.DELIVERED, Status.SENT, Status.UNKNOWN}


def map_status(name: Any, code: Any = None) -> tuple[Status, str]:
    """(unified status, raw text) from a DR's ``status`` and/or ``statusCode``.

    The name wins when it is known; then the code; an unlisted ``FAILED_*`` is a failure;
    anything else is UNKNOWN with the raw text kept (never an exception).
    """
    text = str(name).strip() if name not in (None, "") else ""
    upper = text.upper().replace(" ", "_")
    if upper in NAME_MAP:
        return NAME_MAP[upper], text
    num: int | None = None
    try:
        num = int(code) if code not in (None, "") and not isinstance(code, bool) else None
    except (TypeError, ValueError):
        num = None
    raw = text or ("" if num is None else str(num))
    if num is not None and num in CODE_MAP:
        return CODE_MAP[num], raw
    if upper.startswith("FAILED"):
        return Status.FAILED, raw
    return Status.UNKNOWN, raw


def msisdn(e164: str) -> str:
    """Mobivate's number format: international digits, no ``+`` and no ``00``."""
    return international_digits(e164, NAME)


def originator(sender: str) -> str:
    """Sender ID rule: up to 11 alphanumeric characters, or up to 15 digits (no ``+``)."""
    s = check_sender(sender)
    if s.startswith("+"):
        s = s[1:]
    if not s.isdigit() and not s.replace(" ", "").isalnum():
        raise InvalidInput(f"Mobivate sender '{s}' may only use letters and digits.")
    return s


def message_id(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return str(value)


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def log_time(value: datetime) -> str:
    """A date-time in the message-log query format (``YYYY-MM-DDTHH:MM:SS+hhmm``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def records(data: Any) -> list[dict[str, Any]]:
    """The message-log answer is documented as an array; accept common envelopes too."""
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    if isinstance(data, dict):
        for key in ("records", "data", "messages", "items", "results"):
            if isinstance(data.get(key), list):
                return [r for r in data[key] if isinstance(r, dict)]
    return []


def _item_words(item: dict[str, Any]) -> str:
    for key in ("error", "message", "reason", "description", "status"):
        val = item.get(key)
        if isinstance(val, dict):
            val = val.get("message") or val.get("object") or val.get("name")
        if isinstance(val, str) and val.strip():
            return val.strip()
    return "no reason given"


def batch_results(data: Any, good: list[OutboundMessage], accepted: Status) -> list[SendResult]:
    """One result per submitted message from a ``/send/batch`` answer (its shape is [ND]).

    - Items the answer lists as refused (``rejected``/``errors``/``failed``, each naming its
      ``index`` in our ``recipients``, its ``reference`` or its ``recipient``) are REJECTED
      with Mobivate's words.
    - Items it lists as accepted (``recipients[]``, matched by ``reference``, else by number)
      are ``accepted`` (SENT, or SCHEDULED) with their id.
    - When the answer lists recipients at all, one it leaves out is NEEDS_REVIEW: it may or
      may not go out, and only a person (or the message log) can tell.
    - An answer with no per-recipient detail accepts the whole batch, unless its
      ``recipientCount`` says fewer were taken: then nobody can tell which, so all are
      NEEDS_REVIEW rather than claimed as sent.
    """
    record = data.get("record") if isinstance(data, dict) and isinstance(data.get("record"), dict) else data
    record = record if isinstance(record, dict) else {}
    batch_id = message_id(record.get("id"))
    by_ref = {m.local_id: i for i, m in enumerate(good)}
    by_number: dict[str, list[int]] = {}
    for i, m in enumerate(good):
        by_number.setdefault(msisdn(m.to), []).append(i)

    def position(item: dict[str, Any]) -> int | None:
        ref = message_id(item.get("reference") or item.get("clientReference"))
        if ref in by_ref:
            return by_ref[ref]
        idx = item.get("index")
        if isinstance(idx, int) and not isinstance(idx, bool) and 0 <= idx < len(good):
            return idx
        waiting = by_number.get(str(item.get("recipient") or "").lstrip("+"), [])
        return waiting.pop(0) if waiting else None

    refused: dict[int, str] = {}
    for src in (record, data if isinstance(data, dict) else {}):
        for key in ("rejected", "errors", "failed", "invalid"):
            for item in records(src.get(key)):
                pos = position(item)
                if pos is not None:
                    refused.setdefault(pos, _item_words(item))
    ids: dict[int, str | None] = {}
    listed = records(record.get("recipients"))
    for item in listed:
        pos = position(item)
        if pos is not None and pos not in refused:
            ids[pos] = message_id(item.get("id"))
    count = record.get("recipientCount")
    short = not listed and isinstance(count, int) and not isinstance(count, bool) and count < len(good) - len(refused)
    out: list[SendResult] = []
    for i, m in enumerate(good):
        if i in refused:
            raw = PROVIDER_OPTED_OUT if provider_says_opted_out(refused[i]) else "rejected"
            out.append(
                SendResult(
                    m.local_id,
                    None,
                    Status.REJECTED,
                    raw,
                    error=f"{NAME} refused this recipient in the batch: {refused[i]}",
                )
            )
        elif i in ids or not (listed or short):
            out.append(SendResult(m.local_id, ids.get(i), accepted, "Accepted", batch_id=batch_id))
        else:
            why = (
                f"{NAME} accepted {count} of {len(good)} messages in the batch without saying which"
                if short
                else f"{NAME}'s answer to the batch did not mention this message"
            )
            out.append(
                SendResult(
                    m.local_id,
                    None,
                    Status.NEEDS_REVIEW,
                    "not in batch answer",
                    batch_id=batch_id,
                    error=f"{why}, so it may or may not have been sent. Check the message log on Mobivate "
                    "(or wait for its receipt) before sending it again.",
                )
            )
    return out


def error_words(resp: _http.HttpReply) -> tuple[str, str]:
    """(error name, the provider's words) from the new ``{error:{name,...}}`` or old ``{code,message}``."""
    data = _http.body_json(resp)
    name, words = "", ""
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            name = str(err.get("name") or "")
            detail = err.get("object") or err.get("message") or err.get("description") or ""
            if isinstance(detail, dict | list):
                detail = json.dumps(detail, separators=(",", ":"))[:300]
            words = f"{name}: {detail}" if name and detail else (name or str(detail))
        elif isinstance(err, str):
            words = err
        if not words:
            words = str(data.get("message") or data.get("name") or "")
            name = name or str(data.get("name") or "")
    if not words:
        words = _http.error_text(resp)
    return name, words


def classify(resp: _http.HttpReply) -> ProviderError:
    """Map a refused request to a :class:`ProviderError`: ``error.name`` first, then status."""
    code = resp.status_code
    name, words = error_words(resp)
    lname = name.lower().replace("_", "")
    low = words.lower()
    if "auth" in lname or "unauthori" in lname or "forbidden" in lname or "permission" in lname:
        return ProviderError(f"{NAME} refused the API key (HTTP {code}): {words}", status_code=code, auth=True)
    if "optout" in lname or "optedout" in lname or "blacklist" in lname:
        return ProviderError(
            f"{NAME} says the recipient opted out (HTTP {code}): {words}", status_code=code, opted_out=True
        )
    if "validation" in lname:
        return ProviderError(f"{NAME} refused the message (HTTP {code}): {words}", status_code=code)
    if "credit" in lname or "payment" in lname or code == 402:
        return ProviderError(f"{NAME} account is out of credit (HTTP {code}): {words}", status_code=code)
    if "ratelimit" in lname or "toomany" in lname or code == 429:
        return ProviderError(
            f"{NAME} is rate limiting: {words}",
            ErrorKind.RETRYABLE,
            status_code=code,
            retry_after=_http.retry_after(resp),
        )
    if code == 401:
        return ProviderError(f"{NAME} refused the API key (HTTP {code}): {words}", status_code=code, auth=True)
    if code == 403:
        if "key" in low or "token" in low or "auth" in low or "permission" in low:
            return ProviderError(f"{NAME} refused the API key (HTTP {code}): {words}", status_code=code, auth=True)
        return ProviderError(
            f"{NAME} says the recipient opted out (HTTP {code}): {words}", status_code=code, opted_out=True
        )
    if code == 503:
        return ProviderError(
            f"{NAME} is unavailable (HTTP {code}): {words}",
            ErrorKind.RETRYABLE,
            status_code=code,
            retry_after=_http.retry_after(resp),
        )
    if code >= 500:
        # 500, 502, 504: the request reached Mobivate and may have been sent (the rule is in
        # _http's docstring). The dispatcher reconciles against the message log first.
        return ProviderError(
            f"{NAME} had an internal error (HTTP {code}): {words}", ErrorKind.AMBIGUOUS, status_code=code
        )
    return ProviderError(f"{NAME} refused the message (HTTP {code}): {words}", status_code=code)
