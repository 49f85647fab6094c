"""``smsdesk serve``: the headless relay (receiver, dispatcher, sandbox for the Sandbox account).

Writes the same database the GUI reads. Runs until interrupted (Ctrl+C or SIGTERM). A
workspace whose server does not answer yet is waited for (tried every few seconds).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from smsdesk.cli.common import info, open_runtime, stop_event_on_signals
from smsdesk.runtime import Runtime


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("serve", help="run the receiver, dispatcher and sandbox headless", parents=[shared])
    p.add_argument("--no-sandbox", action="store_true", help="do not run the built-in sandbox provider")
    p.add_argument("--port", type=int, help="receiver port (default: settings, else a free port)")
    p.add_argument(
        "--tunnel",
        choices=("none", "ngrok", "command"),
        help="public tunnel for this run (default: the one chosen in Settings -> Webhooks). ngrok reads "
        "its authtoken from the keyring or SMSDESK_SECRET_NGROK_AUTHTOKEN, never from the command line",
    )
    p.add_argument(
        "--tunnel-command",
        metavar="CMD",
        help='run this tunnel command for this run, e.g. "cloudflared tunnel --url {local}" ({local} is the '
        "receiver's URL, {port} its port). It shows in the process list: put no tokens in it",
    )
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    # A relay may start before its workspace's server does (both after a power cut): it waits.
    rt = open_runtime(args, wait_for_store=True)
    if args.port is not None:
        rt.settings.receiver_port = args.port
    # For this run only: the settings file (which the GUI also reads) is left as it is.
    if args.tunnel_command:
        if args.tunnel not in (None, "command"):
            info(f"--tunnel-command runs a command tunnel; it cannot go with --tunnel {args.tunnel}.")
            rt.close()
            return 2
        rt.settings.tunnel_kind, rt.settings.tunnel_command = "command", args.tunnel_command
    elif args.tunnel:
        rt.settings.tunnel_kind = args.tunnel
    try:
        asyncio.run(_serve(rt, args))
    finally:
        rt.close()
    return 0


async def _serve(rt: Runtime, args: argparse.Namespace) -> None:
    stop = stop_event_on_signals()
    if rt.open_pending:
        info(f"{rt.health.reason} Waiting for it; press Ctrl+C to stop.")
        if not await rt.finish_open(until=stop):
            return
        info("The workspace answers.")
    await rt.start(sandbox=False if args.no_sandbox else None, relay=True)
    await _show_tunnel_and_polling(rt)
    status = rt.status
    if status.receiver_error:
        info(status.receiver_error)
    info(f"Receiver: {status.receiver_url or 'not running'}")
    if status.sandbox_url:
        info(f"Sandbox provider: {status.sandbox_url}")
    for account in rt.accounts.all():
        info(f"  {account.name}: {rt.accounts.webhook_url(account)}")
    info("Serving; press Ctrl+C to stop.")
    try:
        await stop.wait()
    finally:
        info("Stopping...")
        await rt.stop()


async def _show_tunnel_and_polling(rt: Runtime) -> None:
    """Wait briefly for the tunnel (when one is chosen), then show the URLs to paste into the
    providers' dashboards and which accounts are polled."""
    tunnel = rt.tunnel
    if tunnel.status.kind != "none":
        for _ in range(300):
            if tunnel.status.state.value in ("up", "down", "off"):
                break
            await asyncio.sleep(0.1)
        st = tunnel.status
        info(f"Tunnel ({st.kind}): {st.state.value} {st.public_url or st.error}")
        for account in rt.accounts.all():
            if rt.accounts.public_base.get(account.id):
                info(f"  {account.name}: {rt.accounts.webhook_url(account, public=True)}")
    for account in rt.accounts.all():
        polled, why = rt.polling.should_poll(account)
        if polled:
            info(f"Polling {account.name}: {why}")
