"""Fake provider servers: real aiohttp HTTP on 127.0.0.1:0, one wire format each.

Every request is recorded (method, path, query, headers, JSON body, time of receipt). Answers come from a
script (``push(Reply(...))``, consumed in order) or, when the script is empty, from the
provider's default success answer. A :class:`Reply` may also ``hang`` (never answer, for
read timeouts) or ``drop`` (close the connection after reading the request).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "json"  # json | hang | drop | text


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]  # case-insensitive, as HTTP headers are
    json: Any
    at: float = 0.0  # time.time() when the request arrived


class FakeProvider:
    """``await start()`` -> base URL; ``requests``; ``push(reply, ...)``; ``await stop()``."""

    def __init__(self, wire: str) -> None:
        self.wire = wire
        self.requests: list[Recorded] = []
        self.script: collections.deque[Reply] = collections.deque()
        self._ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def push(self, *replies: Reply) -> None:
        self.script.extend(replies)

    @property
    def sends(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        at = time.time()
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        rec = Recorded(request.method, request.path, dict(request.query), CIMultiDict(request.headers), body, at)
        self.requests.append(rec)
        reply = self.script.popleft() if self.script else self.default(rec)
        if reply.action == "hang":
            await asyncio.sleep(60)
        if reply.action == "drop":
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if reply.action == "text":
            return web.Response(status=reply.status, text=str(reply.body), headers=reply.headers)
        return web.json_response(
            reply.body if reply.body is not None else {}, status=reply.status, headers=reply.headers
        )

    # ---- default answers per wire format -----------------------------------------------
    def default(self, rec: Recorded) -> Reply:
        return getattr(self, f"_ok_{self.wire}")(rec)

    def _ok_puresms(self, rec: Recorded) -> Reply:
        if rec.path == "/sms/send/bulk":
            msgs = rec.json.get("messages", [])
            return Reply(
                body={
                    "batchId": str(next(self._ids)),
                    "messageCount": len(msgs),
                    "messageIds": [str(next(self._ids)) for _ in msgs],
                }
            )
        if rec.method == "DELETE":
            return Reply(body={})
        return Reply(body={"id": str(next(self._ids) * 10**12), "countryCode": "GB"})

    def _ok_mobivate(self, rec: Recorded) -> Reply:
        if rec.path == "/send/batch":
            recips = [
                {"id": uuid.uuid4().hex, "recipient": r["recipient"], "reference": r.get("reference")}
                for r in rec.json["recipients"]
            ]
            return Reply(
                body={"success": True, "record": {"id": uuid.uuid4().hex, "type": "BatchSMS", "recipients": recips}}
            )
        if rec.path == "/message":
            return Reply(body=[])
        if rec.path.startswith("/message/"):
            return Reply(
                body={
                    "id": rec.path.rsplit("/", 1)[1],
                    "status": "DELIVERED",
                    "direction": "MT",
                    "senderReference": "ref-1",
                    "created": "2023-07-28T03:23:22.000+00:00",
                }
            )
        if rec.path == "/addressbook/optout":
            return Reply(body={"mobile": rec.json.get("mobile"), "note": "API", "created": 1700000000000})
        return Reply(
            body={
                "success": True,
                "record": {
                    "id": str(uuid.uuid4()),
                    "type": "SingleSMS",
                    "scheduled": "2025-11-10T21:14:04.981Z",
                    "recipientCount": 1,
                },
            }
        )

    def _ok_send2(self, rec: Recorded) -> Reply:
        if rec.path == "/v1/balance":
            return Reply(body={"success": True, "message": "Fetched", "data": {"balance": 678999}})
        if rec.path.startswith("/v1/message/"):
            return Reply(
                body={
                    "success": True,
                    "message": "Fetched",
                    "data": {"status": "Sent", "dlr": "Delivered To Terminal", "units": 1},
                }
            )
        return Reply(
            body={
                "success": True,
                "message": "Processed",
                "data": {"id": "01ksm2b4y5ttaca57a66f5aw81", "status": "Sent", "units": 1},
            }
        )

    def _ok_channel(self, rec: Recorded) -> Reply:
        if rec.path.endswith("/verify"):
            return Reply(body={"ok": True})
        return Reply(body={"message_id": f"ch-{next(self._ids)}", "status": "accepted"})
