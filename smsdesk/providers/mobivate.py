"""Mobivate BulkSMS (new API): Bearer key, single and batch send, DR/inbound webhooks, polling.

Public documentation: https://wiki.mobivatebulksms.com/overview. Points that shape this module:

- Errors are classified by ``error.name`` first and by HTTP status second, because the
  documented table (401 bad key, 403 opted out) and the published example (an
  ``AuthenticationError`` on 403) disagree.
- Mobivate signs nothing; receipts and replies are authenticated by a secret ``token`` in the
  callback URL (``webhook_token``, generated when the account is added). Each send carries the
  account's receiver URL as ``callbackURL`` so receipts come back with that token; a
  loopback receiver URL is only sent to a loopback Mobivate (the sandbox, tests), since the
  real service could never reach it (set the key's Receipt URL, or run a tunnel).
- A DR carries a 32-hex ``deliveryMessageId`` unlike the send's UUID; receipts are matched on
  ``clientReference`` (our ``reference`` = ``local_id``).
- INTERIM_QUEUED (8) and RETRY (10) are provider-side pending states; smsdesk has no PENDING, so
  they are ``sent`` (accepted, not final) with the raw status kept.
- A batch answer (its shape is [ND]) is read per recipient: refused items become
  ``rejected`` with Mobivate's words, items the answer leaves out ``needs_review``; nothing
  is claimed as sent unless the answer accepts it (:func:`batch_results`).
- Mobivate is the one provider whose message log can settle an ambiguous send:
  :meth:`MobivateProvider.reconcile_many` looks for our references as ``senderReference``,
  a whole interrupted batch in one read of the log (``caps.reconcile``: the review service
  asks it on a back-off schedule until each message is found or given up on).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from smsdesk.domain.errors import InvalidInput
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
from smsdesk.providers.base import BaseProvider
from smsdesk.providers.mobivate_wire import (
    BATCH_CHUNK,
    LOG_PAGE_SIZE,
    NAME,
    OK_STATUSES,
    RECONCILE_MAX_PAGES,
    batch_results,
    classify,
    log_time,
    map_status,
    message_id,
    msisdn,
    originator,
    parse_time,
    records,
)
from smsdesk.providers.spec import (
    API_KEY,
    BASE_URL,
    COMMON_TAIL,
    POLL_TAIL,
    SENDER,
    Capabilities,
    FieldSpec,
    Limits,
    ProviderSpec,
    SandboxWire,
)


class MobivateProvider(BaseProvider):
    spec: ProviderSpec

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.secret('api_key')}"}

    def _callback(self) -> str:
        url = self.account.webhook_url
        if not url or (_is_loopback(url) and not _is_loopback(self.base_url)):
            return ""
        return url

    def _flag(self, name: str, default: bool) -> bool:
        value = self.account.setting(name, "true" if default else "false").strip().lower()
        return value in ("1", "true", "yes", "on")

    async def _call(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> _http.HttpReply:
        return await _http.request(
            self.client,
            NAME,
            method,
            f"{self.base_url}{path}",
            json_body=body,
            headers=self._headers(),
            params=params,
        )

    def _single_body(self, msg: OutboundMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "text": msg.text,
            "originator": originator(msg.sender or self.account.sender),
            "recipient": msisdn(msg.to),
            "reference": msg.local_id,
            "shortenUrls": self._flag("shorten_urls", False),
            "excludeOptouts": self._flag("exclude_optouts", True),
        }
        if msg.send_at:
            body["scheduleDateTime"] = msg.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self._callback():
            body["callbackURL"] = self._callback()
        return body

    async def send(self, msg: OutboundMessage) -> SendResult:
        resp = await self._call("POST", "/send/single", self._single_body(msg))
        data = _http.body_json(resp)
        if resp.status_code != 200 or (isinstance(data, dict) and data.get("success") is False):
            raise classify(resp)
        record = data.get("record") if isinstance(data, dict) and isinstance(data.get("record"), dict) else data
        pmid = message_id(record.get("id")) if isinstance(record, dict) else None
        status = Status.SCHEDULED if msg.send_at else Status.SENT
        return SendResult(msg.local_id, pmid, status, "Accepted")

    async def send_bulk(self, msgs: list[OutboundMessage]) -> list[SendResult]:
        """``/send/batch`` in chunks of at most 1,000; each recipient carries its own reference."""
        results: list[SendResult] = []
        for start in range(0, len(msgs), BATCH_CHUNK):
            results += await self._send_chunk(msgs[start : start + BATCH_CHUNK])
        return results

    async def _send_chunk(self, chunk: list[OutboundMessage]) -> list[SendResult]:
        recipients: list[dict[str, Any]] = []
        good: list[OutboundMessage] = []
        results: list[SendResult] = []
        texts = {m.text for m in chunk}
        senders = {m.sender or self.account.sender for m in chunk}
        for m in chunk:
            try:
                item: dict[str, Any] = {"recipient": msisdn(m.to), "reference": m.local_id}
                if len(texts) > 1:
                    item["text"] = m.text
                if len(senders) > 1:
                    item["originator"] = originator(m.sender or self.account.sender)
            except InvalidInput as exc:
                results.append(SendResult(m.local_id, None, Status.REJECTED, "", error=str(exc)))
                continue
            recipients.append(item)
            good.append(m)
        if not good:
            return results
        first = good[0]
        body: dict[str, Any] = {
            "name": f"smsdesk {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
            "originator": originator(first.sender or self.account.sender),
            "text": first.text,
            "recipients": recipients,
            "shortenUrls": self._flag("shorten_urls", False),
            "excludeOptOuts": self._flag("exclude_optouts", True),
            "excludeDuplicates": False,
        }
        if first.send_at:
            body["scheduleDateTime"] = first.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self._callback():
            body["callbackURL"] = self._callback()
        resp = await self._call("POST", "/send/batch", body)
        data = _http.body_json(resp)
        if resp.status_code != 200 or (isinstance(data, dict) and data.get("success") is False):
            raise classify(resp)
        return results + batch_results(data, good, Status.SCHEDULED if first.send_at else Status.SENT)

    async def test(self) -> str:
        """The cheapest authenticated call: one page of one record of today's message log."""
        now = datetime.now(UTC)
        resp = await self._call(
            "GET",
            "/message",
            params={
                "startDate": now.strftime("%Y-%m-%d"),
                "endDate": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
                "page": "1",
                "pageSize": "1",
                "direction": "MT",
            },
        )
        if resp.status_code != 200:
            raise classify(resp)
        return f"{NAME} accepted the API key."

    # ---- polling -----------------------------------------------------------------------
    @staticmethod
    def _event(rec: dict[str, Any]) -> StatusEvent:
        status, raw = map_status(rec.get("status"), rec.get("statusCode"))
        err = None if status in OK_STATUSES else f"{raw or 'failed'}"
        return StatusEvent(
            message_id(rec.get("id")),
            message_id(rec.get("senderReference") or rec.get("reference")),
            status,
            raw,
            err,
            parse_time(rec.get("modified") or rec.get("created")),
        )

    async def poll_status(self, provider_message_id: str) -> StatusEvent | None:
        resp = await self._call("GET", f"/message/{provider_message_id}")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise classify(resp)
        data = _http.body_json(resp)
        rec = data.get("record", data) if isinstance(data, dict) else None
        return self._event(rec) if isinstance(rec, dict) else None

    async def _log(self, since: datetime, direction: str, pages: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        until = datetime.now(UTC) + timedelta(minutes=5)
        for page in range(1, pages + 1):
            resp = await self._call(
                "GET",
                "/message",
                params={
                    "startDate": log_time(since),
                    "endDate": log_time(until),
                    "direction": direction,
                    "page": str(page),
                    "pageSize": str(LOG_PAGE_SIZE),
                },
            )
            if resp.status_code != 200:
                raise classify(resp)
            recs = records(_http.body_json(resp))
            out += recs
            if len(recs) < LOG_PAGE_SIZE:
                break
        return out

    async def poll_inbound(self, since: datetime) -> list[InboundMessage]:
        recs = await self._log(since, "MO", RECONCILE_MAX_PAGES)
        return [
            InboundMessage(
                message_id(r.get("id")),
                canonical_inbound(str(r.get("originator") or "")),
                canonical_inbound(str(r.get("recipient") or "")),
                str(r.get("body") or r.get("text") or ""),
                parse_time(r.get("created")),
                message_id(r.get("inReplyTo")),
            )
            for r in recs
            if str(r.get("direction") or "MO").upper() == "MO"
        ]

    async def reconcile(self, local_id: str, sent_after: datetime) -> SendResult | None:
        """Find an ambiguous send in the MT log by ``senderReference``; None when it is not there."""
        return (await self.reconcile_many([local_id], sent_after)).get(local_id)

    async def reconcile_many(self, local_ids: Sequence[str], sent_after: datetime) -> dict[str, SendResult]:
        """One read of the MT log since ``sent_after`` settles every reference it lists."""
        wanted = set(local_ids)
        found: dict[str, SendResult] = {}
        for rec in await self._log(sent_after, "MT", RECONCILE_MAX_PAGES):
            ref = next(
                (
                    r
                    for r in (rec.get("senderReference"), rec.get("reference"), rec.get("clientReference"))
                    if isinstance(r, str) and r in wanted
                ),
                None,
            )
            if ref is None or ref in found:
                continue
            ev = self._event(rec)
            status = ev.status if ev.status.is_final else Status.SENT
            found[ref] = SendResult(ref, ev.provider_message_id, status, ev.raw_status or "Accepted", error=ev.error)
        return found

    # ---- opt-outs on the provider ------------------------------------------------------
    async def optout_add(self, number: str) -> None:
        resp = await self._call("POST", "/addressbook/optout", {"mobile": msisdn(number)})
        if resp.status_code not in (200, 201):
            raise classify(resp)

    async def optout_remove(self, number: str) -> None:
        resp = await self._call("DELETE", "/addressbook/optout", {"mobile": msisdn(number)})
        if resp.status_code not in (200, 204, 404):
            raise classify(resp)

    # ---- webhooks ----------------------------------------------------------------------
    def verify_webhook(self, req: WebhookRequest, now: float) -> None:
        expected = self.account.setting("webhook_token")
        if not expected:
            raise WebhookRejected(401, "no webhook_token is configured for this account")
        given = req.query.get("token", "")
        if not given:
            raise WebhookRejected(401, "the callback URL has no ?token=")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected(401, "wrong callback token")

    def webhook_dedupe_key(self, req: WebhookRequest) -> str:
        try:
            data = json.loads(req.body)
        except ValueError:
            data = None
        found = [_dedupe_one(ev) for ev in (data if isinstance(data, list) else [data])]
        keys = [k for k in found if k]
        if keys and len(keys) == len(found):
            return keys[0] if len(keys) == 1 else hashlib.sha256("|".join(keys).encode()).hexdigest()
        return hashlib.sha256(req.body).hexdigest()

    def parse_webhook(self, req: WebhookRequest) -> ParsedWebhook:
        data = json.loads(req.body)
        receipts: list[StatusEvent] = []
        inbound: list[InboundMessage] = []
        for ev in data if isinstance(data, list) else [data]:
            if not isinstance(ev, dict):
                continue
            if "deliveryMessageId" in ev or "statusCode" in ev:
                status, raw = map_status(ev.get("status"), ev.get("statusCode"))
                err = None if status in OK_STATUSES else f"{raw} (code {ev.get('statusCode')})"
                receipts.append(
                    StatusEvent(
                        message_id(ev.get("deliveryMessageId")),
                        message_id(ev.get("clientReference")),
                        status,
                        raw,
                        err,
                        parse_time(ev.get("created")),
                    )
                )
            elif "originator" in ev and ("body" in ev or "text" in ev):
                inbound.append(
                    InboundMessage(
                        message_id(ev.get("id")),
                        canonical_inbound(str(ev.get("originator") or "")),
                        canonical_inbound(str(ev.get("recipient") or "")),
                        str(ev.get("body") or ev.get("text") or ""),
                        parse_time(ev.get("created")),
                        message_id(ev.get("inReplyTo")),
                    )
                )
        return ParsedWebhook(tuple(receipts), tuple(inbound))


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _dedupe_one(ev: Any) -> str | None:
    """What makes an event a repeat: a DR by (deliveryMessageId, statusCode); a reply by its id."""
    if not isinstance(ev, dict):
        return None
    if ev.get("deliveryMessageId"):
        return f"dr:{ev['deliveryMessageId']}:{ev.get('statusCode', ev.get('status'))}"
    if ev.get("id"):
        return f"mo:{ev['id']}"
    return None


FIELDS = (
    BASE_URL,
    SENDER,
    API_KEY,
    FieldSpec(
        "webhook_token",
        "Callback token",
        generated=True,
        advanced=True,
        help="Secret token in the receipt/reply URL (Mobivate does not sign callbacks).",
    ),
    FieldSpec("exclude_optouts", "Skip opted-out numbers", default="true", choices=("true", "false")),
    FieldSpec("shorten_urls", "Shorten links", default="false", choices=("true", "false")),
    *COMMON_TAIL,
    *POLL_TAIL,
)

SPEC = ProviderSpec(
    id="mobivate",
    name=NAME,
    fields=FIELDS,
    caps=Capabilities(
        bulk=True,
        max_batch=BATCH_CHUNK,
        schedule=True,
        status_poll=True,
        inbound_poll=True,
        webhooks=True,
        reconcile=True,
        callback_per_send=True,
    ),
    limits=Limits(concurrency=8, per_second=30),
    default_base_url="https://api.mobivatebulksms.com",
    factory=lambda acct, client: MobivateProvider(acct, client),
    notes="Mobivate gives the production host of its new API on request; set it as the base URL.",
    sandbox=SandboxWire(
        "/mobivate", note="Receipts come back to this account's webhook (its callback URL carries the token)."
    ),
)
MobivateProvider.spec = SPEC
