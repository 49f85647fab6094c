"""``smsdesk optouts [--json]`` lists the opt-out list; ``optouts add|remove NUMBER`` edits it.

Manual changes are audited and pushed to providers that keep their own list (Mobivate).
A bad number is exit 2 with the reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from smsdesk.cli.common import error, info, open_runtime, print_json
from smsdesk.runtime import Runtime
from smsdesk.services.optouts import OptOutResult


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("optouts", help="list, add or remove opted-out numbers", parents=[shared])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    add = actions.add_parser("add", help="stop all messages to a number", parents=[shared])
    add.add_argument("number")
    add.add_argument("--note", default="", help="why (kept in the audit log)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)
    rm = actions.add_parser("remove", help="allow messages to a number again", parents=[shared])
    rm.add_argument("number")
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(handler=cmd_remove)


def cmd_list(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        rows = rt.optouts.list()
    finally:
        rt.close()
    if args.json:
        print_json([r.as_json() for r in rows])
        return 0
    for r in rows:
        name = f" ({r.name})" if r.name else ""
        note = f"  {r.note}" if r.note else ""
        print(f"{r.created_at[:16]} {r.number}{name:<20} {r.source_label}{note}")
    if not rows:
        info("No opted-out numbers.")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    return _change(args, add=True)


def cmd_remove(args: argparse.Namespace) -> int:
    return _change(args, add=False)


def _change(args: argparse.Namespace, add: bool) -> int:
    rt = open_runtime(args)
    try:
        rt.optouts.normalise(args.number)  # InvalidNumber -> exit 2 before anything else
        result = asyncio.run(_run(rt, args, add))
    finally:
        rt.close()
    if getattr(args, "json", False):
        print_json({"number": result.number, "changed": result.changed, "provider_errors": result.provider_errors})
    elif add:
        info(f"{result.number} is opted out." if result.changed else f"{result.number} was already opted out.")
    else:
        info(f"{result.number} may be messaged again." if result.changed else f"{result.number} was not opted out.")
    for err in result.provider_errors:
        error(f"provider not updated: {err}")
    return 1 if result.provider_errors else 0


async def _run(rt: Runtime, args: argparse.Namespace, add: bool) -> OptOutResult:
    try:
        if add:
            return await rt.optouts.add(args.number, args.note)
        return await rt.optouts.remove(args.number)
    finally:
        await rt.accounts.aclose()
