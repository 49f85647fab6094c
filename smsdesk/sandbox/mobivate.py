"""Sandbox routes in Mobivate's (new API) wire format, under ``/mobivate``.

Demo: add a Mobivate account whose base URL is ``<sandbox url>/mobivate`` and whose API key
is the sandbox's key (``smsdesk sandbox`` prints it). Routes: ``POST /send/single``,
``POST /send/batch``, ``GET /message`` (log search, ``direction=MT|MO``), ``GET /message/{id}``,
``POST``/``DELETE /addressbook/optout``; ``Authorization: Bearer <key>``. Receipts and replies
go to each send's ``callbackURL`` (which carries the account's ``?token=``), in Mobivate's DR
and incoming-message shapes. A recipient who replied STOP (or was added to the opt-out list)
gets 403 on a single send, as Mobivate documents.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from smsdesk.sandbox.server import SandboxServer, SentRecord

PREFIX = "/mobivate"
_ALNUM = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_DIGITS = re.compile(r"^\d{1,15}$")
# PureSMS-style lifecycle statuses (the server's vocabulary) -> Mobivate (status, statusCode).
STATUS = {
    "Queued": ("INTERIM_QUEUED", 8),
    "Dispatched": ("ACCEPTED", 2),
    "Delivered": ("DELIVERED", 1),
    "Failed": ("UNDELIVERABLE", 5),
    "Rejected": ("REJECTED", 7),
    "Expired": ("EXPIRED", 3),
    "Cancelled": ("DELETED", 4),
}


def error(status: int, text: str, name: str | None = None) -> dict[str, Any]:
    names = {
        400: "ValidationError",
        401: "AuthenticationError",
        402: "InsufficientCreditError",
        403: "AuthenticationError",
        429: "RateLimitError",
        500: "InternalServerError",
    }
    return {
        "success": False,
        "error": {"name": name or names.get(status, "Error"), "statusCode": status, "object": text},
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


class MobivateWire:
    """State and handlers for one sandbox server."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.optouts: set[str] = set()
        self.inbound: list[dict[str, Any]] = []

    # ---- helpers -----------------------------------------------------------------------
    def _auth(self, request: web.Request) -> web.Response | None:
        if self.server.config.bearer_ok(request.headers.get("Authorization", "")):
            return None
        return web.json_response(error(403, "", "AuthenticationError"), status=403)

    async def _body(self, request: web.Request) -> tuple[dict[str, Any] | None, web.StreamResponse | None]:
        if (bad := self._auth(request)) is not None:
            return None, bad
        if (fault := await self.server.faults(request, error)) is not None:
            return None, fault
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError):
            return None, web.json_response(error(400, "Body is not JSON"), status=400)
        if not isinstance(data, dict):
            return None, web.json_response(error(400, "Body must be an object"), status=400)
        return data, None

    @staticmethod
    def _check(recipient: Any, originator: Any, text: Any) -> str | None:
        if not isinstance(text, str) or not text:
            return "Missing Text object"
        if not isinstance(originator, str) or not (_ALNUM.match(originator) or _DIGITS.match(originator)):
            return "Missing Originator object" if not originator else "Invalid Originator object"
        if not isinstance(recipient, str) or not recipient.isdigit() or not 7 <= len(recipient) <= 15:
            return "Invalid Recipient object (international digits, no +)"
        return None

    def _record(
        self, recipient: str, originator: str, text: str, ref: Any, data: dict[str, Any], batch_id: str | None = None
    ) -> SentRecord:
        rec = SentRecord(
            str(uuid.uuid4()),
            recipient,
            originator,
            text,
            None if ref is None else str(ref),
            data.get("scheduleDateTime"),
            batch_id,
            wire="mobivate",
            extra={"callback": data.get("callbackURL") or "", "dr_id": uuid.uuid4().hex, "created": _now()},
        )
        self.server.record(rec)
        self.server._spawn(self.server._lifecycle(rec, self._receipt, self._replier(rec)))
        return rec

    # ---- routes ------------------------------------------------------------------------
    async def send_single(self, request: web.Request) -> web.StreamResponse:
        data, bad = await self._body(request)
        if bad is not None or data is None:
            return bad or web.json_response(error(400, "bad request"), status=400)
        problem = self._check(data.get("recipient"), data.get("originator"), data.get("text"))
        if problem:
            return web.json_response(error(400, problem), status=400)
        if data["recipient"] in self.optouts and data.get("excludeOptouts", True) is not False:
            return web.json_response(error(403, "Recipient has opted out", "OptOutError"), status=403)
        rec = self._record(data["recipient"], data["originator"], data["text"], data.get("reference"), data)
        record = {
            "id": rec.id,
            "type": "SingleSMS",
            "scheduled": data.get("scheduleDateTime") or _now(),
            "recipientCount": 1,
        }
        return web.json_response({"success": True, "record": record})

    async def send_batch(self, request: web.Request) -> web.StreamResponse:
        data, bad = await self._body(request)
        if bad is not None or data is None:
            return bad or web.json_response(error(400, "bad request"), status=400)
        recipients = data.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            return web.json_response(error(400, "Missing Recipients object"), status=400)
        if len(recipients) > 1000:
            return web.json_response(error(400, "At most 1000 recipients per batch"), status=400)
        batch_id = uuid.uuid4().hex
        exclude = data.get("excludeOptOuts", data.get("excludeOptouts", True)) is not False
        accepted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(recipients):
            item = item if isinstance(item, dict) else {}
            originator = item.get("originator") or data.get("originator")
            text = item.get("text") or data.get("text")
            problem = self._check(item.get("recipient"), originator, text)
            if problem:
                errors.append({"index": index, "error": problem})
                continue
            if exclude and item["recipient"] in self.optouts:
                errors.append({"index": index, "error": "Recipient has opted out"})
                continue
            rec = self._record(item["recipient"], str(originator), str(text), item.get("reference"), data, batch_id)
            accepted.append({"id": rec.id, "recipient": rec.recipient, "reference": rec.client_reference})
        if not accepted:
            return web.json_response(error(400, "No valid recipient"), status=400)
        record = {
            "id": batch_id,
            "type": "BatchSMS",
            "name": data.get("name"),
            "recipientCount": len(accepted),
            "recipients": accepted,
            "rejected": errors,
        }
        return web.json_response({"success": True, "record": record})

    def _log_record(self, rec: SentRecord) -> dict[str, Any]:
        name, code = STATUS.get(rec.status, ("UNKNOWN", 6))
        return {
            "id": rec.id,
            "created": rec.extra.get("created"),
            "modified": _now(),
            "originator": rec.sender,
            "recipient": rec.recipient,
            "body": rec.content,
            "status": name,
            "statusCode": code,
            "direction": "MT",
            "inReplyTo": None,
            "routeId": "mglobal",
            "parts": 1,
            "cost": 0.04,
            "currency": "GBP",
            "senderReference": rec.client_reference,
            "campaignId": rec.batch_id,
        }

    async def get_message(self, request: web.Request) -> web.StreamResponse:
        if self._auth(request) is not None:
            return web.json_response({"code": 401, "message": "Unauthorized"}, status=401)
        mid = request.match_info["id"]
        rec = self.server.by_id.get(mid)
        if rec is None or rec.wire != "mobivate":
            rec = next((r for r in self.server.sent if r.extra.get("dr_id") == mid), None)
        if rec is None:
            mo = next((m for m in self.inbound if m["id"] == mid), None)
            if mo is not None:
                return web.json_response(mo)
            return web.json_response({"code": 404, "message": "Not Found"}, status=404)
        return web.json_response(self._log_record(rec))

    async def search(self, request: web.Request) -> web.StreamResponse:
        if self._auth(request) is not None:
            return web.json_response({"code": 401, "message": "Unauthorized"}, status=401)
        q = request.query
        direction = q.get("direction", "MT").upper()
        try:
            page, size = max(1, int(q.get("page", "1"))), min(1000, max(1, int(q.get("pageSize", "10"))))
        except ValueError:
            return web.json_response({"code": 400, "message": "page and pageSize must be numbers"}, status=400)
        if direction == "MO":
            rows = list(self.inbound)
        else:
            rows = [self._log_record(r) for r in self.server.sent if r.wire == "mobivate"]
        return web.json_response(rows[(page - 1) * size : page * size])

    async def optout(self, request: web.Request) -> web.StreamResponse:
        data, bad = await self._body(request)
        if bad is not None or data is None:
            return bad or web.json_response(error(400, "bad request"), status=400)
        mobile = str(data.get("mobile") or "")
        if not mobile.isdigit():
            return web.json_response(error(400, "Invalid Mobile object"), status=400)
        if request.method == "DELETE":
            self.optouts.discard(mobile)
        else:
            self.optouts.add(mobile)
        return web.json_response(
            {"mobile": mobile, "note": "API", "created": int(datetime.now(UTC).timestamp() * 1000)}
        )

    # ---- callbacks ---------------------------------------------------------------------
    async def _receipt(self, rec: SentRecord, status: str, same_event: bool = False) -> bool:
        name, code = STATUS.get(status, ("UNKNOWN", 6))
        body = {
            "deliveryMessageId": rec.extra["dr_id"],
            "batchId": rec.batch_id or rec.extra["dr_id"],
            "clientReference": rec.client_reference,
            "created": _now(),
            "status": name,
            "statusCode": code,
            "parts": 1,
            "hlr": None,
        }
        if not rec.extra.get("callback"):
            return False  # no Receipt URL: Mobivate would keep it for polling only
        ok = await self.server.post_webhook(body, rec.extra["callback"], {"Content-Type": "application/json"})
        if ok:
            self.server.receipts_posted += 1
        return ok

    def _replier(self, rec: SentRecord) -> Any:
        async def reply(sender: str, to: str, body: str) -> bool:
            return await self.post_inbound(sender.lstrip("+"), to.lstrip("+"), body, rec)

        return reply

    async def post_inbound(self, sender: str, to: str, body: str, rec: SentRecord | None = None) -> bool:
        mo = {
            "id": uuid.uuid4().hex,
            "originator": sender,
            "recipient": to,
            "body": body,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "inReplyTo": rec.extra.get("dr_id") if rec else None,
            "logicalMessageId": rec.batch_id if rec else None,
            "ownerUserId": "sandbox",
            "direction": "MO",
        }
        self.inbound.append(mo)
        if body.strip().upper() in ("STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"):
            self.optouts.add(sender)
        url = (rec.extra.get("callback") if rec else None) or self.server.config.extra_webhooks.get("mobivate")
        if not url:
            return False
        return await self.server.post_webhook(mo, url, {"Content-Type": "application/json"})


def register(server: SandboxServer, app: web.Application) -> None:
    wire = MobivateWire(server)
    server.wires["mobivate"] = wire
    app.router.add_post(PREFIX + "/send/single", wire.send_single)
    app.router.add_post(PREFIX + "/send/batch", wire.send_batch)
    app.router.add_get(PREFIX + "/message", wire.search)
    app.router.add_get(PREFIX + "/message/{id}", wire.get_message)
    app.router.add_post(PREFIX + "/addressbook/optout", wire.optout)
    app.router.add_delete(PREFIX + "/addressbook/optout", wire.optout)
