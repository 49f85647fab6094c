"""Webhook ingest: signed receipts accepted and persisted per second, against a bare server.

    python bench/run.py webhook_ingest [--count N] [--concurrency C] [--rounds R]

smsdesk side: a real :class:`Runtime` (receiver thread, app loop processing the stored
events, dispatcher, polling) with a PureSMS account; every request is HMAC-verified, its
raw body stored under its dedupe key and COMMITTED (``synchronous=FULL``) before the 200,
then processed on the app loop (each receipt matches one of N messages already marked sent).

Baseline: a bare aiohttp server on the same stack (its own thread and loop in this process,
like the receiver) that reads the body and answers the same JSON with no work.

Both are driven by the same load generator (``bench/_webhook_loadgen.py``, an aiohttp client
with ``C`` in flight, in its own process), alternating bare / smsdesk for ``R`` rounds; the
best round of each is reported. ``ratio`` = receipts_per_s / bare_per_s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web

HERE = Path(__file__).resolve().parent
SECRET = "bench-webhook-secret-0123456789"


class BareServer:
    """The baseline: same framework, own thread and loop, no work."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _start(self) -> str:
        async def hook(request: web.Request) -> web.StreamResponse:
            await request.read()
            return web.json_response({"ok": True, "outcome": "accepted"})

        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/hooks/{route}", hook)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    def start(self) -> str:
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self.url

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class LoadGen:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_webhook_loadgen.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def run(self, url: str, n: int, concurrency: int, prefix: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        job = {"url": url, "n": n, "concurrency": concurrency, "secret": SECRET, "prefix": prefix}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)


async def _blocking(fn: Any, *args: Any) -> Any:
    """Run the load generator without blocking the app loop (it must keep processing)."""
    return await asyncio.to_thread(fn, *args)


async def _drain(rt: Any, limit_s: float = 60) -> None:
    """Wait until the app loop processed every stored event."""
    deadline = time.monotonic() + limit_s
    while rt.store.db.query_one("SELECT count(*) FROM webhook_events WHERE state = 'pending'")[0]:
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.02)


async def measure(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    from smsdesk.domain.status import Status
    from smsdesk.runtime import Runtime
    from smsdesk.storage import messages as msg_store

    rt = Runtime.open(str(home), session_secrets=True)
    await rt.start(sandbox=False)
    account = await rt.accounts.add(
        "Bench",
        "puresms",
        {"api_key": "k", "webhook_secret": SECRET, "sender": "Bench", "base_url": "http://127.0.0.1:9"},
    )
    rt.dispatcher.stop()  # the messages below are "already sent"; nothing to dispatch
    total = args.count * args.rounds + 400

    def seed(conn: Any) -> None:
        items = [msg_store.NewOutgoing(account.id, f"+4479111{i:05d}", "", "Hi", 1, "GSM-7") for i in range(total)]
        for i, mid in enumerate(msg_store.insert_outgoing(conn, items)):
            msg_store.apply_status(conn, mid, Status.SENT, "Accepted", None, f"pm-{i}")

    await rt.store.db.write(seed)
    hook_url = f"{rt.receiver.url}/hooks/{account.id}"  # type: ignore[union-attr]
    bare = BareServer()
    bare_url = f"{bare.start()}/hooks/{account.id}"
    gen = LoadGen()
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "smsdesk": []}
    try:
        await _blocking(gen.run, bare_url, 200, args.concurrency, "warm-bare")
        await _blocking(gen.run, hook_url, 200, args.concurrency, "warm")
        for r in range(args.rounds):
            cpu = time.process_time()
            res = await _blocking(gen.run, bare_url, args.count, args.concurrency, f"b{r}")
            res["cpu"] = time.process_time() - cpu
            results["bare"].append(res)
            before = rt.store.db.query_one("SELECT count(*) FROM webhook_events")[0]
            cpu = time.process_time()
            res = await _blocking(gen.run, hook_url, args.count, args.concurrency, f"r{r}")
            await _drain(rt)  # the processing a receipt causes is part of its cost
            res["cpu"] = time.process_time() - cpu
            res["persisted"] = rt.store.db.query_one("SELECT count(*) FROM webhook_events")[0] - before
            results["smsdesk"].append(res)
        delivered = rt.store.db.query_one("SELECT count(*) FROM messages WHERE status = 'delivered'")[0]
        pending = rt.store.db.query_one("SELECT count(*) FROM webhook_events WHERE state = 'pending'")[0]
    finally:
        gen.close()
        bare.stop()
        await rt.stop()
        rt.close()

    def rate(res: dict[str, Any]) -> float:
        return res["statuses"].get("200", 0) / res["elapsed"]

    best_bare = max(results["bare"], key=rate)
    best = max(results["smsdesk"], key=rate)
    ok = all(r["persisted"] == r["statuses"].get("200", 0) == args.count for r in results["smsdesk"])
    return {
        "benchmark": "webhook_ingest",
        "receipts_per_s": round(rate(best), 1),
        "bare_per_s": round(rate(best_bare), 1),
        "ratio": round(rate(best) / rate(best_bare), 3),
        "rounds_receipts_per_s": [round(rate(r), 1) for r in results["smsdesk"]],
        "rounds_bare_per_s": [round(rate(r), 1) for r in results["bare"]],
        # CPU seconds this process spent per request (server side, incl. processing): steadier
        # than wall-clock rates on a machine shared with other work.
        "cpu_us_per_receipt": round(min(r["cpu"] for r in results["smsdesk"]) / args.count * 1e6, 1),
        "cpu_us_per_bare": round(min(r["cpu"] for r in results["bare"]) / args.count * 1e6, 1),
        # What one fully available core would sustain at that CPU cost (GIL-bound process).
        "cpu_bound_receipts_per_s": round(args.count / min(r["cpu"] for r in results["smsdesk"]), 1),
        "count": args.count,
        "concurrency": args.concurrency,
        "all_accepted_and_persisted": ok,
        "processed_delivered": delivered,
        "left_pending": pending,
        "target_receipts_per_s": 2000,
        "cpus": os.cpu_count(),
    }


def main(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="webhook_ingest")
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    home = Path(tempfile.mkdtemp(prefix="smsdesk-bench-"))
    try:
        return asyncio.run(measure(args, home))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
