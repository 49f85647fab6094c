"""``smsdesk autoreplies list|add|edit|remove|move|test``: automatic replies per account.

``test TEXT`` says which rule would answer a text and with what, sending nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.autoreply import WEEKDAYS, Match, Rule, RuleKind
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.schedule import zone as check_zone
from smsdesk.runtime import Runtime
from smsdesk.services.autoreplies import WEEK_DEFAULT, business_hours

KINDS = {"keyword": RuleKind.KEYWORD, "help": RuleKind.HELP, "out-of-hours": RuleKind.HOURS}


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("autoreplies", help="automatic replies: keywords, HELP, out of hours", parents=[shared])
    a = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = a.add_parser("list", help="list the rules in the order they are tried", parents=[shared])
    ls.add_argument("--account", default=None)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)
    add = a.add_parser("add", help="add a rule (tried after the others)", parents=[shared])
    add.add_argument("--account", default=None)
    add.add_argument("--kind", choices=sorted(KINDS), default="keyword")
    add.add_argument("--keyword", action="append", default=[], help="a keyword (repeat for several)")
    add.add_argument("--starts", action="store_true", help="match texts that start with the keyword")
    add.add_argument("--reply", default="", help="the answer; merge fields as {{first_name|there}}")
    add.add_argument("--group", default=None, help="also put the sender in this group")
    add.add_argument("--tag", default="", help="also give the sender this tag")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)
    edit = a.add_parser("edit", help="change a rule", parents=[shared])
    edit.add_argument("id", type=int)
    edit.add_argument("--keyword", action="append", default=None)
    edit.add_argument("--reply", default=None)
    edit.add_argument("--on", dest="enabled", action="store_const", const=True, default=None)
    edit.add_argument("--off", dest="enabled", action="store_const", const=False)
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(handler=cmd_edit)
    mv = a.add_parser("move", help="try a rule earlier (--up) or later (--down)", parents=[shared])
    mv.add_argument("id", type=int)
    way = mv.add_mutually_exclusive_group(required=True)
    way.add_argument("--up", action="store_true")
    way.add_argument("--down", action="store_true")
    mv.set_defaults(handler=cmd_move)
    rm = a.add_parser("remove", help="delete a rule", parents=[shared])
    rm.add_argument("id", type=int)
    rm.set_defaults(handler=cmd_remove)
    hours = a.add_parser(
        "hours", help="show or set the business's name, time zone, opening hours and holidays", parents=[shared]
    )
    hours.add_argument("--name", default=None, help="the business's name (HELP answers say it)")
    hours.add_argument("--zone", default=None, help="IANA time zone, e.g. Europe/London ('' for this computer's)")
    for day in WEEKDAYS:
        hours.add_argument(f"--{day}", default=None, metavar="HH:MM-HH:MM", help=f"{day.title()}'s hours ('' closed)")
    hours.add_argument("--holiday", action="append", default=None, metavar="YYYY-MM-DD", help="closed all day")
    hours.add_argument("--no-holidays", action="store_true", help="forget every holiday")
    hours.add_argument("--json", action="store_true")
    hours.set_defaults(handler=cmd_hours)
    test = a.add_parser("test", help="which rule would answer TEXT, and with what (sends nothing)", parents=[shared])
    test.add_argument("text")
    test.add_argument("--account", default=None)
    test.add_argument("--from", dest="number", default="", help="as if this number sent it (for merge fields)")
    test.add_argument("--at", default=None, help="as if received at this time (ISO 8601; default now)")
    test.add_argument("--json", action="store_true")
    test.set_defaults(handler=cmd_test)


def _account_id(rt: Runtime, name: str | None) -> int:
    """The account named, or the only one there is."""
    if name:
        return rt.accounts.by_name(name).id
    accounts = rt.accounts.all()
    if len(accounts) != 1:
        names = ", ".join(a.name for a in accounts) or "none yet"
        raise InvalidInput(f"Say which account with --account NAME. Accounts: {names}.")
    return accounts[0].id


def _json(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "account_id": r.account_id,
        "kind": r.kind.value,
        "keywords": list(r.keywords),
        "match": r.match.value,
        "reply": r.reply,
        "enabled": r.enabled,
        "position": r.position,
        "add_group_id": r.add_group_id,
        "add_tag": r.add_tag,
    }


def _line(r: Rule) -> str:
    state = "on " if r.enabled else "off"
    how = " (starts with)" if r.kind == RuleKind.KEYWORD and r.match == Match.STARTS else ""
    what = r.label[: 44 - len(how)] + how  # padded as one column, so every arrow lines up
    return f"#{r.id:<4} {state} {what:<44} -> {(r.reply or '(the standard HELP answer)')[:60]}"


def _show(args: argparse.Namespace, rule: Rule) -> int:
    """Print one rule as JSON or as its list line."""
    if args.json:
        print_json(_json(rule))
    else:
        print(_line(rule))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        account_id = rt.accounts.by_name(args.account).id if args.account else None  # None: every account
        rules = rt.autoreplies.rules(account_id)
    finally:
        rt.close()
    if args.json:
        print_json([_json(r) for r in rules])
    elif not rules:
        info("No automatic replies yet. Add one with: smsdesk autoreplies add --keyword OPEN --reply '...'")
    else:
        for r in rules:
            print(_line(r))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    kind = KINDS[args.kind]
    if kind == RuleKind.KEYWORD and not args.keyword:
        raise InvalidInput("Give the keyword that starts this reply: --keyword OPEN (repeat for several).")
    rt = open_runtime(args)
    try:
        account_id = _account_id(rt, args.account)
        group_id = rt.groups.by_name(args.group).id if args.group else None
        match = Match.STARTS if args.starts else Match.WORD
        rule = asyncio.run(rt.autoreplies.add(account_id, kind, args.reply, args.keyword, match, group_id, args.tag))
    finally:
        rt.close()
    return _show(args, rule)


def cmd_edit(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        rule = asyncio.run(rt.autoreplies.edit(args.id, reply=args.reply, keywords=args.keyword, enabled=args.enabled))
    finally:
        rt.close()
    return _show(args, rule)


def cmd_move(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        rules = asyncio.run(rt.autoreplies.move(args.id, up=args.up))
    finally:
        rt.close()
    for r in rules:
        print(_line(r))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        asyncio.run(rt.autoreplies.remove(args.id))
    finally:
        rt.close()
    info(f"Removed automatic reply #{args.id}.")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidInput(f"--at '{args.at}' is not an ISO 8601 time (e.g. 2026-12-06T10:00).") from exc
        at = at if at.tzinfo is not None else at.astimezone()
    rt = open_runtime(args)
    try:
        found = rt.autoreplies.reply_for(_account_id(rt, args.account), args.text, args.number, at)
    finally:
        rt.close()
    if args.json:
        print_json({"rule": _json(found[0]) if found else None, "reply": found[1] if found else None})
    elif found is None:
        print("No automatic reply: no rule answers this text (STOP and START never get one).")
    else:
        print(f"Rule #{found[0].id} ({found[0].label}) would answer:\n{found[1]}")
    return 0


def cmd_hours(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        s = rt.settings
        week = list(s.business_hours) if len(s.business_hours) == 7 else list(WEEK_DEFAULT)
        for i, day in enumerate(WEEKDAYS):
            given = getattr(args, day)
            if given is not None:
                week[i] = given.strip()
        holidays = [] if args.no_holidays else list(s.holidays)
        holidays += [d for d in args.holiday or () if d not in holidays]
        zone = s.business_zone if args.zone is None else args.zone.strip()
        business_hours(zone or "UTC", week, holidays)  # refused here, with the reason, before anything is kept
        if zone:
            check_zone(zone)
        changes = {"business_hours": week, "holidays": sorted(holidays), "business_zone": zone}
        if args.name is not None:
            changes["business_name"] = args.name.strip()
        for name, value in changes.items():
            if getattr(s, name) != value:
                rt.settings_file.keep(name, value)
        shown: dict[str, Any] = {
            "name": s.business_name,
            "zone": s.business_zone or "this computer's",
            "hours": dict(zip(WEEKDAYS, s.business_hours, strict=False)),
            "holidays": s.holidays,
        }
    finally:
        rt.close()
    if args.json:
        print_json(shown)
    else:
        print(f"{shown['name'] or '(no business name yet)'} · time zone: {shown['zone']}")
        for day, span in shown["hours"].items():
            print(f"  {day.title()}: {span or 'closed'}")
        if shown["holidays"]:
            print("  Holidays: " + ", ".join(shown["holidays"]))
    return 0
