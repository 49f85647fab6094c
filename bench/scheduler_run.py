"""How long a large scheduled run takes to materialise, and what an idle scheduler pass costs.

``python bench/run.py scheduler_run [--recipients 10000]``: schedules one send to N
recipients (quiet hours on, so every number's zones are looked up), moves an injected clock
past its time and times the pass that claims it and writes N outbox rows; then times idle
passes (nothing due). No network: the dispatcher is not started.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any


def main(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="scheduler_run")
    p.add_argument("--recipients", type=int, default=10000)
    args = p.parse_args(argv)
    return asyncio.run(_run(args.recipients))


async def _run(n: int) -> dict[str, Any]:
    from smsdesk.runtime import Runtime
    from smsdesk.services.scheduler import ScheduleRequest

    rt = Runtime.open(tempfile.mkdtemp(prefix="smsdesk-bench-"))
    now = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    rt.scheduler.clock = lambda: now[0]
    try:
        acct = rt.accounts.by_name("Sandbox").id
        await rt.scheduler.provider.set_quiet_hours(acct, "21:00-08:00")
        numbers = [f"+4479{11000000 + i:08d}" for i in range(n)]
        t0 = time.perf_counter()
        item = await rt.scheduler.create(
            ScheduleRequest(acct, numbers, "Bench", now[0] + timedelta(minutes=5), zone="Europe/London")
        )
        create_s = time.perf_counter() - t0
        now[0] += timedelta(minutes=5, seconds=1)
        t0 = time.perf_counter()
        started = await rt.scheduler.tick()
        run_s = time.perf_counter() - t0
        assert started == 1 and len(rt.scheduler.repo.message_ids(item.id)) == n
        await rt.store.db.write(lambda c: c.execute("UPDATE messages SET status = 'sent'"))
        await rt.scheduler.tick()  # closes the run
        t0 = time.perf_counter()
        for _ in range(50):
            await rt.scheduler.tick()
        idle_ms = (time.perf_counter() - t0) / 50 * 1000
    finally:
        rt.close()
    return {
        "recipients": n,
        "create_s": round(create_s, 3),
        "run_materialise_s": round(run_s, 3),
        "rows_per_s": round(n / run_s),
        "idle_pass_ms": round(idle_ms, 3),
    }
