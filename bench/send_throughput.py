"""Send throughput: smsdesk's real send path against a bare aiohttp client, same server, same run.

    python bench/run.py send_throughput [--provider ID] [--count N] [--concurrency C]
                                        [--transport aiohttp|httpx|both] [--bulk] [--server process|thread]

The server is the sandbox (it speaks every provider's wire format: PureSMS at the root,
``/mobivate``, ``/send2``, ``/channel``) with receipts off, in its own process by default so
it shares neither the event loop nor the GIL with the client being measured.

Single mode: N recipients go through ``SendService.queue`` (what Compose's Send calls:
validation, opt-out check, one outbox transaction) and the :class:`Dispatcher` (claim, adapter
call, result write: every database write), timed from the send call until every row is
recorded. The baseline is a bare ``aiohttp.ClientSession`` posting the same wire-format bodies
with the same number in flight, measured before and after (the mean is used), on a server
warmed by 1,000 requests first (a cold server made the first baseline 10-60% slower, which
flattered the ratio). ``ratio`` = smsdesk msgs/s / baseline msgs/s. ``queue_cpu_us`` and
``dispatch_cpu_us``: the process's CPU per message in each phase (all threads).

Bulk mode (bulk-capable providers): N rows are queued with one ``run_id`` so the dispatcher
batches them (``max_batch`` per call); reports the seconds for all N including every write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

API_KEY = "bench-key"
PREFIX = {"sandbox": "", "puresms": "", "mobivate": "/mobivate", "send2": "/send2", "channel": "/channel"}
BULK = {"sandbox", "puresms", "mobivate"}


def numbers(count: int, provider: str) -> list[str]:
    if provider == "send2":
        return [f"+2547{i // 10_000_000 % 10}{i % 10_000_000:07d}"[:13] for i in range(count)]
    return [f"+4479{i // 1_000_000 % 10 + 11}{i % 1_000_000:06d}"[:13] for i in range(count)]


# ---- the server ---------------------------------------------------------------------------
def serve(port: int) -> None:
    """Child process: run the sandbox with receipts off and print its URL."""
    from smsdesk.sandbox import SandboxConfig, SandboxServer

    async def run() -> None:
        server = SandboxServer(SandboxConfig(api_key=API_KEY, send_receipts=False, send2_balance=10**12), port=port)
        print(await server.start(), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes us
        await server.stop()

    asyncio.run(run())


class Server:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.proc: subprocess.Popen[str] | None = None
        self.thread: Any = None
        self.url = ""

    def __enter__(self) -> Server:
        if self.kind == "thread":
            from smsdesk.sandbox import SandboxConfig, SandboxThread

            self.thread = SandboxThread(SandboxConfig(api_key=API_KEY, send_receipts=False, send2_balance=10**12))
            self.url = self.thread.start()
            return self
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError("the sandbox process did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.thread.stop()
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---- the baseline -------------------------------------------------------------------------
def wire_request(provider: str, base: str, to: str, i: int) -> tuple[str, dict[str, str], dict[str, Any]]:
    ref = uuid.uuid4().hex
    text = "Bench message"
    if provider == "mobivate":
        return (
            f"{base}/mobivate/send/single",
            {"Authorization": f"Bearer {API_KEY}"},
            {
                "text": text,
                "originator": "Bench",
                "recipient": to[1:],
                "reference": ref,
                "shortenUrls": False,
                "excludeOptouts": True,
                "callbackURL": "http://127.0.0.1:9/hooks/1?token=x",
            },
        )
    if provider == "send2":
        return (
            f"{base}/send2/v1/message",
            {"Authorization": f"Bearer {API_KEY}"},
            {"phone": to, "text": text, "sender": 12345},
        )
    if provider == "channel":
        return (
            f"{base}/channel/send",
            {"Chan-Api-Key": API_KEY},
            {
                "sender": "Bench",
                "recipient": "00" + to[1:],
                "message": text,
                "request_id": ref,
                "custom_data": ref,
                "webhook_url": "http://127.0.0.1:9/hooks/1",
                "metadata": {},
            },
        )
    return (
        f"{base}/sms/send",
        {"X-Api-Key": API_KEY},
        {"sender": "Bench", "recipient": to, "content": text, "clientReference": ref},
    )


async def baseline(provider: str, base: str, nums: list[str], concurrency: int) -> tuple[float, float]:
    """Bare aiohttp: the same bodies, ``concurrency`` in flight; returns (msgs/s, CPU us/msg)."""
    import aiohttp

    reqs = [wire_request(provider, base, to, i) for i, to in enumerate(nums)]
    it = iter(reqs)
    ok = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal ok
            for url, headers, body in it:
                async with session.post(
                    url, data=json.dumps(body).encode(), headers={**headers, "Content-Type": "application/json"}
                ) as resp:
                    await resp.read()
                    ok += resp.status == 200

        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if ok != len(nums):
        raise RuntimeError(f"baseline: only {ok} of {len(nums)} answered 200")
    return len(nums) / elapsed, 1e6 * cpu / len(nums)


# ---- smsdesk ------------------------------------------------------------------------------
async def smsdesk_run(
    provider: str, base: str, nums: list[str], concurrency: int, bulk: bool, transport: str
) -> dict[str, Any]:
    os.environ["SMSDESK_HTTP_TRANSPORT"] = transport
    from smsdesk.domain.status import Status
    from smsdesk.runtime import Runtime
    from smsdesk.services.send import Draft
    from smsdesk.storage import messages as msg_store
    from smsdesk.storage.messages import NewOutgoing

    home = tempfile.mkdtemp(prefix="smsdesk-bench-")
    rt = Runtime.open(home, session_secrets=True)
    try:
        await rt.start(receiver=False, sandbox=False, dispatcher=True)
        values = {
            "base_url": base + PREFIX[provider],
            "sender": "12345" if provider == "send2" else "Bench",
            "api_key": API_KEY,
            "concurrency": str(concurrency),
            "rate_per_second": "1000000",
        }
        if provider == "channel":
            values["url"] = "/send"
        account = await rt.accounts.add("Bench", provider, values)
        n = len(nums)
        start_count = rt.dispatcher.sent_count
        t0, c0 = time.perf_counter(), time.process_time()
        c_queued = c0
        if bulk:
            items = [
                NewOutgoing(
                    account.id, to, values["sender"], "Bench message", 1, "GSM-7", Status.QUEUED, None, run_id=1
                )
                for to in nums
            ]
            await rt.store.db.write(lambda c: msg_store.insert_outgoing(c, items))
            rt.dispatcher.kick()
        else:
            await rt.sending.queue(Draft(account.id, nums, "Bench message"))
            c_queued = time.process_time()
        t_queued = time.perf_counter()
        deadline = time.monotonic() + 600
        while rt.dispatcher.sent_count - start_count < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {rt.dispatcher.sent_count - start_count} of {n} recorded in 600 s")
            await asyncio.sleep(0.005)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        row = rt.store.db.query_one(
            "SELECT count(*) AS n FROM messages WHERE account_id = ? AND status = 'sent'", (account.id,)
        )
        sent = int(row["n"]) if row else 0
        if sent != n:
            raise RuntimeError(f"{sent} of {n} messages are 'sent' in the database")
        return {
            "seconds": round(elapsed, 3),
            "queue_s": round(t_queued - t0, 3),
            "dispatch_s": round(elapsed - (t_queued - t0), 3),
            "msgs_per_s": round(n / elapsed, 1),
            "cpu_us_per_msg": round(1e6 * cpu / n),
            **(
                {}
                if bulk
                else {
                    "queue_cpu_us": round(1e6 * (c_queued - c0) / n),
                    "dispatch_cpu_us": round(1e6 * (c0 + cpu - c_queued) / n),
                }
            ),
        }
    finally:
        await rt.stop()
        rt.close()
        shutil.rmtree(home, ignore_errors=True)


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    provider = args.provider
    nums = numbers(args.count, provider)
    out: dict[str, Any] = {
        "provider": provider,
        "count": args.count,
        "concurrency": args.concurrency,
        "mode": "bulk" if args.bulk else "single",
        "server": args.server,
    }
    transports = ["aiohttp", "httpx"] if args.transport == "both" else [args.transport]
    if args.bulk:
        for t in transports:
            out[t] = await smsdesk_run(provider, url, nums, args.concurrency, True, t)
        out["seconds"] = out[transports[0]]["seconds"]
        out["msgs_per_s"] = out[transports[0]]["msgs_per_s"]
        return out
    await baseline(provider, url, numbers(1_000, provider), args.concurrency)  # warm the server
    before, cpu_before = await baseline(provider, url, nums, args.concurrency)
    for t in transports:
        out[t] = await smsdesk_run(provider, url, nums, args.concurrency, False, t)
    after, cpu_after = await baseline(provider, url, nums, args.concurrency)
    base = (before + after) / 2
    out["baseline_cpu_us_per_msg"] = round((cpu_before + cpu_after) / 2)
    out["baseline_msgs_per_s"] = round(base, 1)
    out["baseline_before_after"] = [round(before, 1), round(after, 1)]
    for t in transports:
        out[t]["ratio"] = round(out[t]["msgs_per_s"] / base, 3)
    out["msgs_per_s"] = out[transports[0]]["msgs_per_s"]
    out["ratio"] = out[transports[0]]["ratio"]
    return out


def main(argv: list[str]) -> dict[str, Any] | int:
    ap = argparse.ArgumentParser(prog="send_throughput", description=__doc__.split("\n")[0])
    ap.add_argument("--provider", default="sandbox", choices=sorted(PREFIX))
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--transport", default="aiohttp", choices=["aiohttp", "httpx", "both"])
    ap.add_argument("--bulk", action="store_true", help="queue with a run_id so the dispatcher batches")
    ap.add_argument("--server", default="process", choices=["process", "thread"])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.port)
        return 0
    if args.bulk and args.provider not in BULK:
        ap.error(f"{args.provider} has no bulk endpoint; bulk providers: {', '.join(sorted(BULK))}")
    with Server(args.server) as server:
        return asyncio.run(run(args, server.url))


if __name__ == "__main__":
    if str(Path(__file__).resolve().parent.parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    result = main(sys.argv[1:])
    if isinstance(result, dict):
        print(json.dumps(result, sort_keys=True))
