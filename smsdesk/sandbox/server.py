"""Sandbox server: message lifecycle, PureSMS-format signed receipts, replies, faults.

Every wire format registers its routes through :data:`EXTRA_ROUTES` (PureSMS's at the root,
:mod:`.puresms`; the others under a path prefix). After accepting a message it POSTs receipts
to ``webhook_url`` signed as PureSMS signs them (``X-Webhook-Signature`` = base64
HMAC-SHA256 of ``"{timestamp}.{raw body}"``), moving Queued -> Dispatched -> a final status,
and may answer with an inbound reply (some of them STOP).

Control routes for demos and tests live under ``/_sandbox/``: ``GET messages`` (every
accepted send, for counting), ``POST inbound`` (make a phone reply), ``GET/POST config``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import os
import random
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from smsdesk.sandbox.config import NOT_KNOBS, SECRET_KNOBS, SandboxConfig

log = logging.getLogger("smsdesk.sandbox")

REPLIES = (
    "Thanks, see you then!",
    "Can we make it half an hour later?",
    "Yes please",
    "Who is this?",
    "Great, thank you 👍",
)


@dataclass
class SentRecord:
    id: str
    recipient: str
    sender: str
    content: str
    client_reference: str | None
    send_at: str | None
    batch_id: str | None = None
    status: str = "Queued"
    accepted_at: float = field(default_factory=time.time)
    wire: str = "puresms"  # which wire format accepted it
    extra: dict[str, Any] = field(default_factory=dict)  # per-format fields (callback URL, ...)


class SandboxServer:
    """The server. ``await start()``, then ``url``; ``await stop()``."""

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SandboxConfig()
        self.host = host
        self.port = port
        self.sent: list[SentRecord] = []
        self.by_id: dict[str, SentRecord] = {}
        # Message id -> the account key it was sent with (its own webhook): kept here, not in
        # the record, which /_sandbox/messages shows to anyone.
        self._sent_with: dict[str, str] = {}
        # Single sends being answered right now, and the most at once (a client's concurrency).
        self.in_flight = 0
        self.peak_in_flight = 0
        self.receipts_posted = 0
        self.webhook_failures = 0
        self._ids = itertools.count(int(time.time() * 1000) % 10_000_000 * 1000 + 1)
        self._rng = random.Random(self.config.seed)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._lock = threading.Lock()
        self.wires: dict[str, Any] = {}  # other wire formats' state, by name
        self.app = self._build_app()

    # ---- lifecycle ---------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_get("/_sandbox/messages", self.h_list)
        app.router.add_post("/_sandbox/inbound", self.h_inbound)
        app.router.add_get("/_sandbox/config", self.h_get_config)
        app.router.add_post("/_sandbox/config", self.h_set_config)
        app.router.add_get("/health", self.h_health)
        for register in EXTRA_ROUTES:
            register(self, app)
        return app

    async def start(self) -> str:
        self._stopping = False
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
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
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        # A request still being answered (a test's latency) spawns no lifecycle after this.
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def idle(self) -> bool:
        """No message's receipts or replies are still to be posted (tests wait for this)."""
        return not self._tasks

    def _spawn(self, coro: Any) -> None:
        if self._stopping:
            coro.close()
            return
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- helpers -----------------------------------------------------------------------
    def next_id(self) -> str:
        return str(next(self._ids))

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    async def faults(self, request: web.Request, error: Any = None) -> web.StreamResponse | None:
        """Apply latency and injected faults; a response means "answer this instead".

        ``error(status, text)`` builds the error body in the caller's wire format.
        """
        c = self.config
        shape = error or (lambda status, text: {"message": text})
        if c.latency:
            await asyncio.sleep(c.latency)
        if self.roll(c.rate_429):
            return web.json_response(
                shape(429, "Too many requests"), status=429, headers={"Retry-After": str(c.retry_after)}
            )
        if self.roll(c.rate_500):
            return web.json_response(shape(500, "Internal server error"), status=500)
        if self.roll(c.rate_400):
            return web.json_response(shape(400, REFUSAL), status=400)
        if self.roll(c.rate_timeout):
            await asyncio.sleep(c.timeout_hang)
        if self.roll(c.rate_drop):
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        return None

    def auth_ok(self, request: web.Request) -> bool:
        return self.config.key_ok(request.headers.get("X-Api-Key", ""))

    def _workspace(self, request: web.Request) -> str | None:
        """The registered account key a PureSMS-format request used (its own receipt webhook)."""
        key = request.headers.get("X-Api-Key", "")
        return key if key != self.config.api_key and self.config.workspaces.get(key, ("", ""))[0] else None

    def _start(self, rec: SentRecord, workspace: str | None) -> None:
        if workspace is None:
            self._spawn(self._lifecycle(rec))
            return
        self._sent_with[rec.id] = workspace
        self._spawn(
            self._lifecycle(rec, post_inbound=lambda sender, to, body: self._post_inbound(sender, to, body, workspace))
        )

    @staticmethod
    def unauthorized() -> web.Response:
        return web.json_response({"message": "Invalid API key"}, status=401)

    def record(self, rec: SentRecord) -> None:
        with self._lock:
            self.sent.append(rec)
            self.by_id[rec.id] = rec

    # ---- control routes ----------------------------------------------------------------
    async def h_list(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([asdict(r) for r in self.sent])

    async def h_inbound(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        sender = str(data.get("from") or data.get("sender") or "")
        body = str(data.get("body") or data.get("text") or "")
        if not sender or not body:
            return web.json_response({"message": "'from' and 'body' are required"}, status=400)
        to = str(data.get("to") or self.config.inbound_number)
        ok = await self._post_inbound(sender, to, body)
        return web.json_response({"delivered": ok})

    async def h_get_config(self, request: web.Request) -> web.StreamResponse:
        # Field by field, never the secrets: asdict() would also walk the key and JWT dicts,
        # which the app thread may be changing right now.
        # Nor the clock: a function, not a setting (JSON cannot carry it).
        cfg = {
            f.name: getattr(self.config, f.name)
            for f in fields(self.config)
            if f.name not in SECRET_KNOBS and f.name != "clock"
        }
        cfg["extra_webhooks"] = dict(cfg.get("extra_webhooks") or {})
        return web.json_response(cfg)

    async def h_set_config(self, request: web.Request) -> web.StreamResponse:
        """Fault and timing knobs only: this route has no key, so it must not reach keys,
        secrets or where receipts go (an unauthenticated POST could redirect or forge them)."""
        try:
            data = await request.json()
        except ValueError:
            return web.json_response({"error": "send a JSON object of knobs"}, status=400)
        if not isinstance(data, dict):
            return web.json_response({"error": "send a JSON object of knobs"}, status=400)
        refused = sorted(set(data) & NOT_KNOBS)
        if refused:
            return web.json_response({"error": f"not settable here: {', '.join(refused)}"}, status=403)
        self.config.update(data)
        if "seed" in data:
            self._rng = random.Random(self.config.seed)
        return await self.h_get_config(request)

    async def h_health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True, "sent": len(self.sent)})

    # ---- receipts and replies ----------------------------------------------------------
    def _final_status(self) -> str:
        c = self.config
        r = self._rng.random()
        if r < c.rate_failed:
            return "Failed"
        if r < c.rate_failed + c.rate_rejected:
            return "Rejected"
        if r < c.rate_failed + c.rate_rejected + c.rate_expired:
            return "Expired"
        return "Delivered"

    async def _lifecycle(self, rec: SentRecord, post_receipt: Any = None, post_inbound: Any = None) -> None:
        """Queued -> Dispatched -> final, posting each step; other wire formats pass their posters."""
        post_receipt = post_receipt or self._post_receipt
        post_inbound = post_inbound or self._post_inbound
        c = self.config
        if rec.send_at:
            due = _parse_when(rec.send_at)
            while due and c.clock() < due and rec.status == "Queued":  # noqa: ASYNC110 - a DELETE may cancel it meanwhile
                await asyncio.sleep(min(1.0, due - c.clock()))
            if rec.status != "Queued":
                return
        if not c.send_receipts:
            return
        steps = [("Dispatched", c.dispatch_delay), (self._final_status(), c.final_delay)]
        if self.roll(c.rate_out_of_order):
            steps = [steps[1], steps[0]]
        for status, delay in steps:
            await asyncio.sleep(delay)
            rec.status = status
            await post_receipt(rec, status)
            if self.roll(c.rate_duplicate):
                await post_receipt(rec, status, same_event=True)
        if rec.status == "Delivered" and self.roll(c.rate_reply):
            await asyncio.sleep(c.reply_delay)
            body = "STOP" if self.roll(c.rate_stop) else self._rng.choice(REPLIES)
            await post_inbound(rec.recipient, rec.sender if rec.sender.startswith("+") else c.inbound_number, body)

    def _event_id(self, rec: SentRecord, status: str) -> str:
        return f"evt_{rec.id}_{status.lower()}"

    async def _post_receipt(self, rec: SentRecord, status: str, same_event: bool = False) -> bool:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        envelope = {
            "id": self._event_id(rec, status),
            "timestamp": now,
            "workspaceId": "sandbox",
            "eventType": 1,
            "data": {
                "messageId": rec.id,
                "clientReference": rec.client_reference,
                "deliveryStatus": status,
                "errorCode": ERROR_CODES.get(status),
                "processedAt": now,
                "deliveredAt": now if status == "Delivered" else None,
            },
        }
        ok = await self.post_webhook(envelope, workspace=self._sent_with.get(rec.id))
        if ok:
            self.receipts_posted += 1
        return ok

    async def _post_inbound(self, sender: str, to: str, body: str, workspace: str | None = None) -> bool:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        mid = self.next_id()
        envelope = {
            "id": f"evt_in_{mid}",
            "timestamp": now,
            "workspaceId": "sandbox",
            "eventType": 2,
            "data": {"messageId": mid, "inboundNumber": to, "sender": sender, "body": body, "receivedAt": now},
        }
        return await self.post_webhook(envelope, workspace=workspace)

    def signed_headers(self, raw: bytes, secret: str | None = None) -> dict[str, str]:
        ts = str(int(time.time()))
        key = (secret if secret is not None else self.config.webhook_secret).encode()
        mac = hmac.new(key, ts.encode() + b"." + raw, hashlib.sha256)
        return {
            "Content-Type": "application/json",
            "X-Webhook-Timestamp": ts,
            "X-Webhook-Signature": base64.b64encode(mac.digest()).decode(),
        }

    async def post_webhook(
        self,
        envelope: Any,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        workspace: str | None = None,
    ) -> bool:
        """POST an event as PureSMS does, retrying a few times on failure (shortened schedule).

        ``workspace``: a registered account key whose own webhook and secret take the event.
        """
        secret = None
        # .get(): the app thread may forget a key meanwhile (an account removed)
        registered = self.config.workspaces.get(workspace) if workspace else None
        if registered is not None:
            url, secret = registered
        target = url or self.config.webhook_url
        if not target or self._session is None:
            return False
        raw = json.dumps(envelope, separators=(",", ":")).encode()
        for delay in (0, 0.5, 2, 5):
            if delay:
                await asyncio.sleep(delay)
            hdrs = headers or self.signed_headers(raw, secret)
            try:
                async with self._session.post(target, data=raw, headers=hdrs) as resp:
                    if 200 <= resp.status < 300:
                        return True
                    if resp.status in (400, 401, 403, 404, 413, 415):
                        log.warning("sandbox webhook refused with %s", resp.status)
                        self.webhook_failures += 1
                        return False
            except (TimeoutError, aiohttp.ClientError, OSError):
                pass
            self.webhook_failures += 1
        return False


# Simulated operator error codes, readable in the app's "Error code ..." detail.
ERROR_CODES = {
    "Failed": "SANDBOX-UNREACHABLE (simulated: handset off or out of coverage)",
    "Rejected": "SANDBOX-BARRED (simulated: operator rejected the message)",
    "Expired": "SANDBOX-EXPIRED (simulated: not delivered within the validity period)",
}

# What a send refused by the rate_400 knob is told (the provider's own words, as the app shows them).
REFUSAL = "SANDBOX-REFUSED: the destination network does not accept this sender ID (simulated)"

# Other wire formats register their routes here (see the provider modules beside this one).
EXTRA_ROUTES: list[Any] = []


def _parse_when(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class SandboxThread:
    """Runs a :class:`SandboxServer` on its own event loop in a daemon thread.

    The GUI keeps the sandbox off its own loop so a busy window never slows the "provider".
    """

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = SandboxServer(config, host, port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smsdesk-sandbox", daemon=True)

    def start(self) -> str:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(15)

    def call(self, coro: Any, timeout: float = 15) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(10)
        except Exception:  # noqa: BLE001 - best effort at shutdown
            log.debug("sandbox stop failed", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
