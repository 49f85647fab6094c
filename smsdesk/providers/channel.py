"""Channel API connector: smsdesk as the *client* of the Bloomreach Channel API contract.

Many CPaaS connectors implement this contract
(https://documentation.bloomreach.com/engagement/reference/sms-send-sms): ``POST`` to the
connector's URL with ``sender``, ``recipient`` in
``00`` format, ``message``, ``request_id``, ``custom_data``, ``webhook_url`` and ``metadata``;
the account's settings go out as ``Chan-*`` headers. 200 is success, 429 and codes above 500
are retried, every other answer is permanent: the message becomes ``rejected`` (Bloomreach's
``enqueue_failed``), except a refused key (401/403), which is ``failed``
as with every provider. Because the connector dedupes on
``request_id`` (= ``local_id``), a timed-out send is safe to retry: it is RETRYABLE here,
never ambiguous.

Delivery reports come to ``webhook_url`` (this account's receiver URL) and are matched by
``custom_data`` / ``request_id``. Their schema is undocumented, so they are read defensively:
one event, an array, or ``{"events": [...]}``. With ``jwt_secret`` set, the ``Authorization``
header must hold an HS256 JWT (raw or ``Bearer``) whose ``iat`` is within 15 minutes (the
contract's window) and at most :data:`CLOCK_SKEW_S` ahead. Without it, the route is
authenticated as Mobivate's is: a secret ``webhook_token`` (generated when the account is
added) in the ``webhook_url`` smsdesk sends with each message; a report without it is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from smsdesk.domain.errors import ErrorKind, InvalidInput, ProviderError
from smsdesk.domain.models import (
    InboundMessage,
    OutboundMessage,
    ParsedWebhook,
    SendResult,
    StatusEvent,
)
from smsdesk.domain.phone import canonical_inbound
from smsdesk.domain.status import Status
from smsdesk.domain.webhook_request import WebhookRejected, WebhookRequest
from smsdesk.providers import _http
from smsdesk.providers.base import BaseProvider, international_digits
from smsdesk.providers.spec import (
    API_KEY,
    BASE_URL,
    COMMON_TAIL,
    SENDER,
    Capabilities,
    FieldSpec,
    Limits,
    ProviderSpec,
    SandboxWire,
    WebhookEnvelope,
)

NAME = "Channel API"
JWT_WINDOW_S = 15 * 60
CLOCK_SKEW_S = 60

STATUS_MAP: dict[str, Status] = {
    "delivered": Status.DELIVERED,
    "delivery": Status.DELIVERED,
    "enqueued": Status.SENT,
    "queued": Status.SENT,
    "accepted": Status.SENT,
    "submitted": Status.SENT,
    "sent": Status.SENT,
    "pending": Status.SENT,
    "buffered": Status.SENT,
    "failed": Status.FAILED,
    "undelivered": Status.FAILED,
    "undeliverable": Status.FAILED,
    "hard_bounced": Status.FAILED,
    "soft_bounced": Status.FAILED,
    "error": Status.FAILED,
    "enqueue_failed": Status.REJECTED,
    "rejected": Status.REJECTED,
    "preblocked": Status.REJECTED,
    "blocked": Status.REJECTED,
    "expired": Status.EXPIRED,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
    "unknown": Status.UNKNOWN,
}
_PROBLEM = {Status.FAILED, Status.REJECTED, Status.EXPIRED}


def map_status(raw: Any) -> tuple[Status, str]:
    text = str(raw).strip() if raw not in (None, "") else ""
    key = text.lower().replace(" ", "_").replace("-", "_")
    return STATUS_MAP.get(key, Status.UNKNOWN), text


def recipient_00(e164: str) -> str:
    """The contract's recipient format: ``00`` + 7-15 digits."""
    return "00" + international_digits(e164, NAME)


def _sid(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, bool | dict | list):
        return None
    return str(value)


def _first(d: dict[str, Any], *names: str) -> Any:
    for n in names:
        if d.get(n) not in (None, ""):
            return d[n]
    return None


def _events(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        for key in BATCH_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    items = data if isinstance(data, list) else [data]
    return [e for e in items if isinstance(e, dict)]


def _is_inbound(ev: dict[str, Any]) -> bool:
    direction = str(ev.get("direction") or ev.get("type") or "").lower()
    if direction in ("inbound", "mo", "in", "incoming"):
        return True
    has_text = any(k in ev for k in ("message", "text", "body"))
    return has_text and not any(k in ev for k in ("status", "delivery_status", "custom_data", "request_id"))


def _finite_number(value: Any) -> float | None:
    """A JWT NumericDate as seconds, or None unless a finite JSON number (not a bool or text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int of hundreds of digits
        return None
    return seconds if math.isfinite(seconds) else None


def _dt(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


class ChannelProvider(BaseProvider):
    spec: ProviderSpec

    def _endpoint(self, setting: str) -> str:
        """``url`` absolute, or relative to ``base_url``; empty falls back to ``base_url``."""
        url = self.account.setting(setting).strip()
        base = (self.account.base_url or "").rstrip("/")
        if url.startswith(("http://", "https://")):
            return url
        if url and base:
            return urljoin(base + "/", url.lstrip("/"))
        if base and setting == "url":
            return base
        raise InvalidInput(f"The Channel API account '{self.account.name}' has no {setting} to send to.")

    def headers(self) -> dict[str, str]:
        """``Chan-Api-Key`` plus one ``Chan-<Name>`` header per ``chan.<Name>`` setting."""
        hdrs = {"Chan-Api-Key": self.account.secret("api_key")}
        for key, value in self.account.settings.items():
            if key.startswith("chan.") and len(key) > 5 and value not in (None, ""):
                hdrs["Chan-" + key[5:]] = str(value)
        return hdrs

    def _error(self, resp: _http.HttpReply) -> ProviderError:
        code = resp.status_code
        words = _http.error_text(resp)
        if code == 429:
            return ProviderError(
                f"The connector is rate limiting: {words}",
                ErrorKind.RETRYABLE,
                status_code=code,
                retry_after=_http.retry_after(resp),
            )
        if code > 500:
            return ProviderError(
                f"The connector is unavailable (HTTP {code}): {words}",
                ErrorKind.RETRYABLE,
                status_code=code,
                retry_after=_http.retry_after(resp),
            )
        if code in (401, 403):
            # A refused key is our configuration, not this message: "failed", as with every provider.
            return ProviderError(
                f"The connector refused the credentials (HTTP {code}): {words}", status_code=code, auth=True
            )
        # The contract: any other non-200 is permanent, Bloomreach's enqueue_failed: the
        # message is rejected. 500 included: only codes above 500 are retried.
        if code == 500:
            return ProviderError(
                f"The connector failed on the message (HTTP 500): {words}. The Channel API contract does not "
                "retry a 500; check the connector, then send it again.",
                status_code=code,
                rejected=True,
            )
        return ProviderError(
            f"The connector refused the message (HTTP {code}): {words}", status_code=code, rejected=True
        )

    async def _post(self, url: str, body: Any) -> _http.HttpReply:
        try:
            return await _http.request(self.client, NAME, "POST", url, json_body=body, headers=self.headers())
        except ProviderError as exc:
            if exc.kind == ErrorKind.AMBIGUOUS:
                # request_id dedupes at the connector, so sending again cannot double-send.
                raise ProviderError(
                    f"{exc} It will be sent again with the same request_id (the connector dedupes on it).",
                    ErrorKind.RETRYABLE,
                ) from exc
            raise

    async def send(self, msg: OutboundMessage) -> SendResult:
        sender = (msg.sender or self.account.sender or "").strip()
        if not sender:
            raise InvalidInput("The Channel API needs a sender number or name.")
        metadata: dict[str, Any] = {"source": "smsdesk", "account": self.account.name}
        extra = msg.options.get("metadata") if msg.options else None
        if isinstance(extra, dict):
            metadata.update(extra)
        body = {
            "sender": sender,
            "recipient": recipient_00(msg.to),
            "message": msg.text,
            "request_id": msg.local_id,
            "custom_data": msg.local_id,
            "webhook_url": self.account.webhook_url,
            "metadata": metadata,
        }
        resp = await self._post(self._endpoint("url"), body)
        if resp.status_code != 200:
            raise self._error(resp)
        data = _http.body_json(resp)
        pmid = _sid(_first(data, "message_id", "messageId", "id")) if isinstance(data, dict) else None
        raw = str(_first(data, "status") or "Accepted") if isinstance(data, dict) else "Accepted"
        return SendResult(msg.local_id, pmid, Status.SENT, raw)

    async def test(self) -> str:
        """POST the ``verify_url`` (the contract's Verify credentials endpoint).

        Raises:
            ProviderError: the connector refused the credentials, or there is no ``verify_url``
                (then nothing was called and the key is unchecked, which must not look like
                a success).
        """
        if not self.account.setting("verify_url").strip():
            self._endpoint("url")
            # Not a success: nothing was called. Raised so that no one reads it as a green tick.
            raise ProviderError(
                "Saved; this connector has no verify endpoint, so the key was not checked. To check it, "
                "set 'Verify credentials URL' to the connector's verify endpoint, or send a test message."
            )
        resp = await self._post(self._endpoint("verify_url"), {})
        if resp.status_code != 200:
            raise self._error(resp)
        return "The connector accepted the credentials."

    # ---- webhooks ----------------------------------------------------------------------
    def verify_webhook(self, req: WebhookRequest, now: float) -> None:
        secret = self.account.secret("jwt_secret")
        if not secret:
            # No JWT to check: the secret token in the URL we gave the connector is the proof
            # (issue 4: every route is authenticated; an open route would take forged reports).
            expected = self.account.setting("webhook_token")
            if not expected:
                raise WebhookRejected(
                    401,
                    "this account has neither a JWT secret nor a callback token: "
                    "set a JWT secret, or edit and save the account to get a token",
                )
            given = req.query.get("token", "")
            if not given:
                raise WebhookRejected(401, "the callback URL has no ?token= (and no JWT secret is set)")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                raise WebhookRejected(401, "wrong callback token")
            return
        import jwt  # with cryptography ~0.1-0.2 s: only when a JWT is actually checked, not at start-up

        auth = req.headers.get("authorization", "").strip()
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else auth
        if not token:
            raise WebhookRejected(401, "no JWT in the Authorization header")
        if not token.isascii():  # PyJWT's .encode() would fail on undecodable bytes (a 500)
            raise WebhookRejected(401, "malformed JWT (not ASCII)")
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"require": ["iat"], "verify_iat": False},
                leeway=CLOCK_SKEW_S,
            )
        except jwt.PyJWTError as exc:
            raise WebhookRejected(401, f"JWT rejected: {exc}") from exc
        times = {claim: _finite_number(claims[claim]) for claim in ("iat", "exp", "nbf") if claim in claims}
        for claim, seconds in times.items():
            if seconds is None:
                # PyJWT takes "iat": NaN, for which both window checks below are false (valid
                # for ever), and an "exp" of 400 digits; float() of either would be a 500.
                raise WebhookRejected(401, f"JWT {claim} is not a finite number of seconds")
        iat = times.get("iat")
        if iat is None:  # required by decode(); kept for the type checker
            raise WebhookRejected(401, "JWT has no iat")
        if iat > now + CLOCK_SKEW_S:
            raise WebhookRejected(401, f"JWT iat is {int(iat - now)} s in the future (check this computer's clock)")
        if now - iat > JWT_WINDOW_S:
            raise WebhookRejected(401, f"JWT is {int(now - iat)} s old (valid for {JWT_WINDOW_S} s)")

    def webhook_dedupe_key(self, req: WebhookRequest) -> str:
        """The caller's ``request_id`` (or ``custom_data``) with the status it reports."""
        try:
            events = _events(json.loads(req.body))
        except ValueError:
            events = []
        keys = []
        for ev in events:
            ref = _sid(_first(ev, "request_id", "custom_data", "message_id", "id"))
            if not ref:
                return hashlib.sha256(req.body).hexdigest()
            state = _first(ev, "status", "delivery_status", "state", "event") or ("mo" if _is_inbound(ev) else "")
            keys.append(f"{ref}:{state}")
        if not keys:
            return hashlib.sha256(req.body).hexdigest()
        return keys[0] if len(keys) == 1 else hashlib.sha256("|".join(keys).encode()).hexdigest()

    def parse_webhook(self, req: WebhookRequest) -> ParsedWebhook:
        receipts: list[StatusEvent] = []
        inbound: list[InboundMessage] = []
        for ev in _events(json.loads(req.body)):
            if _is_inbound(ev):
                inbound.append(
                    InboundMessage(
                        _sid(_first(ev, "message_id", "id")),
                        canonical_inbound(str(_first(ev, "sender", "from", "originator") or "")),
                        canonical_inbound(str(_first(ev, "recipient", "to") or "")),
                        str(_first(ev, "message", "text", "body") or ""),
                        _dt(_first(ev, "timestamp", "received_at", "created")),
                    )
                )
                continue
            status, raw = map_status(_first(ev, "status", "delivery_status", "state", "event"))
            err = _first(ev, "error", "error_message", "reason", "description", "error_code")
            if isinstance(err, dict):
                err = err.get("message") or json.dumps(err)[:200]
            if err is None and status in _PROBLEM:
                err = raw
            receipts.append(
                StatusEvent(
                    _sid(_first(ev, "message_id", "provider_message_id")),
                    _sid(_first(ev, "custom_data", "request_id")),
                    status,
                    raw,
                    None if err is None else str(err),
                    _dt(_first(ev, "timestamp", "time", "created")),
                )
            )
        return ParsedWebhook(tuple(receipts), tuple(inbound))


# A JSON object holding a batch of reports under one of these keys.
BATCH_KEYS = ("events", "data", "reports", "messages")

FIELDS = (
    FieldSpec(
        "url",
        "Send URL",
        required=True,
        help="The connector's send endpoint (absolute, or a path relative to the base URL).",
    ),
    BASE_URL,
    SENDER,
    API_KEY,
    FieldSpec(
        "jwt_secret",
        "Callback JWT secret",
        secret=True,
        help="When set, delivery reports must carry an HS256 JWT signed with it.",
    ),
    FieldSpec(
        "webhook_token",
        "Callback token",
        generated=True,
        advanced=True,
        help="Secret token in the delivery-report URL; it authenticates reports when no JWT secret is set.",
    ),
    FieldSpec("verify_url", "Verify credentials URL", help="Optional; used by Test.", advanced=True),
    *COMMON_TAIL,
)

SPEC = ProviderSpec(
    id="channel",
    name=NAME,
    fields=FIELDS,
    caps=Capabilities(webhooks=True, webhook_signed=True, idempotent=True, callback_per_send=True),
    limits=Limits(concurrency=8, per_second=50),
    default_base_url="",
    factory=lambda acct, client: ChannelProvider(acct, client),
    notes="Any connector that implements the Bloomreach Channel API send contract. "
    "Extra headers: --set chan.<Name>=value is sent as Chan-<Name>.",
    envelope=WebhookEnvelope(batch_keys=BATCH_KEYS),
    sandbox=SandboxWire(
        "/channel",
        note="Delivery reports come back to this account's webhook, signed with its callback JWT secret.",
        generated=("jwt_secret",),
        preset=(("url", "/send"), ("verify_url", "/verify")),
        registers_jwt=True,
    ),
)
ChannelProvider.spec = SPEC
