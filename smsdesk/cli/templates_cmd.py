"""``smsdesk templates list|show|add|edit|remove``: saved message templates, named by their name."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.template import fields_used
from smsdesk.storage.records import SavedTemplate


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("templates", help="list, show, add, edit and remove saved templates", parents=[shared])
    t = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = t.add_parser("list", help="list saved templates", parents=[shared])
    ls.add_argument("--category", default=None)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)
    show = t.add_parser("show", help="show one template", parents=[shared])
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    add = t.add_parser("add", help="save a template", parents=[shared])
    add.add_argument("name")
    add.add_argument("--text", required=True, help="the message, merge fields as {{first_name|there}}")
    add.add_argument("--category", default="")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)
    edit = t.add_parser("edit", help="change a template", parents=[shared])
    edit.add_argument("name")
    edit.add_argument("--rename", default=None, metavar="NEW_NAME")
    edit.add_argument("--text", default=None)
    edit.add_argument("--category", default=None)
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(handler=cmd_edit)
    rm = t.add_parser("remove", help="delete a template", parents=[shared])
    rm.add_argument("name")
    rm.set_defaults(handler=cmd_remove)


def _json(t: SavedTemplate) -> dict[str, Any]:
    return {**t._asdict(), "fields": list(fields_used(t.body))}


def cmd_list(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        rows = rt.templates.templates(args.category)
    finally:
        rt.close()
    if args.json:
        print_json([_json(t) for t in rows])
    else:
        for t in rows:
            print(f"{t.name[:30]:<30} {t.category[:20]:<20} {t.body[:60].replace(chr(10), ' ')}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        t = rt.templates.by_name(args.name)
    finally:
        rt.close()
    if args.json:
        print_json(_json(t))
    else:
        print(f"name: {t.name}\ncategory: {t.category or '-'}\n\n{t.body}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        t = rt.templates.get(asyncio.run(rt.templates.add(args.name, args.category, args.text)))
    finally:
        rt.close()
    if args.json:
        print_json(_json(t))
    else:
        info(f"Saved the template '{t.name}'.")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        t = rt.templates.by_name(args.name)
        name = args.rename if args.rename is not None else t.name
        category = args.category if args.category is not None else t.category
        body = args.text if args.text is not None else t.body
        asyncio.run(rt.templates.edit(t.id, name, category, body))
        t = rt.templates.get(t.id)
    finally:
        rt.close()
    if args.json:
        print_json(_json(t))
    else:
        info(f"Saved the template '{t.name}'.")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        t = rt.templates.by_name(args.name)
        asyncio.run(rt.templates.remove(t.id))
    finally:
        rt.close()
    info(f"Deleted the template '{t.name}'.")
    return 0
