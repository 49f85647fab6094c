"""``smsdesk sandbox``: the simulated provider on its own, for demos and testing other tools.

Keys come from the environment (``SMSDESK_SANDBOX_API_KEY``, ``SMSDESK_SANDBOX_WEBHOOK_SECRET``)
or are generated and printed once: they are keys to a local simulator, not real secrets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
from typing import Any

from smsdesk.cli.common import error, info, stop_event_on_signals
from smsdesk.sandbox import SandboxConfig, SandboxServer
from smsdesk.sandbox.config import knob_names, parse_knobs


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("sandbox", help="run the simulated SMS provider standalone", parents=[shared])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8787)
    p.add_argument("--webhook-url", default="", help="where to POST receipts and replies")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KNOB=VALUE",
        help="a fault or timing knob, e.g. rate_429=0.1 latency=0.2 rate_reply=0.5 "
        "(rates are 0..1, delays in seconds); knobs: " + ", ".join(knob_names()),
    )
    p.set_defaults(handler=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace) -> int:
    try:
        knobs = parse_knobs(args.set)
    except ValueError as exc:
        error(f"--set: {exc}")
        return 2
    cfg = SandboxConfig(
        api_key=os.environ.get("SMSDESK_SANDBOX_API_KEY") or secrets.token_urlsafe(18),
        webhook_secret=os.environ.get("SMSDESK_SANDBOX_WEBHOOK_SECRET") or secrets.token_urlsafe(18),
        webhook_url=args.webhook_url,
    )
    for name, value in knobs.items():
        setattr(cfg, name, value)
    asyncio.run(_run(cfg, args.host, args.port, "SMSDESK_SANDBOX_API_KEY" not in os.environ))
    return 0


async def _run(cfg: SandboxConfig, host: str, port: int, show_keys: bool) -> None:
    server = SandboxServer(cfg, host, port)
    url = await server.start()
    info(f"Sandbox provider (PureSMS wire format) at {url}")
    if show_keys:
        info(f"  API key (X-Api-Key): {cfg.api_key}")
        info(f"  Webhook signing secret: {cfg.webhook_secret}")
    info(f"  Receipts go to: {cfg.webhook_url or '(none; pass --webhook-url)'}")
    stop = stop_event_on_signals()
    try:
        await stop.wait()
    finally:
        await server.stop()
