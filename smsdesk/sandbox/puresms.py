"""Sandbox routes in PureSMS's (Divergent Connect) wire format, at the sandbox's root.

Routes: ``POST /sms/send``, ``POST /sms/send/bulk``, ``DELETE /sms/send/{id}``,
``DELETE /sms/send/bulk/{id}``, authenticated by ``X-Api-Key``. The built-in Sandbox provider
speaks this format; a PureSMS account pointed at ``<sandbox url>`` with a key the sandbox issued
gets its receipts and replies at its own webhook, signed with its own secret (the server's
lifecycle posts them).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from smsdesk.sandbox.server import SandboxServer, SentRecord


def _country(e164: str) -> str:
    return {"44": "GB", "1": "US", "49": "DE", "254": "KE", "45": "DK", "33": "FR"}.get(
        next((p for p in ("254", "44", "49", "45", "33", "1") if e164[1:].startswith(p)), ""), "ZZ"
    )


class PureSmsWire:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    def _validate(self, item: Any) -> str | None:
        if not isinstance(item, dict):
            return "message must be an object"
        for key in ("sender", "recipient", "content"):
            if not isinstance(item.get(key), str) or not item.get(key):
                return f"'{key}' is required"
        recipient = item["recipient"]
        if not (recipient.startswith("+") and recipient[1:].isdigit() and 8 <= len(recipient) <= 16):
            return "'recipient' must be E.164 (+ and digits)"
        return None

    async def h_send(self, request: web.Request) -> web.StreamResponse:
        if not self.server.auth_ok(request):
            return self.server.unauthorized()
        self.server.in_flight += 1
        self.server.peak_in_flight = max(self.server.peak_in_flight, self.server.in_flight)
        try:
            return await self._send_one(request)
        finally:
            self.server.in_flight -= 1

    async def _send_one(self, request: web.Request) -> web.StreamResponse:
        fault = await self.server.faults(request)
        if fault is not None:
            return fault
        try:
            item = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"message": "Body is not JSON"}, status=400)
        problem = self._validate(item)
        if problem:
            return web.json_response(
                {"message": "One or more errors occurred!", "errors": {"request": [problem]}}, status=400
            )
        rec = SentRecord(
            self.server.next_id(),
            item["recipient"],
            item["sender"],
            item["content"],
            item.get("clientReference"),
            item.get("sendAtUtc"),
        )
        self.server.record(rec)
        self.server._start(rec, self.server._workspace(request))
        return web.json_response({"id": rec.id, "countryCode": _country(rec.recipient)})

    async def h_send_bulk(self, request: web.Request) -> web.StreamResponse:
        if not self.server.auth_ok(request):
            return self.server.unauthorized()
        fault = await self.server.faults(request)
        if fault is not None:
            return fault
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"message": "Body is not JSON"}, status=400)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return web.json_response({"message": "'messages' must be a non-empty array"}, status=400)
        batch_id = self.server.next_id()
        workspace = self.server._workspace(request)
        errors: list[dict[str, Any]] = []
        ids: list[str | None] = []
        for index, item in enumerate(messages):
            problem = self._validate(item)
            if problem:
                errors.append({"index": index, "error": problem})
                ids.append(None)
                continue
            rec = SentRecord(
                self.server.next_id(),
                item["recipient"],
                item["sender"],
                item["content"],
                item.get("clientReference"),
                body.get("sendAtUtc"),
                batch_id,
            )
            self.server.record(rec)
            ids.append(rec.id)
            self.server._start(rec, workspace)
        accepted = len(messages) - len(errors)
        if accepted == 0:
            return web.json_response({"message": "No message was accepted", "errors": errors}, status=400)
        payload = {"batchId": batch_id, "messageCount": accepted, "messageIds": ids}
        if errors:
            payload["errors"] = errors
            return web.json_response(payload, status=207)
        return web.json_response(payload)

    async def h_cancel(self, request: web.Request) -> web.StreamResponse:
        if not self.server.auth_ok(request):
            return self.server.unauthorized()
        rec = self.server.by_id.get(request.match_info["id"])
        if rec is None or not rec.send_at or rec.status != "Queued":
            return web.json_response({"message": "Message not found or can no longer be cancelled"}, status=400)
        rec.status = "Cancelled"
        self.server._spawn(self.server._post_receipt(rec, "Cancelled"))
        return web.json_response({})

    async def h_cancel_bulk(self, request: web.Request) -> web.StreamResponse:
        if not self.server.auth_ok(request):
            return self.server.unauthorized()
        batch = request.match_info["id"]
        count = 0
        for rec in list(self.server.sent):
            if rec.batch_id == batch and rec.send_at and rec.status == "Queued":
                rec.status = "Cancelled"
                count += 1
        return web.json_response({"cancelledCount": count})


def register(server: SandboxServer, app: web.Application) -> None:
    wire = PureSmsWire(server)
    server.wires["puresms"] = wire
    app.router.add_post("/sms/send", wire.h_send)
    app.router.add_post("/sms/send/bulk", wire.h_send_bulk)
    app.router.add_delete("/sms/send/bulk/{id}", wire.h_cancel_bulk)
    app.router.add_delete("/sms/send/{id}", wire.h_cancel)
