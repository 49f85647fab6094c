"""aiohttp receiver on its own thread and event loop.

Why its own loop: a provider must get its 2xx within seconds (PureSMS: 45 s) even while the
GUI thread is busy laying out ten thousand rows. The handler persists with the database's
writer thread, which is also off the GUI thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from smsdesk.domain.webhook_request import WebhookRejected, WebhookRequest
from smsdesk.receiver.types import Verdict, WebhookHandler, is_loopback

__all__ = [
    "BODY_TIMEOUT_S",
    "HEADER_TIMEOUT_S",
    "MAX_BODY",
    "Receiver",
    "ReceiverThread",
    "Verdict",
    "WebhookHandler",
    "is_loopback",
]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 1 MiB
# The common answers, serialised once (this is the hot path of a receipt burst).
_ANSWERS = {o: json.dumps({"ok": True, "outcome": o}).encode() for o in ("accepted", "duplicate")}
BODY_TIMEOUT_S = 10.0
HEADER_TIMEOUT_S = 10.0


class _ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]  # generic only in typeshed, not at run time
    """aiohttp's connection log: a request it cannot parse (bytes that are not HTTP, a header
    too long, too many headers) is one line at INFO at most, not an ERROR with a traceback."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            first = (exc.message or "").strip().splitlines()[:1]
            self.logger.log(
                min(level, logging.INFO),
                "webhook receiver refused a malformed request (%s %s)",
                exc.code,
                ascii(first[0][:120]) if first else "unreadable",
            )
            return
        self.logger.log(level, msg, *args, **kwargs)


class Receiver:
    """The HTTP server. Routes: ``POST /hooks/{route}``; ``GET /health``."""

    def __init__(
        self,
        handler: WebhookHandler,
        host: str = "127.0.0.1",
        port: int = 0,
        header_timeout: float = HEADER_TIMEOUT_S,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.body_timeout = BODY_TIMEOUT_S  # a body that trickles in longer than this gets 408
        # A connection whose request line and headers are not all in by then is closed. aiohttp
        # has no header timeout of its own, but its keep-alive timer runs from the moment the
        # connection opens (and from each answer) and closes the connection when no complete
        # request has arrived by then: with this value, that is the header timeout (and an
        # idle provider connection is closed after as long; the provider reconnects).
        self.header_timeout = header_timeout
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_post("/hooks/{route}", self.h_hook)
        self.app.router.add_get("/health", self.h_health)

    async def start(self) -> str:
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            keepalive_timeout=self.header_timeout,
            logger=_ServerLog(logging.getLogger(f"{__name__}.http"), {}),
        )
        await self._runner.setup()
        site = web.TCPSite(
            # SO_REUSEADDR lets a restart rebind a port in TIME_WAIT; on Windows it would also
            # let a second process listen on a port that is in use, so not there.
            self._runner,
            self.host,
            self.port,
            reuse_address=os.name != "nt",
        )
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        return self.url

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def h_health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    async def _reject(self, route: str, path: str, status: int, reason: str) -> web.Response:
        try:
            await self.handler.rejected(route, path, status, reason)
        except Exception:  # noqa: BLE001 - logging a rejection must not break the answer
            log.exception("could not log a rejected webhook")
        return web.json_response({"ok": False, "error": reason}, status=status)

    async def h_hook(self, request: web.Request) -> web.StreamResponse:
        route = request.match_info["route"]
        if request.content_length is not None and request.content_length > MAX_BODY:
            return await self._reject(route, request.path, 413, "body larger than 1 MiB")
        # A plain split: aiohttp's content_type goes through the email header parser, a
        # measurable share of a receipt's cost; parameters (charset) do not matter here.
        ctype = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            return await self._reject(route, request.path, 415, f"content type {ctype[:60] or 'missing'} is not JSON")
        try:
            if request.content.is_eof():
                body = await request.read()  # already all here (the usual small receipt): no timer
            else:
                body = await asyncio.wait_for(request.read(), self.body_timeout)
        except TimeoutError:
            return await self._reject(route, request.path, 408, "body not received in time")
        except web.HTTPRequestEntityTooLarge:
            return await self._reject(route, request.path, 413, "body larger than 1 MiB")
        req = WebhookRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            query=dict(request.query),
            public_url=f"{request.scheme}://{request.host}{request.path_qs}",  # cheaper than yarl
        )
        try:
            verdict = await self.handler.handle(route, req)
        except WebhookRejected as rej:
            return await self._reject(route, request.path, rej.status, rej.reason)
        except Exception:  # noqa: BLE001 - the provider will retry; never a 2xx without a stored row
            log.exception("webhook handler failed")
            return web.json_response({"ok": False, "error": "internal error"}, status=500)
        return web.Response(
            body=_ANSWERS.get(verdict.outcome) or json.dumps({"ok": verdict.status < 300, "outcome": verdict.outcome}),
            status=verdict.status,
            content_type="application/json",
        )


class ReceiverThread:
    """Runs a :class:`Receiver` on a dedicated event loop in a daemon thread."""

    def __init__(self, handler: WebhookHandler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.receiver = Receiver(handler, host, port)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="smsdesk-receiver", daemon=True)

    def start(self) -> str:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.receiver.start(), self.loop).result(15)

    @property
    def url(self) -> str:
        return self.receiver.url

    def run(self, coro: Any, timeout: float = 15) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _shutdown(self) -> None:
        await self.receiver.stop()
        # Keep-alive connections leave handler tasks behind; end them before the loop closes.
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self.run(self._shutdown(), 10)
        except Exception:  # noqa: BLE001 - best effort at shutdown
            log.debug("receiver stop failed", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()
