"""Sandbox routes for the Channel API contract (a connector's side), under ``/channel``.

Demo: add a Channel API account with base URL ``<sandbox url>/channel``, ``url`` = ``/send``
(and optionally ``verify_url`` = ``/verify``), the sandbox's API key, and, to see signed
reports, ``jwt_secret`` equal to the sandbox's ``channel_jwt_secret`` (or one registered for the
account's webhook path in ``channel_jwt_secrets``, as the app does). Routes:
``POST /send`` and ``POST /verify``, authenticated by the ``Chan-Api-Key`` header.

As the contract asks of a connector: the recipient must be ``00`` + 7-15 digits; a repeated
``request_id`` gets the same answer without a second message; 200 is success, faults answer
429 (with Retry-After) or 503. Delivery reports are POSTed to the send's ``webhook_url`` as a
one-element JSON array of ``{request_id, custom_data, message_id, status, timestamp, error}``,
with ``Authorization: Bearer <HS256 JWT, iat=now>`` when ``channel_jwt_secret`` is set.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import jwt
from aiohttp import web

from smsdesk.sandbox.server import SandboxServer, SentRecord

PREFIX = "/channel"
_RECIPIENT = re.compile(r"^00\d{7,15}$")
STATUS = {
    "Queued": "enqueued",
    "Dispatched": "sent",
    "Delivered": "delivered",
    "Failed": "failed",
    "Rejected": "rejected",
    "Expired": "expired",
    "Cancelled": "cancelled",
}


def error(status: int, text: str) -> dict[str, Any]:
    return {"error": text, "status": status}


class ChannelWire:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.by_request: dict[str, dict[str, Any]] = {}  # request_id -> the answer given

    def _auth(self, request: web.Request) -> bool:
        return self.server.config.key_ok(request.headers.get("Chan-Api-Key", ""))

    async def verify(self, request: web.Request) -> web.StreamResponse:
        if not self._auth(request):
            return web.json_response(error(401, "Invalid Chan-Api-Key"), status=401)
        return web.json_response({"ok": True})

    async def send(self, request: web.Request) -> web.StreamResponse:
        if not self._auth(request):
            return web.json_response(error(401, "Invalid Chan-Api-Key"), status=401)
        if (fault := await self.server.faults(request, error)) is not None:
            if fault.status == 500:  # the contract retries only codes above 500
                return web.json_response(error(503, "Temporarily unavailable"), status=503)
            return fault
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response(error(400, "Body is not JSON"), status=400)
        if not isinstance(data, dict):
            return web.json_response(error(400, "Body must be an object"), status=400)
        for key in ("sender", "recipient", "message", "request_id", "custom_data", "webhook_url"):
            if not isinstance(data.get(key), str) or (key != "webhook_url" and not data.get(key)):
                return web.json_response(error(400, f"'{key}' is required"), status=400)
        if not _RECIPIENT.match(data["recipient"]):
            return web.json_response(error(400, "'recipient' must match 00\\d{7,15}"), status=400)
        previous = self.by_request.get(data["request_id"])
        if previous is not None:
            return web.json_response(previous)
        rec = SentRecord(
            self.server.next_id(),
            data["recipient"],
            data["sender"],
            data["message"],
            data["custom_data"],
            None,
            wire="channel",
            extra={
                "request_id": data["request_id"],
                "webhook_url": data["webhook_url"],
                "headers": {
                    k.lower(): v
                    for k, v in request.headers.items()
                    if k.lower().startswith("chan-") and k.lower() != "chan-api-key"
                },
                "metadata": data.get("metadata"),
            },
        )
        answer = {"message_id": rec.id, "status": "accepted"}
        self.by_request[data["request_id"]] = answer
        self.server.record(rec)
        self.server._spawn(self.server._lifecycle(rec, self._report, self._no_reply))
        return web.json_response(answer)

    def _headers(self, url: str) -> dict[str, str]:
        hdrs = {"Content-Type": "application/json"}
        secret = self.server.config.channel_secret_for(url)
        if secret:
            hdrs["Authorization"] = "Bearer " + jwt.encode({"iat": int(time.time())}, secret, algorithm="HS256")
        return hdrs

    async def _report(self, rec: SentRecord, status: str, same_event: bool = False) -> bool:
        url = rec.extra.get("webhook_url")
        if not url:
            return False
        state = STATUS.get(status, status.lower())
        event = {
            "request_id": rec.extra.get("request_id"),
            "custom_data": rec.client_reference,
            "message_id": rec.id,
            "status": state,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "error": None if state in ("sent", "delivered", "enqueued") else f"sandbox: {state}",
        }
        ok = await self.server.post_webhook([event], url, self._headers(url))
        if ok:
            self.server.receipts_posted += 1
        return ok

    async def _no_reply(self, sender: str, to: str, body: str) -> bool:
        return False  # the send contract defines no replies to the sender


def register(server: SandboxServer, app: web.Application) -> None:
    wire = ChannelWire(server)
    server.wires["channel"] = wire
    app.router.add_post(PREFIX + "/send", wire.send)
    app.router.add_post(PREFIX + "/verify", wire.verify)
