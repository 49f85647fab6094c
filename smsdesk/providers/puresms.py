"""PureSMS (Divergent Connect): ``X-Api-Key``, single and bulk send, scheduling, HMAC webhooks.

Public documentation: https://the.divergent.guide/puresms/developers/ and
https://docs.divergent.cloud/p/7wKWvg_X-aYGMr/PureSMS-Compatibility. Webhook payloads in the
wild come camelCase or PascalCase,
with ``eventType`` or ``event_type``, and statuses as strings or numbers: accept them all.

``Queued`` (and the observed numeric 1, "processing") are provider-side pending states;
smsdesk has no PENDING, so they map to ``sent`` (accepted, not final), never to
our ``queued`` (the outbox), and the raw status ("Queued", "1") is kept beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

from smsdesk.domain.errors import InvalidInput, ProviderError
from smsdesk.domain.models import (
    InboundMessage,
    OutboundMessage,
    ParsedWebhook,
    SendResult,
    StatusEvent,
)
from smsdesk.domain.phone import canonical_inbound
from smsdesk.domain.segments import analyze, strip_to_gsm
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

REPLAY_WINDOW_S = 300
# Unix seconds in plain ASCII digits, no sign, point, exponent, underscore or leading zero:
# float() would take "nan" (for which the window check is always false: valid for ever),
# "inf" and 400-digit numbers (OverflowError), int() underscores and other scripts' digits.
_UNIX_SECONDS = re.compile(r"[1-9][0-9]{0,11}")
BULK_CHUNK = 1000

# "Queued" at the provider means accepted, not final: SENT (no PENDING in smsdesk; see the
# module docstring). Never Status.QUEUED, which means "in our outbox" and would make the
# dispatcher send a provider-scheduled message again.
STATUS_MAP = {
    "queued": Status.SENT,
    "dispatched": Status.SENT,
    "delivered": Status.DELIVERED,
    "failed": Status.FAILED,
    "deleted": Status.FAILED,
    "expired": Status.EXPIRED,
    "rejected": Status.REJECTED,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
    "unknown": Status.UNKNOWN,
}
# Numeric codes seen in real webhooks (not documented): 1 processing, 2 failed, 7 delivered.
NUMERIC_MAP = {1: Status.SENT, 2: Status.FAILED, 7: Status.DELIVERED}

UNICODE_MODES = ("Allow", "Deny", "Strip")
UNICODE_HELP = (
    "Emoji and letters outside the basic SMS alphabet. Allow: sent as they are (UCS-2, 70 characters "
    "per part); Deny: PureSMS refuses such a message; Strip: PureSMS removes those characters."
)


def map_status(raw: Any) -> tuple[Status, str]:
    """(mapped status, raw text) for a string or numeric ``deliveryStatus``."""
    if isinstance(raw, bool) or raw is None:
        return Status.UNKNOWN, "" if raw is None else str(raw)
    if isinstance(raw, (int, float)) or (isinstance(raw, str) and raw.strip().isdigit()):
        code = int(raw)
        return NUMERIC_MAP.get(code, Status.UNKNOWN), str(code)
    text = str(raw).strip()
    return STATUS_MAP.get(text.lower(), Status.UNKNOWN), text


_SPELLINGS: dict[str, tuple[str, str, str]] = {}


def _spellings(name: str) -> tuple[str, str, str]:
    found = _SPELLINGS.get(name)
    if found is None:
        found = _SPELLINGS[name] = (name, name[:1].upper() + name[1:], name.lower())
    return found


def _get(d: Any, *names: str) -> Any:
    """Read a key in camelCase, PascalCase or snake_case."""
    if not isinstance(d, dict):
        return None
    for name in names:
        # The spellings are built once per name, not per read: a receipt burst reads
        # half a dozen keys per event.
        for key in _SPELLINGS.get(name) or _spellings(name):
            if key in d:
                return d[key]
    return None


def _sid(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """PureSMS's signature: base64(HMAC-SHA256(secret, "{timestamp}.{raw body}"))."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def verify_signature(secret: str, req: WebhookRequest, now: float) -> None:
    """Check the HMAC over the raw body and the ±5 minute window; raise WebhookRejected."""
    sig = req.headers.get("x-webhook-signature", "")
    ts = req.headers.get("x-webhook-timestamp", "")
    if not sig or not ts:
        raise WebhookRejected(401, "unsigned: X-Webhook-Signature or X-Webhook-Timestamp missing")
    if not _UNIX_SECONDS.fullmatch(ts):
        raise WebhookRejected(401, "malformed X-Webhook-Timestamp (not whole Unix seconds)")
    ts_val = int(ts)
    if abs(now - ts_val) > REPLAY_WINDOW_S:
        raise WebhookRejected(401, f"timestamp {int(now - ts_val)} s off (window ±{REPLAY_WINDOW_S} s)")
    if not secret:
        raise WebhookRejected(401, "no webhook_secret is configured for this account")
    sig = sig.strip()
    if not sig.isascii():
        # A base64 signature is ASCII; other bytes reach us as surrogate escapes that .encode()
        # refuses (a 500 with a traceback before).
        raise WebhookRejected(401, "malformed signature (not base64)")
    expected = sign(secret, ts, req.body)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise WebhookRejected(401, "signature mismatch")


def apply_unicode_mode(text: str, mode: str) -> str:
    mode = (mode or "Allow").capitalize()
    if mode == "Allow":  # the default: no need to look at the text (once per message sent)
        return text
    info = analyze(text)
    if info.encoding == "GSM-7":
        return text
    if mode == "Strip":
        return strip_to_gsm(text)
    shown = " ".join(info.ucs2_chars[:10])
    raise InvalidInput(f"This account's unicode mode is Deny and the text contains {shown}.")


class PureSmsProvider(BaseProvider):
    spec: ProviderSpec

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.account.secret("api_key")}

    def _item(self, msg: OutboundMessage) -> dict[str, Any]:
        sender = (msg.sender or self.account.sender or "").strip()
        if not sender:
            raise InvalidInput(f"{self.spec.name} needs a sender name (registered in the workspace).")
        item: dict[str, Any] = {
            "sender": sender,
            "recipient": "+" + international_digits(msg.to, self.spec.name),  # E.164 with +
            "content": apply_unicode_mode(msg.text, self.account.setting("unicode", "Allow")),
            "clientReference": msg.local_id,
        }
        return item

    def _error(self, resp: Any) -> ProviderError:
        return _http.generic_error(resp, self.spec.name)

    async def send(self, msg: OutboundMessage) -> SendResult:
        body = self._item(msg)
        if msg.send_at:
            body["sendAtUtc"] = msg.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        resp = await _http.request(
            self.client, self.spec.name, "POST", f"{self.base_url}/sms/send", json_body=body, headers=self._headers()
        )
        if resp.status_code not in (200, 201, 202):
            raise self._error(resp)
        data = _http.body_json(resp) or {}
        pmid = _sid(_get(data, "id", "messageId"))
        status = Status.SCHEDULED if msg.send_at else Status.SENT
        return SendResult(msg.local_id, pmid, status, "Accepted")

    async def send_bulk(self, msgs: list[OutboundMessage]) -> list[SendResult]:
        """One call per chunk; a 207 answer's ``errors[{index, error}]`` fail just those items."""
        results: list[SendResult] = []
        for start in range(0, len(msgs), BULK_CHUNK):
            chunk = msgs[start : start + BULK_CHUNK]
            items = []
            pre: dict[int, str] = {}
            for i, m in enumerate(chunk):
                try:
                    items.append(self._item(m))
                except InvalidInput as exc:
                    pre[i] = str(exc)
            body: dict[str, Any] = {"messages": items}
            if chunk[0].send_at:
                body["sendAtUtc"] = chunk[0].send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            sent_idx = [i for i in range(len(chunk)) if i not in pre]
            if not items:
                results += [
                    SendResult(m.local_id, None, Status.REJECTED, "", error=pre[i]) for i, m in enumerate(chunk)
                ]
                continue
            resp = await _http.request(
                self.client,
                self.spec.name,
                "POST",
                f"{self.base_url}/sms/send/bulk",
                json_body=body,
                headers=self._headers(),
            )
            if resp.status_code not in (200, 201, 202, 207):
                raise self._error(resp)
            data = _http.body_json(resp) or {}
            batch_id = _sid(_get(data, "batchId", "id"))
            item_errors: dict[int, str] = {}
            for err in _get(data, "errors") or []:
                if isinstance(err, dict) and _get(err, "index") is not None:
                    item_errors[int(_get(err, "index"))] = str(_get(err, "error", "message") or "rejected")
            ids = _get(data, "messageIds", "ids") or []
            status = Status.SCHEDULED if chunk[0].send_at else Status.SENT
            for pos, i in enumerate(sent_idx):
                m = chunk[i]
                if pos in item_errors:
                    results.append(SendResult(m.local_id, None, Status.REJECTED, "Rejected", error=item_errors[pos]))
                else:
                    pmid = _sid(ids[pos]) if pos < len(ids) else None
                    results.append(SendResult(m.local_id, pmid, status, "Accepted", batch_id=batch_id))
            for i, reason in pre.items():
                results.append(SendResult(chunk[i].local_id, None, Status.REJECTED, "", error=reason))
        return results

    async def cancel(self, provider_message_id: str) -> None:
        resp = await _http.request(
            self.client,
            self.spec.name,
            "DELETE",
            f"{self.base_url}/sms/send/{provider_message_id}",
            headers=self._headers(),
        )
        if resp.status_code == 400:
            raise ProviderError(
                f"{self.spec.name} could not cancel it: not found or already sending ({_http.error_text(resp)})."
            )
        if resp.status_code != 200:
            raise self._error(resp)

    async def cancel_batch(self, batch_id: str) -> int:
        resp = await _http.request(
            self.client,
            self.spec.name,
            "DELETE",
            f"{self.base_url}/sms/send/bulk/{batch_id}",
            headers=self._headers(),
        )
        if resp.status_code != 200:
            raise self._error(resp)
        data = _http.body_json(resp) or {}
        return int(_get(data, "cancelledCount") or 0)

    async def test(self) -> str:
        """Prove the key with the cheapest authenticated call PureSMS has: cancel message id 0.

        PureSMS has no balance call. Only an answer the real API gives proves the key: 200
        (cancelled) or 400 (not found / not cancellable), each with a JSON body. A 404, a
        non-JSON page or any other code means the base URL does not lead to the PureSMS API,
        so nothing was proved and the person is told what to check.
        """
        name, url = self.spec.name, self.base_url
        resp = await _http.request(self.client, name, "DELETE", f"{url}/sms/send/0", headers=self._headers())
        code = resp.status_code
        if code in (401, 403):
            raise ProviderError(
                f"{name} refused the API key (HTTP {code}): {_http.error_text(resp)}. "
                "Copy the workspace's API key again and save it.",
                auth=True,
                status_code=code,
            )
        if code == 429:
            err = _http.generic_error(resp, name)
            wait = f" in {err.retry_after:.0f} s" if err.retry_after else " in a minute"
            raise ProviderError(
                f"{err} The key was not checked; press Test again{wait}.",
                err.kind,
                status_code=code,
                retry_after=err.retry_after,
            )
        if code >= 500:
            raise ProviderError(
                f"{_http.generic_error(resp, name)} The key was not checked; try again later.", status_code=code
            )
        if code in (200, 400) and isinstance(_http.body_json(resp), dict):
            return f"{name} accepted the API key."
        if code == 404:
            raise ProviderError(
                f"{url} has no {name} API (HTTP 404 for /sms/send), so the key was not checked. "
                f"Check the base URL (normally {self.spec.default_base_url or 'the one you were given'}).",
                status_code=code,
            )
        shape = "JSON" if isinstance(_http.body_json(resp), dict) else "a page that is not JSON"
        raise ProviderError(
            f"{url} answered HTTP {code} with {shape}, which {name} never answers, so the key was not "
            "checked. Check the base URL.",
            status_code=code,
        )

    # ---- webhooks ----------------------------------------------------------------------
    def verify_webhook(self, req: WebhookRequest, now: float) -> None:
        verify_signature(self.account.secret("webhook_secret"), req, now)

    def webhook_dedupe_key(self, req: WebhookRequest) -> str:
        try:
            env = json.loads(req.body)
        except ValueError:
            env = None
        eid = _sid(_get(env, "id"))
        return eid or hashlib.sha256(req.body).hexdigest()

    def parse_webhook(self, req: WebhookRequest) -> ParsedWebhook:
        env = json.loads(req.body)
        events = env if isinstance(env, list) else [env]
        receipts: list[StatusEvent] = []
        inbound: list[InboundMessage] = []
        for ev in events:
            etype = _get(ev, "eventType", "event_type")
            data = _get(ev, "data") or {}
            try:
                etype = int(etype)
            except (TypeError, ValueError):
                etype = 2 if _get(data, "body") is not None else 1
            if etype == 1:
                status, raw = map_status(_get(data, "deliveryStatus"))
                raw_str = _get(data, "deliveryStatusStr")
                if status is Status.UNKNOWN and isinstance(raw_str, str):
                    status, raw = map_status(raw_str)
                err = _get(data, "errorCode")
                receipts.append(
                    StatusEvent(
                        _sid(_get(data, "messageId")),
                        _sid(_get(data, "clientReference")),
                        status,
                        raw,
                        None if err in (None, "") else f"Error code {err}",
                        _dt(_get(data, "deliveredAt")) or _dt(_get(data, "processedAt")),
                    )
                )
            elif etype == 2:
                inbound.append(
                    InboundMessage(
                        _sid(_get(data, "messageId")),
                        canonical_inbound(str(_get(data, "sender") or "")),
                        canonical_inbound(str(_get(data, "inboundNumber") or "")),
                        str(_get(data, "body") or ""),
                        _dt(_get(data, "receivedAt")),
                    )
                )
        return ParsedWebhook(tuple(receipts), tuple(inbound))


FIELDS = (
    BASE_URL,
    SENDER,
    API_KEY,
    FieldSpec(
        "webhook_secret",
        "Webhook signing secret",
        secret=True,
        help="From Settings -> Webhooks in the PureSMS workspace.",
    ),
    FieldSpec(
        "unicode",
        "Special characters (Unicode mode)",
        default="Allow",
        choices=UNICODE_MODES,
        help=UNICODE_HELP,
        advanced=True,
    ),
    *COMMON_TAIL,
)

# Every PureSMS event wraps its fields in a "data" object.
ENVELOPE = WebhookEnvelope(event_in_data=True)

CAPS = Capabilities(bulk=True, max_batch=BULK_CHUNK, schedule=True, cancel=True, webhooks=True, webhook_signed=True)

SPEC: ProviderSpec = ProviderSpec(
    id="puresms",
    name="PureSMS",
    fields=FIELDS,
    caps=CAPS,
    limits=Limits(concurrency=8, per_second=50),
    default_base_url="https://connect-api.divergent.cloud",
    factory=lambda acct, client: make(SPEC, acct, client),
    # No status or search endpoint: only a delivery receipt (clientReference) can settle one.
    unsettled_note=(
        "PureSMS cannot be asked whether these went out: it has no way to look a message up. "
        "Any that did go out are settled when PureSMS's delivery receipt reaches smsdesk (through "
        "its webhook); check the rest in the PureSMS portal, then mark them as sent or send them again."
    ),
    envelope=ENVELOPE,
    sandbox=SandboxWire(
        "",
        note="Receipts and replies come back to this account's webhook, signed with its webhook secret.",
        generated=("webhook_secret",),
        registers_webhook=True,
    ),
)


def make(spec: ProviderSpec, acct: Any, client: Any) -> PureSmsProvider:
    p = PureSmsProvider(acct, client)
    p.spec = spec
    return p
