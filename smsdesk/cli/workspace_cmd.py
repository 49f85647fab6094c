"""``smsdesk workspace create|join|show|leave|add-user|remove-user``: a team workspace.

A workspace is a PostgreSQL database that several desktops and an always-on relay
(``smsdesk serve``) share. The URL never carries a password: ``--password-stdin`` reads it
(or ``SMSDESK_SECRET_DATABASE_PASSWORD``), and ``join`` keeps it in the system keyring. A new
person's password is read from standard input too. Exit codes: 0 done, 2 bad input (a URL
with a password, a bad login name), 1 anything else (the server unreachable, a refused login).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smsdesk import workspace
from smsdesk.cli.common import info, print_json
from smsdesk.config.paths import resolve
from smsdesk.config.secrets import SecretStore
from smsdesk.config.settings import SettingsFile
from smsdesk.domain.errors import InvalidInput


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    w = subs.add_parser("workspace", help="share one PostgreSQL database between desktops", parents=[shared])
    verbs = w.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb, text in (
        ("create", "set up a new workspace (with the owner's login): schema and roles"),
        ("join", "use this workspace from now on (the local database is left as it is)"),
    ):
        p = verbs.add_parser(verb, help=text, parents=[shared])
        p.add_argument("url", metavar="URL", help="postgresql://user@server/database (no password)")
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=cmd_create if verb == "create" else cmd_join)
    mig = verbs.add_parser(
        "migrate", help="copy this computer's database into a new workspace (owner's login)", parents=[shared]
    )
    mig.add_argument("url", metavar="URL", help="postgresql://owner@server/database (no password)")
    mig.add_argument(
        "--from-sqlite",
        metavar="FILE",
        nargs="?",
        const="",
        required=True,
        help="the database to copy (default: this data folder's)",
    )
    mig.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    mig.add_argument("--json", action="store_true")
    mig.set_defaults(handler=cmd_migrate)
    show = verbs.add_parser("show", help="which workspace this desktop uses, and who is in it", parents=[shared])
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    leave = verbs.add_parser("leave", help="go back to this computer's own database", parents=[shared])
    leave.set_defaults(handler=cmd_leave)
    add = verbs.add_parser("add-user", help="a login for a person (password on standard input)", parents=[shared])
    add.add_argument("name", metavar="NAME")
    add.add_argument("--relay", action="store_true", help="a login for an always-on relay, not a person")
    add.set_defaults(handler=cmd_add_user)
    rm = verbs.add_parser("remove-user", help="stop a person's logins at once", parents=[shared])
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(handler=cmd_remove_user)
    bulk = verbs.add_parser(
        "bulk-sends", help="who may start bulk sends: the owner only, or everyone (owner's login)", parents=[shared]
    )
    bulk.add_argument("who", choices=["owners", "everyone"])
    bulk.set_defaults(handler=cmd_bulk_sends)
    exports = verbs.add_parser(
        "exports", help="who may export the address book: the owner only, or everyone (owner's login)", parents=[shared]
    )
    exports.add_argument("who", choices=["owners", "everyone"])
    exports.set_defaults(handler=cmd_exports)


def _settings(args: argparse.Namespace) -> SettingsFile:
    paths = resolve(getattr(args, "home", None))
    paths.prepare()
    return SettingsFile(paths.settings)


def _stdin_password(args: argparse.Namespace) -> str | None:
    if not getattr(args, "password_stdin", False):
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput("No password on standard input.")
    return password


def _current(args: argparse.Namespace, settings_file: SettingsFile) -> str:
    text = workspace.chosen(getattr(args, "database", None), settings_file.settings)
    if not text:
        raise InvalidInput(
            "This desktop uses its own database, not a workspace. Join one with 'smsdesk workspace join URL'."
        )
    return text


def _report(args: argparse.Namespace, joined: workspace.Joined, verb: str) -> None:
    f = joined.facts
    if getattr(args, "json", False):
        print_json(
            {
                "workspace": joined.url.text,
                "where": joined.url.display(),
                "user": f.user,
                "schema": f.schema,
                "server": f.server,
                "people": f.people,
                "relays": f.relays,
            }
        )
        return
    info(f"{verb} {joined.url.display()} as {f.user} (PostgreSQL {f.server}, schema {f.schema}).")
    info(f"People: {', '.join(f.people) or 'none yet (smsdesk workspace add-user NAME)'}")
    info(f"Relays: {', '.join(f.relays) or 'none yet (smsdesk workspace add-user NAME --relay)'}")


def cmd_create(args: argparse.Namespace) -> int:
    joined = workspace.create(args.url, SecretStore(), _stdin_password(args))
    _report(args, joined, "Set up")
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    joined = workspace.join(args.url, SecretStore(), _settings(args), _stdin_password(args))
    _report(args, joined, "Joined")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    paths = resolve(getattr(args, "home", None))
    source = Path(args.from_sqlite) if args.from_sqlite else paths.database
    counts = workspace.copy_in(
        args.url, SecretStore(), source, _stdin_password(args), lambda t, n: info(f"  {t}: {n:,} rows")
    )
    if args.json:
        print_json({"copied": counts, "from": str(source)})
    else:
        info(
            f"Copied {counts['messages']:,} messages, {counts['contacts']:,} contacts, {counts['templates']:,} "
            f"templates, {counts['schedules']:,} schedules and {counts['optouts']:,} opt-outs from {source}; "
            "every table's count matches. Desktops join with 'smsdesk workspace join URL'."
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    settings_file = _settings(args)
    joined = workspace.show(_current(args, settings_file), SecretStore())
    _report(args, joined, "Using")
    return 0


def cmd_leave(args: argparse.Namespace) -> int:
    left = workspace.leave(SecretStore(), _settings(args))
    if not left:
        info("This desktop already uses its own database.")
    else:
        info(f"Left {workspace.parse(left).display()}; this desktop uses its own database again.")
    return 0


def cmd_add_user(args: argparse.Namespace) -> int:
    settings_file = _settings(args)
    password = sys.stdin.readline().rstrip("\r\n")
    workspace.add_user(_current(args, settings_file), SecretStore(), args.name, password, args.relay)
    info(f"{args.name} can now log in to the workspace ({'relay' if args.relay else 'staff'}).")
    return 0


def cmd_bulk_sends(args: argparse.Namespace) -> int:
    return _limit(args, workspace.limit_bulk_sends, "start bulk sends")


def cmd_exports(args: argparse.Namespace) -> int:
    return _limit(args, workspace.limit_exports, "export the address book")


def _limit(args: argparse.Namespace, limit: Callable[[str, SecretStore, bool], None], what: str) -> int:
    """Give ``what`` to the owner only, or to everyone (``args.who``): the database's grants."""
    settings_file = _settings(args)
    limit(_current(args, settings_file), SecretStore(), args.who == "owners")
    info(
        f"Only the workspace's owner may {what} now."
        if args.who == "owners"
        else f"Everyone in the workspace may {what}."
    )
    return 0


def cmd_remove_user(args: argparse.Namespace) -> int:
    settings_file = _settings(args)
    ended = workspace.remove_user(_current(args, settings_file), SecretStore(), args.name)
    info(f"{args.name} can no longer log in" + (f"; {ended} open session(s) ended." if ended else "."))
    return 0
