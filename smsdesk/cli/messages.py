"""``smsdesk messages [--json]``: recent messages, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from smsdesk.cli.common import open_runtime, print_json


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("messages", help="list recent messages", parents=[shared])
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--account", help="only this account")
    p.set_defaults(handler=cmd_messages)


def cmd_messages(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        account_id = rt.accounts.by_name(args.account).id if args.account else None
        msgs = rt.sender.messages.recent(args.limit, account_id=account_id)
    finally:
        rt.close()
    if args.json:
        print_json([m.as_json() for m in msgs])
        return 0
    for m in msgs:
        arrow = "->" if m.direction == "out" else "<-"
        text = m.body.replace("\n", " ")
        print(f"{m.created_at[:19]} {m.account:<10} {arrow} {m.remote:<16} {m.status.label:<12} {text[:50]}")
    return 0
