"""``smsdesk review``: messages that may or may not have gone out, a batch at a time.

``smsdesk review [--json]`` lists the batches (a bulk run's undecided messages, or an
account's undecided single sends) and what smsdesk does about each: asks the provider on a
schedule, sends again where the provider drops repeats, or says the provider cannot be asked.
``review mark-sent BATCH`` records that they went out; ``review send-again BATCH --yes``
sends them again (anyone who did get one gets it twice, so ``--yes`` is required) and stays
until they have left the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import textwrap
import time
from collections import Counter
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.errors import InvalidInput, SmsdeskError
from smsdesk.domain.status import Status
from smsdesk.providers.spec import SETTLE_RESEND
from smsdesk.services.review import ReviewBatch


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("review", help="settle messages that may or may not have gone out", parents=[shared])
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    m = acts.add_parser("mark-sent", help="record that a batch's messages went out", parents=[shared])
    m.add_argument("batch", metavar="BATCH", help="as listed by smsdesk review (run-3, account-2)")
    m.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    m.set_defaults(handler=cmd_mark_sent)
    s = acts.add_parser("send-again", help="send a batch's messages again", parents=[shared])
    s.add_argument("batch", metavar="BATCH", help="as listed by smsdesk review (run-3, account-2)")
    s.add_argument("--yes", action="store_true", help="send even though some may get the message twice")
    s.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the provider (default 300)")
    s.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    s.set_defaults(handler=cmd_send_again)


def _block(b: ReviewBatch) -> str:
    noun = "message" if b.count == 1 else "messages"
    lines = [f"{b.key}  {b.title}: {b.count:,} {noun}"]
    lines += textwrap.wrap(b.status, 92, initial_indent="    ", subsequent_indent="    ")
    again = f"smsdesk review send-again {b.key} --yes" if b.can_send_again else b.why_not_again
    lines.append(f"    Settle: smsdesk review mark-sent {b.key}  |  {again}")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        batches = rt.review.batches()
    finally:
        rt.close()
    if args.json:
        print_json([b.as_json() for b in batches])
        return 0
    if not batches:
        info("Nothing waits for review: every message sent has a known outcome.")
        return 0
    print("\n\n".join(_block(b) for b in batches))
    return 0


def cmd_mark_sent(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        batch = rt.review.batch(args.batch)
        n = asyncio.run(rt.review.mark_sent(batch.key))
    finally:
        rt.close()
    if getattr(args, "json", False):
        print_json({"batch": batch.key, "marked_sent": n})
    else:
        info(f"Marked {n:,} message{'s' if n != 1 else ''} of {batch.title} as sent.")
    return 0


def cmd_send_again(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        batch = rt.review.batch(args.batch)
        if not batch.can_send_again:
            raise InvalidInput(batch.why_not_again)
        if not args.yes and batch.settle != SETTLE_RESEND:
            raise InvalidInput(
                f"{batch.send_again_warning} To send these {batch.count:,} again anyway, add --yes: "
                f"smsdesk review send-again {batch.key} --yes"
            )
        return asyncio.run(_send_again(rt, args, batch))
    finally:
        rt.close()


async def _send_again(rt: Any, args: argparse.Namespace, batch: ReviewBatch) -> int:
    await rt.start(tunnel=False, polling=False)
    try:
        ids = await rt.review.send_again(batch.key)
        info(f"Sending {len(ids):,} message{'s' if len(ids) != 1 else ''} of {batch.title} again…")
        deadline = time.monotonic() + args.timeout
        while any(m.status == Status.QUEUED for m in rt.sending.messages.get_many(ids)):
            if time.monotonic() > deadline:
                raise SmsdeskError(
                    f"Timed out after {args.timeout:.0f} s waiting for the provider; "
                    "the app or smsdesk serve sends the rest."
                )
            await asyncio.sleep(0.2)
        counts = Counter(m.status.value for m in rt.sending.messages.get_many(ids))
    finally:
        await rt.stop()
    if getattr(args, "json", False):
        print_json({"batch": batch.key, "sent_again": len(ids), "outcome": dict(counts)})
    else:
        info("Outcome: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in sorted(counts.items())) + ".")
    return 0 if not (counts["failed"] or counts["rejected"] or counts["needs_review"]) else 1
