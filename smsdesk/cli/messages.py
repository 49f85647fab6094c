"""``smsdesk messages [--json]``: every message, newest first (``--limit N`` for the newest N).

The output streams: rows are read from the database in pages and written as they come, so
years of history print without being held in memory. ``--json`` is one JSON array with one
object per message (one object per line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from smsdesk.cli.common import error, open_runtime


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("messages", help="list messages, newest first", parents=[shared])
    p.add_argument("--json", action="store_true", help="a JSON array, one object per message")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the newest N (default: all)")
    p.add_argument("--account", help="only this account")
    p.set_defaults(handler=cmd_messages)


def cmd_messages(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 0:
        error(f"--limit must be 0 or more, not {args.limit}.")
        return 2
    rt = open_runtime(args)
    try:
        account_id = rt.accounts.by_name(args.account).id if args.account else None
        rows = rt.sending.history(account_id, args.limit)
        out = sys.stdout
        try:
            if args.json:
                _write_json(out, (m.as_json() for m in rows))
            else:
                for m in rows:
                    arrow = "->" if m.direction == "out" else "<-"
                    text = m.body.replace("\n", " ")
                    out.write(
                        f"{m.created_at[:19]} {m.account:<10} {arrow} {m.remote:<16} {m.status.label:<12} {text[:50]}\n"
                    )
            out.flush()
        except BrokenPipeError:
            # The reader stopped early (``| head``): not an error. Point stdout at devnull so
            # the interpreter's final flush does not complain either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        rt.close()
    return 0


def _write_json(out: Any, objects: Iterator[dict[str, Any]]) -> None:
    # The first page is read before anything is written: a database error then leaves
    # stdout empty instead of half a JSON document.
    first = next(objects, None)
    if first is None:
        out.write("[]\n")
        return
    out.write("[\n" + json.dumps(first, ensure_ascii=False, default=str))
    for obj in objects:
        out.write(",\n" + json.dumps(obj, ensure_ascii=False, default=str))
    out.write("\n]\n")
