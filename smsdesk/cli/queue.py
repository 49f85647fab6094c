"""``smsdesk queue``: the scheduled queue from the command line.

``smsdesk queue [--json] [--all]`` lists scheduled sends; ``queue cancel|pause|resume|send-now|
skip ID`` act on one; ``queue history ID`` shows its runs; ``queue options --account A``
sets quiet hours and provider-side scheduling. Items are created with ``smsdesk send --at``.
The due loop itself runs wherever a dispatcher runs (the GUI or ``smsdesk serve``).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.schedule import ScheduleItem, counts_text, to_local

ACTIONS = ("cancel", "pause", "resume", "send-now", "skip", "history")


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("queue", help="list and manage scheduled sends", parents=[shared])
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="include finished and cancelled items")
    p.set_defaults(handler=cmd_list)
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    for name in ACTIONS:
        a = acts.add_parser(name, help=f"{name.replace('-', ' ')} a scheduled send", parents=[shared])
        a.add_argument("id", type=int, metavar="ID")
        # SUPPRESS: without it this default (False) overwrites a --json given before the action
        # (``queue --json cancel 1``); the parent parser's default still applies when neither has it.
        a.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        if name == "send-now":
            a.add_argument(
                "--over-limit", action="store_true", help="send even if it takes the account over its monthly limit"
            )
        a.set_defaults(handler=cmd_action)
    o = acts.add_parser("options", help="quiet hours and provider-side scheduling of an account", parents=[shared])
    o.add_argument("--account", required=True)
    o.add_argument("--quiet-hours", metavar="HH:MM-HH:MM", help="e.g. 21:00-08:00 (recipient's time); 'off'")
    o.add_argument("--provider-side", choices=("on", "off"), help="let the provider hold one-off scheduled sends")
    o.add_argument("--yes", action="store_true", help="accept the provider's limits (e.g. no cancel)")
    o.set_defaults(handler=cmd_options)


def _line(item: ScheduleItem) -> str:
    when = to_local(item.next_run, item.zone).strftime("%Y-%m-%d %H:%M %Z") if item.next_run else "-"
    where = "provider" if item.location == "provider" else "local"
    text = item.body.replace("\n", " ")[:40]
    line = (
        f"{item.id:>4}  {item.state_label:<14} {when:<22} {item.recipient_count:>5}  "
        f"{item.account:<12} {where:<8} {item.recurrence.describe():<22} {text}"
    )
    if item.reason:
        line += f"\n      {item.reason}"
    return line


def cmd_list(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        items = rt.scheduler.items(include_finished=args.all)
    finally:
        rt.close()
    if args.json:
        print_json([i.as_json() for i in items])
        return 0
    if not items:
        info("Nothing is scheduled. Schedule with: smsdesk send --account A --to N --text T --at 2026-12-01T09:00")
        return 0
    print(f"{'ID':>4}  {'State':<14} {'Next run':<22} {'Rcpts':>5}  {'Account':<12} {'Where':<8} {'Repeat':<22} Text")
    for item in items:
        print(_line(item))
    return 0


async def _act(rt: Any, action: str, sid: int, over_limit: bool = False) -> str:
    svc = rt.scheduler
    if action == "cancel":
        return str(await svc.cancel(sid))
    if action == "pause":
        await svc.pause(sid)
        return "Paused."
    if action == "resume":
        await svc.resume(sid)
        return "Resumed."
    if action == "skip":
        item = await svc.skip(sid)
        return "Skipped; " + ("nothing further is scheduled." if item.next_run is None else "the next run stays.")
    item = await svc.send_now(sid, over_limit_ok=over_limit)
    return "Queued now; smsdesk serve or the app sends it." if item else ""


def cmd_action(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        if args.action == "history":
            runs = rt.scheduler.history(args.id)
            rt.scheduler.get(args.id)  # NotFound when the id is wrong
            if args.json:
                print_json(runs)
            elif not runs:
                info("No runs yet.")
            for r in [] if args.json else runs:
                print(
                    f"{r['due'][:16]}  {r['state']:<10} {counts_text(r['counts'], r['skipped'])}"
                    + (f"  ({r['note']})" if r["note"] else "")
                )
            return 0
        text = asyncio.run(_act(rt, args.action, args.id, getattr(args, "over_limit", False)))
        item = rt.scheduler.get(args.id)
    finally:
        rt.close()
    if args.json:
        print_json(item.as_json())
    else:
        info(text)
    return 0


def cmd_options(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        account = rt.accounts.by_name(args.account)
        prov = rt.scheduler.provider
        if args.quiet_hours is not None:
            account = asyncio.run(prov.set_quiet_hours(account.id, args.quiet_hours))
        if args.provider_side is not None:
            if args.provider_side == "on":
                info(prov.notice(account))
            account = asyncio.run(prov.set_opt_in(account.id, args.provider_side == "on", acknowledged=args.yes))
        quiet = account.settings.get("quiet_hours") or "off"
        side = "on" if prov.wanted(account) else "off"
        print(f"{account.name}: quiet hours {quiet}; provider-side scheduling {side}")
    finally:
        rt.close()
    return 0
