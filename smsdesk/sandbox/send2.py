"""Sandbox routes in Send-2's wire format, under ``/send2``.

Demo: add a Send-2 account whose base URL is ``<sandbox url>/send2``, a numeric sender (e.g.
``12345``) and the sandbox's API key. Routes: ``POST /v1/message``, ``GET /v1/message/{id}``,
``GET /v1/balance``; ``Authorization: Bearer <key>``. Like Send-2, it posts nothing back:
delivery shows up only by polling ``GET /v1/message/{id}`` (``dlr`` moves from empty to
"Delivered To Network" to "Delivered To Terminal", or a failure wording). Every error is a
406 ``{success:false, message}``, the only error Send-2 documents.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from aiohttp import web

from smsdesk.sandbox.server import SandboxServer, SentRecord

PREFIX = "/send2"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_E164 = re.compile(r"^\+\d{7,15}$")
DLR = {
    "Queued": "",
    "Dispatched": "Delivered To Network",
    "Delivered": "Delivered To Terminal",
    "Failed": "Delivery Impossible",
    "Rejected": "Rejected By Operator",
    "Expired": "Message Expired",
    "Cancelled": "Cancelled",
}


def error(status: int, text: str) -> dict[str, Any]:
    return {"success": False, "message": text}


def _ulid() -> str:
    return "".join(secrets.choice(string.digits + string.ascii_lowercase) for _ in range(26))


class Send2Wire:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.balance = server.config.send2_balance

    def _auth(self, request: web.Request) -> bool:
        return self.server.config.bearer_ok(request.headers.get("Authorization", ""))

    @staticmethod
    def _denied() -> web.Response:
        return web.json_response({"success": False, "message": "Unauthenticated."}, status=401)

    async def send(self, request: web.Request) -> web.StreamResponse:
        if not self._auth(request):
            return self._denied()
        if (fault := await self.server.faults(request, error)) is not None:
            return fault
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response(error(406, "The request body is not JSON."), status=406)
        if not isinstance(data, dict):
            return web.json_response(error(406, "The request body must be an object."), status=406)
        phone, text, sender = data.get("phone"), data.get("text"), data.get("sender")
        if not isinstance(sender, int) or isinstance(sender, bool):
            return web.json_response(error(406, "The sender field must be an integer."), status=406)
        if not isinstance(phone, str) or not (_E164.match(phone) or _HASH.match(phone)):
            return web.json_response(
                error(406, "The phone field must be an international number (+...) or an MPESA hash."), status=406
            )
        if not isinstance(text, str) or not text:
            return web.json_response(error(406, "The text field is required."), status=406)
        units = max(1, -(-len(text) // 160))
        if self.balance < units:
            return web.json_response(error(406, "Insufficient SMS balance."), status=406)
        self.balance -= units
        rec = SentRecord(_ulid(), phone, str(sender), text, None, None, wire="send2", extra={"units": units})
        self.server.record(rec)
        self.server._spawn(self.server._lifecycle(rec, self._no_callback, self._no_reply))
        return web.json_response(
            {"success": True, "message": "Processed", "data": {"id": rec.id, "status": "Sent", "units": units}}
        )

    async def status(self, request: web.Request) -> web.StreamResponse:
        if not self._auth(request):
            return self._denied()
        rec = self.server.by_id.get(request.match_info["id"])
        if rec is None or rec.wire != "send2":
            return web.json_response(error(406, "Message not found."), status=406)
        return web.json_response(
            {
                "success": True,
                "message": "Fetched",
                "data": {"status": "Sent", "dlr": DLR.get(rec.status, rec.status), "units": rec.extra.get("units", 1)},
            }
        )

    async def get_balance(self, request: web.Request) -> web.StreamResponse:
        if not self._auth(request):
            return self._denied()
        return web.json_response({"success": True, "message": "Fetched", "data": {"balance": self.balance}})

    async def _no_callback(self, rec: SentRecord, status: str, same_event: bool = False) -> bool:
        return True  # Send-2 has no delivery webhook: the new status waits for a poll

    async def _no_reply(self, sender: str, to: str, body: str) -> bool:
        return False  # nor an inbound API


def register(server: SandboxServer, app: web.Application) -> None:
    wire = Send2Wire(server)
    server.wires["send2"] = wire
    app.router.add_post(PREFIX + "/v1/message", wire.send)
    app.router.add_get(PREFIX + "/v1/message/{id}", wire.status)
    app.router.add_get(PREFIX + "/v1/balance", wire.get_balance)
