"""``smsdesk conversations [--json]``: the inbox, latest activity first."""

from __future__ import annotations

import argparse
from typing import Any

from smsdesk.cli.common import open_runtime, print_json
from smsdesk.services.conversations import ListFilter


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("conversations", help="list conversations (latest activity first)", parents=[shared])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=100, help="how many (default 100)")
    p.add_argument(
        "--filter",
        choices=[f.value for f in ListFilter],
        default="all",
        help="only unread, opted-out or needs-review conversations; on a team workspace also mine, "
        "unassigned or resolved ones",
    )
    p.set_defaults(handler=cmd_conversations)


def cmd_conversations(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        rows = rt.conversations.list(args.filter, limit=max(args.limit, 1))
    finally:
        rt.close()
    if args.json:
        print_json([c.as_json() for c in rows])
        return 0
    for c in rows:
        who = f"{c.contact_name} ({c.remote})" if c.contact_name else c.remote
        arrow = "->" if c.last_direction == "out" else "<-"
        flags = (f" [{c.unread} unread]" if c.unread else "") + (" [opted out]" if c.opted_out else "")
        flags += (f" [{c.assignee}]" if c.assignee else "") + (f" [{c.state}]" if c.state != "open" else "")
        text = c.last_body.replace("\n", " ")
        print(f"{c.last_at[:16]} {c.account:<10} {who:<32} {arrow} {text[:50]}{flags}")
    return 0
