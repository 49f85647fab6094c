"""Load generator for ``webhook_ingest`` (its own process: it shares no GIL with the server).

Reads one JSON job per stdin line: ``{"url", "n", "concurrency", "secret", "prefix"}``; signs
every receipt before the clock starts, posts them with an aiohttp client keeping
``concurrency`` in flight, and prints one JSON line: ``{"elapsed", "statuses", "outcomes"}``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sys
import time
from collections import Counter

import aiohttp


def signed(secret: str, body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Webhook-Timestamp": ts,
        "X-Webhook-Signature": base64.b64encode(mac).decode(),
    }


def receipts(n: int, prefix: str, secret: str) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for i in range(n):
        body = json.dumps(
            {
                "id": f"evt_{prefix}_{i}",
                "timestamp": "2026-11-22T10:00:00Z",
                "eventType": 1,
                "data": {
                    "messageId": f"pm-{i}",
                    "clientReference": None,
                    "deliveryStatus": "Delivered",
                    "errorCode": None,
                },
            }
        ).encode()
        out.append((body, signed(secret, body)))
    return out


async def run(job: dict) -> dict:
    items = receipts(job["n"], job["prefix"], job["secret"])
    statuses: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    queue = list(reversed(items))
    connector = aiohttp.TCPConnector(limit=job["concurrency"])
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while queue:
                body, headers = queue.pop()
                async with session.post(job["url"], data=body, headers=headers) as resp:
                    statuses[resp.status] += 1
                    try:
                        outcomes[str((await resp.json()).get("outcome", ""))] += 1
                    except (ValueError, aiohttp.ContentTypeError):
                        outcomes["?"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(job["concurrency"])))
        elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "statuses": dict(statuses), "outcomes": dict(outcomes)}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        print(json.dumps(asyncio.run(run(json.loads(line)))), flush=True)


if __name__ == "__main__":
    main()
