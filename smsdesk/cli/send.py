"""``smsdesk send --account A (--to N ... | --group NAME) (--text T | --saved-template NAME) [--at ISO8601]``.

The CLI runs its own dispatcher (and, for a sandbox account, the sandbox and receiver) for as
long as it takes to hand every message to the provider; ``--wait`` also waits for receipts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from typing import Any

from smsdesk.cli import group_send
from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.errors import InvalidInput, SmsdeskError
from smsdesk.domain.models import Message
from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("send", help="send (or schedule) a message", parents=[shared])
    p.add_argument("--account", required=True)
    p.add_argument("--to", action="append", default=[], metavar="NUMBER")
    p.add_argument("--group", metavar="NAME", help="send to a contact group (personalised, through the bulk checks)")
    p.add_argument("--text", help="message text ('-' reads standard input)")
    p.add_argument("--saved-template", metavar="NAME", help="the text of this saved template")
    p.add_argument("--at", metavar="ISO8601", help="schedule for this time (with offset, or local time)")
    p.add_argument("--repeat", metavar="RULE", help="with --at: once, daily, weekly:mon,fri, monthly:31 (default once)")
    p.add_argument(
        "--zone", metavar="IANA", help="with --at: the time zone of a time without offset (default: this computer's)"
    )
    p.add_argument(
        "--over-limit", action="store_true", help="send even if it takes the account over its monthly spending limit"
    )
    p.add_argument("--wait", action="store_true", help="wait until every message has a final status")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default 120)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_send)


def parse_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"--at '{text}' is not an ISO 8601 date and time (e.g. 2026-12-01T09:00).") from exc
    if when.tzinfo is None:
        when = when.astimezone()  # a local wall-clock time
    return when


def cmd_send(args: argparse.Namespace) -> int:
    if bool(args.to) == bool(args.group):
        raise InvalidInput("Say who gets the message: --to NUMBER (repeat for several) or --group NAME.")
    if args.text and args.saved_template:
        raise InvalidInput("Give either --text or --saved-template, not both.")
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text and not args.saved_template:
        raise InvalidInput(
            "Give the message with --text TEXT (or --text - to read standard input) or --saved-template NAME."
        )
    when = parse_at(args.at)
    rt = open_runtime(args)
    try:
        if args.saved_template:
            text = rt.templates.by_name(args.saved_template).body
        assert text is not None
        if args.group and when is not None:  # each run takes the members of that moment
            group = rt.groups.by_name(args.group)
            account = rt.accounts.by_name(args.account)
            return asyncio.run(_schedule(rt, args, account.id, text, when, group.id))
        if args.group:
            return group_send.send_to_group(rt, args, text, when)
        return asyncio.run(_send(rt, args, text, when))
    finally:
        rt.close()


async def _send(rt: Runtime, args: argparse.Namespace, text: str, when: datetime | None) -> int:
    account = rt.accounts.by_name(args.account)
    if when is not None:
        return await _schedule(rt, args, account.id, text, when)
    await rt.start_for(account)
    try:
        ids = await rt.sending.queue(Draft(account.id, args.to, text, over_limit_ok=args.over_limit))
        deadline = time.monotonic() + args.timeout

        def done(final: bool) -> bool:
            cur = rt.sending.messages.get_many(ids)
            if final:
                return all(m.status.is_final for m in cur)
            return all(m.status != Status.QUEUED for m in cur)

        while not done(args.wait):
            if time.monotonic() > deadline:
                _report(args, rt.sending.messages.get_many(ids))
                raise SmsdeskError(
                    f"Timed out after {args.timeout:.0f} s waiting for "
                    + ("delivery receipts." if args.wait else "the provider to accept the messages.")
                )
            await asyncio.sleep(0.1)
        final = rt.sending.messages.get_many(ids)
        _report(args, final)
        bad = [m for m in final if m.status in (Status.FAILED, Status.REJECTED, Status.EXPIRED, Status.NEEDS_REVIEW)]
        return 1 if bad else 0
    finally:
        await rt.stop()


async def _schedule(
    rt: Runtime, args: argparse.Namespace, account_id: int, text: str, when: datetime, group_id: int | None = None
) -> int:
    """``--at``: a durable item in the scheduled queue (sent by the app or ``smsdesk serve``);
    with a group, every run takes the group's members then, opt-outs checked again."""
    from smsdesk.domain.schedule import Recurrence, to_local
    from smsdesk.services.scheduler import ScheduleRequest

    wall = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
    req = ScheduleRequest(
        account_id,
        args.to or [],
        text,
        wall if (args.zone and wall.tzinfo is None) else when,
        zone=args.zone,
        recurrence=Recurrence.parse(args.repeat),
        group_id=group_id,
    )
    item = await rt.scheduler.create(req)
    assert item.next_run is not None
    local = to_local(item.next_run, item.zone)
    info(
        f"Scheduled #{item.id}: {item.recipient_count} recipient(s), {item.recurrence.describe()}, "
        f"next {local:%Y-%m-%d %H:%M %Z} ({item.zone}). It is sent by the app or `smsdesk serve`; "
        f"see `smsdesk queue`."
    )
    if args.json:
        print_json(item.as_json())
    return 0


def _report(args: argparse.Namespace, msgs: list[Message]) -> None:
    if args.json:
        print_json([m.as_json() for m in msgs])
        return
    for m in msgs:
        line = f"{m.remote:<16} {m.status.label:<12} {m.local_id}"
        if m.error:
            line += f"  ({m.error})"
        print(line)
