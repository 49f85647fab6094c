"""A team workspace under load: several relays sending, desktops hearing each other.

    python bench/run.py team_scale [--count N] [--relays R] [--replies K] [--url URL] [--scale M]

On a PostgreSQL server (a throwaway one this script starts, as the tests do, or ``--url`` of
an existing empty database, superuser login):

- **dispatch**: N messages queued (``SendService.queue``), then dispatched by R relays, each
  a separate process running only the dispatcher, through one sandbox (its own process, receipts
  off). Reports messages per second from queueing until every row is recorded, and
  how many the sandbox received more than once (must be 0). The same N with one relay, and
  with one dispatcher on SQLite, run in the same invocation for comparison.
- **latency**: K replies stored one at a time by one process (as a relay does when a webhook
  arrives); R desktops (separate processes, each a runtime with its change watch) note when
  the reply reaches their bus. Reports the median and p95 of commit-to-desktop, on
  PostgreSQL (woken by NOTIFY) and on SQLite (the watch polls once a second).
- **conversation list** (``--scale M``, default off): M messages in M/20 conversations,
  generated into SQLite, moved into a workspace with ``workspace migrate``'s copy, then the
  first page of the conversation list read from each store (median of 20).

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
API_KEY = "bench-key"


def _numbers(count: int) -> list[str]:
    return [f"+4479{i // 1_000_000 % 10 + 11}{i % 1_000_000:06d}"[:13] for i in range(count)]


# ---- child processes ------------------------------------------------------------------------
def relay(database: str) -> None:
    """A relay that only dispatches: the account's key arrives on stdin, it runs until EOF."""
    from smsdesk.config.secrets import secret_key
    from smsdesk.runtime import Runtime

    key = sys.stdin.readline().strip()

    async def run() -> None:
        # SQLite: the data folder in SMSDESK_HOME (the parent's); a workspace: a folder of its own.
        home = tempfile.mkdtemp(prefix="smsdesk-relay-") if database else None
        rt = Runtime.open(home, session_secrets=True, database=database or None)
        for account in rt.accounts.all():
            rt.secrets.set(secret_key(account.name, "api_key"), key)
        rt.accounts.forget_adapters()
        await rt.start(receiver=False, sandbox=False, dispatcher=True, polling=False, tunnel=False, watch=False)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await rt.stop()
        rt.close()

    asyncio.run(run())


def desktop(database: str, home: str) -> None:
    """A desktop that only watches: prints ``<reply body> <time heard>`` per new reply."""
    from smsdesk.domain.events import Changes
    from smsdesk.runtime import Runtime

    async def run() -> None:
        rt = Runtime.open(home, session_secrets=True, database=database or None)
        await rt.start(receiver=False, sandbox=False, dispatcher=False, polling=False, tunnel=False)

        def heard(ch: object) -> None:
            if isinstance(ch, Changes) and ch.inbound_ids:
                now = time.time()
                for m in rt.sending.messages.get_many(sorted(ch.inbound_ids)):
                    print(f"{m.body} {now}", flush=True)

        rt.bus.subscribe(heard)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await rt.stop()
        rt.close()

    asyncio.run(run())


def _spawn(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"child failed to start: {line!r}")


def _end(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(60)


# ---- dispatch -------------------------------------------------------------------------------
async def _queue(database: str | None, home: str, sandbox_url: str, count: int) -> None:
    from smsdesk.runtime import Runtime
    from smsdesk.services.send import Draft

    rt = Runtime.open(home, session_secrets=True, database=database)
    try:
        values = {"base_url": sandbox_url, "sender": "Bench", "api_key": API_KEY, "concurrency": "16",
                  "rate_per_second": "1000000"}  # fmt: skip
        account = next((a for a in rt.accounts.all() if a.name == "Bench"), None)
        account = account or await rt.accounts.add("Bench", "puresms", values)
        if count:
            await rt.sending.queue(Draft(account.id, _numbers(count), "Bench message"))
    finally:
        rt.close()


def _open_rows(rt: Any) -> int:
    row = rt.store.db.query_one("SELECT count(*) FROM messages WHERE status = 'queued'")
    return int(row[0]) if row else 0


def dispatch(database: str | None, relays: int, count: int, sandbox: Any) -> dict[str, Any]:
    import httpx

    home = tempfile.mkdtemp(prefix="smsdesk-bench-")
    before = len(httpx.get(sandbox.url + "/_sandbox/messages").json())
    asyncio.run(_queue(database, home, sandbox.url, 0))  # the account, before the relays start
    if not database:  # SQLite: the relays open the same data folder's file
        os.environ["SMSDESK_HOME"] = home
    procs = [_spawn("--relay", database or "") for _ in range(relays)]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(API_KEY + "\n")
        p.stdin.flush()
    for p in procs:
        _wait_ready(p)
    t0 = time.perf_counter()  # from queueing (as Compose's Send) until every row is recorded
    asyncio.run(_queue(database, home, sandbox.url, count))
    from smsdesk.runtime import Runtime

    watch = Runtime.open(home, session_secrets=True, database=database)
    while _open_rows(watch):
        time.sleep(0.1)
    seconds = time.perf_counter() - t0
    watch.close()
    for p in procs:
        _end(p)
    sent = httpx.get(sandbox.url + "/_sandbox/messages").json()[before:]
    refs = [s.get("client_reference") for s in sent]
    return {
        "relays": relays,
        "messages": count,
        "seconds": round(seconds, 2),
        "per_second": round(count / seconds),
        "received": len(refs),
        "sent_twice": len(refs) - len(set(refs)),
    }


# ---- latency --------------------------------------------------------------------------------
def latency(database: str | None, desktops: int, replies: int) -> dict[str, Any]:
    from smsdesk.runtime import Runtime
    from smsdesk.storage.records import NewInbound

    home = tempfile.mkdtemp(prefix="smsdesk-bench-")
    writer = Runtime.open(home, session_secrets=True, database=database)
    values = {"base_url": "http://127.0.0.1:9", "sender": "Bench", "api_key": API_KEY}
    account = asyncio.run(writer.accounts.add("Replies", "puresms", values))
    procs = [_spawn("--desktop", database or "", home if not database else tempfile.mkdtemp()) for _ in range(desktops)]
    for p in procs:
        _wait_ready(p)
    time.sleep(1.5)  # every watch primed
    committed: dict[str, float] = {}

    async def write_all() -> None:
        for i in range(replies):
            body = f"reply-{i}"
            await writer.store.inbound.store_replies(
                account.id, [NewInbound(f"+4479111{i:05d}", "+447700900000", body, f"bench-{i}-{time.time()}")]
            )
            committed[body] = time.time()
            await asyncio.sleep(0.05)

    asyncio.run(write_all())
    time.sleep(2.5)
    waits: list[float] = []
    for p in procs:
        _end(p)
        assert p.stdout is not None
        first: dict[str, float] = {}  # a reply may be announced again (a later pass): the first counts
        for line in p.stdout.read().splitlines():
            body, _, at = line.rpartition(" ")
            first.setdefault(body, float(at))
        waits += [at - committed[body] for body, at in first.items() if body in committed]
    writer.close()
    waits.sort()
    return {
        "desktops": desktops,
        "replies": replies,
        "heard": len(waits),
        "median_ms": round(statistics.median(waits) * 1000, 1) if waits else None,
        "p95_ms": round(waits[int(len(waits) * 0.95) - 1] * 1000, 1) if waits else None,
    }


# ---- the conversation list at scale ---------------------------------------------------------
def conversation_list(url: str, scale: int) -> dict[str, Any]:
    from _gen_conversations import generate  # type: ignore[import-not-found]

    from smsdesk import workspace
    from smsdesk.config.secrets import SecretStore
    from smsdesk.runtime import Runtime

    home = Path(tempfile.mkdtemp(prefix="smsdesk-bench-"))
    t0 = time.perf_counter()
    generate(home, scale, scale // 20, big=min(10_000, scale // 10))
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    workspace.copy_in(url, SecretStore(session_only=True), home / "smsdesk.sqlite3")
    copy_s = time.perf_counter() - t0
    out: dict[str, Any] = {"messages": scale, "conversations": scale // 20, "generate_s": round(gen_s, 1),
                           "copy_s": round(copy_s, 1)}  # fmt: skip
    for name, database in (("sqlite", None), ("postgresql", url)):
        rt = Runtime.open(str(home), session_secrets=True, database=database)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            rt.conversations.list()
            times.append(time.perf_counter() - t)
        rt.close()
        out[f"{name}_first_page_ms"] = round(statistics.median(times) * 1000, 1)
    return out


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="team_scale")
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--relays", type=int, default=2)
    ap.add_argument("--replies", type=int, default=200)
    ap.add_argument("--desktops", type=int, default=3)
    ap.add_argument("--scale", type=int, default=0, help="messages for the conversation list (0: skip)")
    ap.add_argument("--url", help="an empty database on an existing server (superuser login)")
    args = ap.parse_args(argv)
    from send_throughput import Server  # type: ignore[import-not-found]

    from smsdesk import workspace
    from smsdesk.config.secrets import SecretStore

    cluster = None
    if args.url:
        urls = [args.url]
    else:
        from tests.support.pg_cluster import PgCluster

        cluster = PgCluster.start()
        urls = [cluster.url(cluster.create_database()) for _ in range(4)]  # one per part: each starts empty
    try:
        for url in urls:
            workspace.create(url, SecretStore(session_only=True))
        result: dict[str, Any] = {}
        with Server("process") as sandbox:
            result["dispatch_postgresql"] = dispatch(urls[0], args.relays, args.count, sandbox)
            if len(urls) > 1:
                result["dispatch_postgresql_one_relay"] = dispatch(urls[1], 1, args.count, sandbox)
            result["dispatch_sqlite"] = dispatch(None, 1, args.count, sandbox)
        result["latency_postgresql"] = latency(urls[2] if len(urls) > 2 else urls[0], args.desktops, args.replies)
        result["latency_sqlite"] = latency(None, args.desktops, min(args.replies, 50))
        if args.scale and len(urls) > 3:
            result["conversation_list"] = conversation_list(urls[3], args.scale)
        return result
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--relay":
        relay(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--desktop":
        desktop(sys.argv[2], sys.argv[3])
    else:
        print(json.dumps(main(sys.argv[1:])))
