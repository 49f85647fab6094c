"""Send-2 (Kenya): Bearer token, one message per call, delivery by polling, balance.

Public documentation: https://docs.send-2.com/send-2-sms-api/. The API has four endpoints and one documented error (406,
``{success:false, message}``), shown to the person verbatim; a 406 (or a 200 with
``success:false``) at submission marks the message ``rejected``. There is
no client reference, so a send that may have reached Send-2 (a read timeout after upload, a
500, 502 or 504) is ambiguous and never retried blindly; a connect error, 429 or 503 is
retried (the rule is in :mod:`smsdesk.providers._http`).

``phone`` is ``+E.164`` or a 64-hex M-PESA hash, passed through untouched. With the
``hash_kenyan`` setting on, Kenyan numbers are sent as that hash (lowercase hex SHA-256 of the
12-digit ``254...`` MSISDN without ``+``; the docs' example hash checks out against it).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from smsdesk.domain.errors import ErrorKind, InvalidInput, InvalidNumber, ProviderError
from smsdesk.domain.models import OutboundMessage, SendResult, StatusEvent
from smsdesk.domain.status import Status
from smsdesk.providers import _http
from smsdesk.providers.base import BaseProvider, international_digits
from smsdesk.providers.spec import (
    API_KEY,
    BASE_URL,
    COMMON_TAIL,
    POLL_TAIL,
    Capabilities,
    FieldSpec,
    Limits,
    ProviderSpec,
    SandboxWire,
)

NAME = "Send-2"
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
_KENYA = re.compile(r"^\+254(\d{9})$")

# ``dlr`` texts by keyword (GSMA OneAPI vocabulary): normalised to lower case
# without spaces, underscores or dashes. Checked in order; the first keyword found wins.
DLR_KEYWORDS: tuple[tuple[str, Status], ...] = (
    ("deliveredtoterminal", Status.DELIVERED),
    ("deliveredtonetwork", Status.SENT),
    ("messagewaiting", Status.SENT),
    ("deliveryuncertain", Status.UNKNOWN),
    ("deliveryimpossible", Status.FAILED),
    ("undeliver", Status.FAILED),
    ("notdeliver", Status.FAILED),
    ("expired", Status.EXPIRED),
    ("reject", Status.REJECTED),
    ("blacklist", Status.REJECTED),
    ("blocked", Status.REJECTED),
    ("insufficient", Status.REJECTED),
    ("cancel", Status.CANCELLED),
    ("fail", Status.FAILED),
    ("delivered", Status.DELIVERED),
    ("submitted", Status.SENT),
    ("accepted", Status.SENT),
    ("buffered", Status.SENT),
    ("pending", Status.SENT),
    ("queued", Status.SENT),
    ("processed", Status.SENT),
    ("sent", Status.SENT),
)


def map_dlr(dlr: Any, status: Any = None) -> tuple[Status, str]:
    """(unified status, raw text) from ``dlr`` (else ``status``); unknown text -> UNKNOWN."""
    raw = str(dlr).strip() if dlr not in (None, "") else ""
    if not raw:
        raw = str(status).strip() if status not in (None, "") else ""
    key = re.sub(r"[\s_\-]+", "", raw.lower())
    if not key:
        return Status.UNKNOWN, raw
    for word, mapped in DLR_KEYWORDS:
        if word in key:
            return mapped, raw
    return Status.UNKNOWN, raw


def kenyan_hash(e164: str) -> str:
    """M-PESA style hash of a Kenyan number: sha256 of ``254XXXXXXXXX`` (no ``+``), hex."""
    m = _KENYA.match(e164)
    if not m:
        raise InvalidInput(f"{e164} is not a Kenyan (+254) number; only those can be sent hashed.")
    return hashlib.sha256(f"254{m.group(1)}".encode()).hexdigest()


def phone_field(to: str, hash_kenyan: bool) -> str:
    """The ``phone`` value: a 64-hex hash untouched, a hashed Kenyan number, else ``+E.164``."""
    s = (to or "").strip()
    if _HASH.match(s):
        return s
    try:
        s = "+" + international_digits(s, NAME)
    except InvalidInput as exc:
        raise InvalidNumber(
            f"'{to}' is neither an international number nor an M-PESA hash. Write the number with + and the "
            "country code (for example +254722000000), or give the 64-character hash."
        ) from exc
    if hash_kenyan and _KENYA.match(s):
        return kenyan_hash(s)
    return s


def sender_id(sender: str) -> int:
    """Send-2's sender is the numeric ID assigned to the account."""
    s = (sender or "").strip()
    if not s.isdigit():
        raise InvalidInput(f"Send-2's sender must be the numeric sender ID of the account, not '{s or 'empty'}'.")
    return int(s)


def _words(resp: _http.HttpReply) -> str:
    data = _http.body_json(resp)
    message = data.get("message") if isinstance(data, dict) else None
    if isinstance(message, str) and message.strip():
        return message.strip()
    return _http.error_text(resp)


class Send2Provider(BaseProvider):
    spec: ProviderSpec

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.secret('api_key')}"}

    def _error(self, resp: _http.HttpReply) -> ProviderError:
        code = resp.status_code
        if code == 406:
            # A 406 at submission is Send-2 refusing this message: rejected, not failed.
            return ProviderError(f"{NAME} refused the message: {_words(resp)}", status_code=code, rejected=True)
        if code in (401, 403):
            return ProviderError(
                f"{NAME} refused the API token (HTTP {code}): {_words(resp)}", status_code=code, auth=True
            )
        if code == 500:
            # No client reference: it may have gone out, and a retry could send it twice.
            return ProviderError(
                f"{NAME} had an internal error (HTTP {code}): {_words(resp)}; "
                "the message may or may not have been sent.",
                ErrorKind.AMBIGUOUS,
                status_code=code,
            )
        return _http.generic_error(resp, NAME)

    async def _call(self, method: str, path: str, body: Any = None) -> _http.HttpReply:
        return await _http.request(
            self.client, NAME, method, f"{self.base_url}{path}", json_body=body, headers=self._headers()
        )

    async def send(self, msg: OutboundMessage) -> SendResult:
        hashed = self.account.setting("hash_kenyan", "false").lower() in ("1", "true", "yes", "on")
        body = {
            "phone": phone_field(msg.to, hashed),
            "text": msg.text,
            "sender": sender_id(msg.sender or self.account.sender),
        }
        resp = await self._call("POST", "/v1/message", body)
        data = _http.body_json(resp)
        if resp.status_code != 200:
            raise self._error(resp)
        if isinstance(data, dict) and data.get("success") is False:
            raise ProviderError(
                f"{NAME} refused the message: {_words(resp)}", status_code=resp.status_code, rejected=True
            )
        inner: dict[str, Any] = {}
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            inner = data["data"]
        pmid = inner.get("id")
        raw = str(inner.get("status") or "Sent")
        status, _ = map_dlr(None, raw)
        if status not in (Status.SENT, Status.DELIVERED):
            status = Status.SENT  # a 200 means accepted, whatever the wording
        units = inner.get("units")
        return SendResult(
            msg.local_id,
            None if pmid in (None, "") else str(pmid),
            status,
            raw,
            segments=units if isinstance(units, int) and not isinstance(units, bool) else None,
        )

    async def poll_status(self, provider_message_id: str) -> StatusEvent | None:
        resp = await self._call("GET", f"/v1/message/{provider_message_id}")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._error(resp)
        data = _http.body_json(resp)
        inner = data.get("data") if isinstance(data, dict) else None
        if not isinstance(inner, dict):
            return None
        status, raw = map_dlr(inner.get("dlr"), inner.get("status"))
        err = raw if status in (Status.FAILED, Status.REJECTED, Status.EXPIRED) else None
        return StatusEvent(provider_message_id, None, status, raw, err)

    async def balance(self) -> int | float | None:
        resp = await self._call("GET", "/v1/balance")
        if resp.status_code != 200:
            raise self._error(resp)
        data = _http.body_json(resp)
        inner = data.get("data") if isinstance(data, dict) else None
        value = inner.get("balance") if isinstance(inner, dict) else None
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    async def test(self) -> str:
        """``GET /v1/balance``: proves the token and shows what is left."""
        value = await self.balance()
        shown = "unknown" if value is None else f"{value:,}"
        return f"{NAME} accepted the API token. Balance: {shown} units."


FIELDS = (
    BASE_URL,
    FieldSpec("sender", "Sender ID", help="The numeric sender ID Send-2 assigned to the account."),
    API_KEY,
    FieldSpec(
        "hash_kenyan",
        "Send Kenyan numbers hashed",
        default="false",
        choices=("false", "true"),
        help="Send +254 numbers as the M-PESA SHA-256 hash instead of the number.",
        advanced=True,
    ),
    *COMMON_TAIL,
    FieldSpec(
        "low_balance",
        "Warn when the balance is below",
        help="smsdesk checks the balance every few minutes and after sends, and warns below this many units.",
        number="float",
    ),
    *POLL_TAIL,
)

SPEC = ProviderSpec(
    id="send2",
    name=NAME,
    fields=FIELDS,
    caps=Capabilities(status_poll=True, balance=True),
    limits=Limits(concurrency=8, per_second=20),
    default_base_url="https://sms.send-2.com",
    factory=lambda acct, client: Send2Provider(acct, client),
    notes="Delivery reports by polling only; no bulk, scheduling, webhooks or replies.",
    # A send cut off before its answer has no Send-2 id, and Send-2 keeps no reference of ours.
    unsettled_note=(
        "Send-2 cannot be asked about a send that was cut off: without its answer smsdesk has no "
        "Send-2 message number to look up. Check with the recipients or on Send-2's website, then "
        "mark them as sent or send them again."
    ),
    numeric_sender_only=True,
    sandbox=SandboxWire(
        "/send2",
        note="Send-2 has no webhooks: delivery shows up by polling, a few seconds after sending.",
        preset=(("sender", "12345"),),  # Send-2 sender IDs are numbers
    ),
)
Send2Provider.spec = SPEC
