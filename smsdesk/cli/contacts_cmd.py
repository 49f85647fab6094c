"""``smsdesk contacts list|show|add|edit|remove|erase`` and ``smsdesk groups list|show|add|remove|members``.

A contact is named by its name, any of its numbers, or its id; a group by its name.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.contacts import Contact, ContactDraft, ContactQuery, DraftNumber, FieldKind, GroupFilter, HasTag
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.runtime import Runtime
from smsdesk.services.contact_files import FORMATS


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("contacts", help="list, show, add, edit, remove and erase contacts", parents=[shared])
    c = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = c.add_parser("list", help="list contacts (first 100 unless --limit)", parents=[shared])
    ls.add_argument("--search", default="", help="part of a name, a number or any field")
    ls.add_argument("--group", default=None, metavar="NAME", help="only this group's members")
    ls.add_argument("--tag", default=None)
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = c.add_parser("show", help="show one contact", parents=[shared])
    show.add_argument("contact", help="name, number or id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    for verb in ("add", "edit"):
        sp = c.add_parser(verb, help=f"{verb} a contact", parents=[shared])
        if verb == "edit":
            sp.add_argument("contact", help="name, number or id")
        sp.add_argument("--name", default=None)
        sp.add_argument("--number", action="append", default=[], help="a number (repeat for several; first: texts)")
        sp.add_argument("--tag", action="append", default=[], help="a tag (repeat for several)")
        sp.add_argument("--field", action="append", default=[], metavar="NAME=VALUE", help="a custom field value")
        sp.add_argument("--notes", default=None)
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(handler=cmd_add if verb == "add" else cmd_edit)

    rm = c.add_parser("remove", help="remove contacts (their messages are kept)", parents=[shared])
    rm.add_argument("contacts", nargs="+", help="names, numbers or ids")
    rm.set_defaults(handler=cmd_remove)

    er = c.add_parser(
        "erase", help="erase everything about a person: contact, messages, conversations", parents=[shared]
    )
    er.add_argument("contact", help="name, number or id")
    er.add_argument("--confirm", required=True, metavar="NAME", help="the person's name, typed again to confirm")
    er.set_defaults(handler=cmd_erase)

    imp = c.add_parser(
        "import", help="add contacts from a spreadsheet or a .vcf file (nothing is sent)", parents=[shared]
    )
    imp.add_argument("file")
    imp.add_argument("--group", default=None, metavar="NAME", help="also put them in this group (created if new)")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=cmd_import)

    exp = c.add_parser("export", help="write contacts to a .csv, .xlsx or .vcf file", parents=[shared])
    exp.add_argument("file")
    exp.add_argument("--format", choices=FORMATS, default=None, help="default: from the file's name")
    exp.add_argument("--group", default=None, metavar="NAME", help="only this group's members")
    exp.add_argument("--json", action="store_true")
    exp.set_defaults(handler=cmd_export)

    g = subs.add_parser("groups", help="list, show, add and remove groups; change their members", parents=[shared])
    gs = g.add_subparsers(dest="action", metavar="ACTION", required=True)
    gl = gs.add_parser("list", help="list groups with their sizes", parents=[shared])
    gl.add_argument("--json", action="store_true")
    gl.set_defaults(handler=cmd_groups)
    gshow = gs.add_parser("show", help="show a group", parents=[shared])
    gshow.add_argument("name")
    gshow.add_argument("--json", action="store_true")
    gshow.set_defaults(handler=cmd_group_show)
    gadd = gs.add_parser("add", help="create a group (a smart group with --tag)", parents=[shared])
    gadd.add_argument("name")
    gadd.add_argument("--tag", action="append", default=[], help="smart group: contacts with this tag")
    gadd.set_defaults(handler=cmd_group_add)
    grm = gs.add_parser("remove", help="delete a group (its members stay as contacts)", parents=[shared])
    grm.add_argument("name")
    grm.set_defaults(handler=cmd_group_remove)
    gm = gs.add_parser("members", help="list a group's members; --add/--remove change them", parents=[shared])
    gm.add_argument("name")
    gm.add_argument(
        "--add", nargs="+", action="extend", default=[], metavar="CONTACT", help="names, numbers or ids to add"
    )
    gm.add_argument(
        "--remove", nargs="+", action="extend", default=[], metavar="CONTACT", help="names, numbers or ids to remove"
    )
    gm.add_argument("--json", action="store_true")
    gm.set_defaults(handler=cmd_members)


def _line(rt: Runtime, c: Contact) -> str:
    number = rt.contacts.number_text(c.number) if c.number else "-"
    tags = f"  [{', '.join(c.tags)}]" if c.tags else ""
    return f"{c.id:>6}  {c.shown_name[:30]:<30}  {number:<18}{tags}"


def _print_contacts(rt: Runtime, rows: list[Contact], total: int, as_json: bool) -> None:
    if as_json:
        print_json({"total": total, "contacts": [c.as_json() for c in rows]})
        return
    for c in rows:
        print(_line(rt, c))
    if total > len(rows):
        info(f"{len(rows)} of {total} shown; use --limit or --search to see others.")


def cmd_list(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        group_id = rt.groups.by_name(args.group).id if args.group else None
        query = ContactQuery(text=args.search, group_id=group_id, tag=args.tag, limit=max(1, args.limit))
        page = rt.contacts.search(query)
        _print_contacts(rt, list(page.rows), page.total, args.json)
    finally:
        rt.close()
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        c = rt.contacts.find(args.contact)
        data = c.as_json()
        data["groups"] = [name for _gid, name in rt.groups.groups_of(c.id)]
    finally:
        rt.close()
    if args.json:
        print_json(data)
        return 0
    print(f"name: {data['name']}")
    for n in c.numbers:
        label = f" ({n.label})" if n.label else ""
        print(f"number: {n.number}{label}{'  (for texts)' if n.for_sms else ''}")
    for key in ("tags", "groups"):
        if data[key]:
            print(f"{key}: {', '.join(data[key])}")
    for k, v in c.fields.items():
        print(f"{k}: {v}")
    if c.notes:
        print(f"notes: {c.notes}")
    if c.consent:
        print(f"consent: {c.consent.at} {c.consent.how}".rstrip())
    if c.opted_out:
        print(f"opted out: {c.opted_out}")
    return 0


def _fields(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise InvalidInput(f"--field needs NAME=VALUE, got '{item}'.")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _draft(args: argparse.Namespace, base: ContactDraft) -> ContactDraft:
    draft = base
    if args.name is not None:
        draft = replace(draft, name=args.name, given_name="", family_name="")
    if args.number:
        draft = replace(draft, numbers=tuple(DraftNumber(n) for n in args.number), sms=0)
    if args.tag:
        draft = replace(draft, tags=tuple(args.tag))
    if args.field:
        draft = replace(draft, fields={**draft.fields, **_fields(args.field)})
    if args.notes is not None:
        draft = replace(draft, notes=args.notes)
    return draft


async def _define_missing(rt: Runtime, fields: dict[str, str]) -> None:
    known = {d.name.casefold() for d in rt.contacts.field_defs()}
    for name in fields:
        if name.casefold() not in known:
            await rt.contacts.define_field(name, FieldKind.TEXT)


def cmd_add(args: argparse.Namespace) -> int:
    if not args.number:
        raise InvalidInput("A contact needs a phone number: add --number NUMBER.")
    rt = open_runtime(args)
    try:
        asyncio.run(_define_missing(rt, _fields(args.field)))
        saved = asyncio.run(rt.contacts.add(_draft(args, ContactDraft())))
        contact = rt.contacts.get(saved.contact_id)
    finally:
        rt.close()
    if args.json:
        print_json({"merged": saved.merged, "contact": contact.as_json()})
    elif saved.merged:
        info(f"{contact.shown_name} already had that number: the details were added to that contact.")
    else:
        info(f"Added {contact.shown_name} (id {contact.id}).")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        current = rt.contacts.find(args.contact)
        asyncio.run(_define_missing(rt, _fields(args.field)))
        asyncio.run(rt.contacts.edit(current.id, _draft(args, current.to_draft())))
        contact = rt.contacts.get(current.id)
    finally:
        rt.close()
    if args.json:
        print_json(contact.as_json())
    else:
        info(f"Saved {contact.shown_name}.")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        ids = list(dict.fromkeys(rt.contacts.find(ref).id for ref in args.contacts))
        removed = asyncio.run(rt.contacts.remove(ids))
    finally:
        rt.close()
    info(f"Removed {removed.count} contact(s). Their messages are kept.")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        contact = rt.contacts.find(args.contact)
        erased = asyncio.run(rt.contacts.erase(contact.id, args.confirm))
    finally:
        rt.close()
    kept = " Their number stays blocked (kept only as a one-way hash)." if erased.kept_opt_out else ""
    info(f"Erased the contact, {erased.messages} message(s) and {erased.conversations} conversation(s).{kept}")
    return 0


def cmd_groups(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        groups = rt.groups.groups()
    finally:
        rt.close()
    if args.json:
        print_json([g.as_json() for g in groups])
    else:
        for g in groups:
            rule = f"  (smart: {g.rule})" if g.smart else ""
            print(f"{g.name[:40]:<40} {g.size:>7} member(s){rule}")
    return 0


def cmd_group_show(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        g = rt.groups.by_name(args.name)
    finally:
        rt.close()
    if args.json:
        print_json(g.as_json())
    else:
        print(f"name: {g.name}\nmembers: {g.size}" + (f"\nrule: {g.rule}" if g.smart else ""))
    return 0


def cmd_group_add(args: argparse.Namespace) -> int:
    flt = GroupFilter(tuple(HasTag(t) for t in args.tag)) if args.tag else None
    rt = open_runtime(args)
    try:
        asyncio.run(rt.groups.create(args.name, flt))
    finally:
        rt.close()
    info(f"Created the group '{args.name.strip()}'.")
    return 0


def cmd_group_remove(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        g = rt.groups.by_name(args.name)
        asyncio.run(rt.groups.delete(g.id))
    finally:
        rt.close()
    info(f"Deleted the group '{g.name}'. Its members are still in your contacts.")
    return 0


def cmd_members(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        g = rt.groups.by_name(args.name)
        if args.add:
            added = asyncio.run(rt.groups.add_members(g.id, [rt.contacts.find(r).id for r in args.add]))
            info(f"Added {added} to '{g.name}'.")
        if args.remove:
            gone = asyncio.run(rt.groups.remove_members(g.id, [rt.contacts.find(r).id for r in args.remove]))
            info(f"Removed {gone} from '{g.name}'.")
        page = rt.groups.members(g.id, ContactQuery(limit=100_000))
        _print_contacts(rt, list(page.rows), page.total, args.json)
    finally:
        rt.close()
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        group_id = None
        if args.group:
            try:
                group_id = rt.groups.by_name(args.group).id
            except NotFound:
                group_id = asyncio.run(rt.groups.create(args.group))
        done = asyncio.run(rt.contacts.import_file(Path(args.file), group_id))
    finally:
        rt.close()
    if args.json:
        print_json(
            {
                "added": done.added,
                "merged": done.merged,
                "skipped": [{"position": s.position, "reason": s.reason} for s in done.skipped],
                "group": args.group,
            }
        )
    else:
        info(f"Added {done.added}, merged {done.merged} into existing contacts, skipped {len(done.skipped)}.")
        for s in done.skipped:
            info(f"  {s.position}: {s.reason}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    path = Path(args.file)
    fmt = args.format or path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidInput(f"Name the file .csv, .xlsx or .vcf, or choose --format ({path.name} is neither).")
    rt = open_runtime(args)
    try:
        group_id = rt.groups.by_name(args.group).id if args.group else None
        count = rt.contacts.export(path, fmt, group_id)
    finally:
        rt.close()
    if args.json:
        print_json({"file": str(path), "format": fmt, "contacts": count})
    else:
        info(f"Wrote {count} contact(s) to {path}.")
    return 0
