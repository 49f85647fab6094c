"""``smsdesk accounts add|list|show|remove|test``.

Secrets never come from argv: ``--secret-stdin FIELD`` reads one from standard input, and
``SMSDESK_SECRET_<FIELD>`` environment variables supply the others.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.models import Account
from smsdesk.providers import registry
from smsdesk.runtime import Runtime


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("accounts", help="add, list, show, remove and test provider accounts", parents=[shared])
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = asub.add_parser("add", help="add an account", parents=[shared])
    add.add_argument("--provider", required=True, choices=[s.id for s in registry.specs()])
    add.add_argument("--name", required=True)
    add.add_argument("--base-url", default="")
    add.add_argument("--sender", default="")
    add.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a non-secret field")
    add.add_argument("--secret-stdin", metavar="FIELD", help="read this secret field from standard input")
    add.set_defaults(handler=cmd_add)

    edit = asub.add_parser("edit", help="change an account's fields (prices, limits, sender...)", parents=[shared])
    edit.add_argument("name")
    edit.add_argument("--base-url", default="")
    edit.add_argument("--sender", default="")
    edit.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a non-secret field")
    edit.add_argument("--secret-stdin", metavar="FIELD", help="read this secret field from standard input")
    edit.set_defaults(handler=cmd_edit)

    ls = asub.add_parser("list", help="list accounts", parents=[shared])
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = asub.add_parser("show", help="show one account", parents=[shared])
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    rm = asub.add_parser("remove", help="remove an account (its message history is kept)", parents=[shared])
    rm.add_argument("name")
    rm.set_defaults(handler=cmd_remove)

    keys = asub.add_parser(
        "secrets", help="which computers hold an account's keys (a team workspace)", parents=[shared]
    )
    keys.add_argument("name")
    keys.add_argument("--json", action="store_true")
    keys.set_defaults(handler=cmd_secrets)

    test = asub.add_parser("test", help="make a real authenticated call to the provider", parents=[shared])
    test.add_argument("name")
    test.set_defaults(handler=cmd_test)


def _values(args: argparse.Namespace, provider: str | None = None) -> dict[str, str]:
    spec = registry.get_spec(provider or args.provider)
    values: dict[str, str] = {}
    if args.base_url:
        values["base_url"] = args.base_url
    if args.sender:
        values["sender"] = args.sender
    for item in args.set:
        if "=" not in item:
            raise InvalidInput(f"--set needs FIELD=VALUE, got '{item}'.")
        key, value = item.split("=", 1)
        fld = spec.field(key.strip())
        if fld is not None and fld.secret:
            raise InvalidInput(
                f"'{key}' is a secret and is never taken from the command line; use --secret-stdin {key} "
                f"or the environment variable SMSDESK_SECRET_{key.upper()}."
            )
        values[key.strip()] = value
    for name in spec.secret_fields:
        env = os.environ.get(f"SMSDESK_SECRET_{name.upper()}")
        if env:
            values[name] = env
    if args.secret_stdin:
        asked = spec.field(args.secret_stdin)
        if asked is None or not asked.secret:
            raise InvalidInput(f"'{args.secret_stdin}' is not a secret field of {spec.name}.")
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise InvalidInput(f"No value for {args.secret_stdin} on standard input.")
        values[args.secret_stdin] = secret
    return values


def describe(rt: Runtime, account: Account) -> dict[str, Any]:
    spec = rt.accounts.spec(account)
    secrets_set: dict[str, bool | None] = {}
    for name in spec.secret_fields:
        try:
            secrets_set[name] = bool(rt.accounts.secret(account, name))
        except Exception:  # noqa: BLE001 - listing must work without a keyring
            secrets_set[name] = None  # unknown: the keyring could not be asked
    return {
        "name": account.name,
        "provider": account.provider,
        "base_url": account.base_url or spec.default_base_url,
        "sender": account.sender,
        "settings": account.settings,
        "secrets_set": secrets_set,
        "webhook_url": rt.accounts.webhook_url(account),
        "created_at": account.created_at,
    }


def cmd_add(args: argparse.Namespace) -> int:
    values = _values(args)
    rt = open_runtime(args)
    try:
        existing = rt.accounts.repo.by_name(args.name) if rt.accounts.keys_per_computer else None
        if existing is not None:
            # A team workspace shares the account row; this relay keeps its own copy of the keys.
            if existing.provider != args.provider:
                raise InvalidInput(
                    f"The workspace's account '{existing.name}' is a {existing.provider} account, "
                    f"not {args.provider}: choose another name."
                )
            account = asyncio.run(rt.accounts.add_keys(args.name, values))
            info(f"Kept this computer's copy of the keys of '{account.name}': it can send with them.")
            return 0
        account = asyncio.run(rt.accounts.add(args.name, args.provider, values))
        info(f"Added account '{account.name}' ({account.provider}).")
        if rt.accounts.keys_per_computer and rt.accounts.holds_keys(account):
            info("Its keys are kept on this computer only: run the same command on every relay that sends with it.")
        elif rt.accounts.keys_per_computer:
            info("No keys were given: its messages wait until a relay adds them (the same command, with the keys).")
    finally:
        rt.close()
    return 0


def cmd_secrets(args: argparse.Namespace) -> int:
    """Which computers hold an account's keys: this one, and the running relays."""
    rt = open_runtime(args)
    try:
        account = rt.accounts.by_name(args.name)
        here = rt.accounts.holds_keys(account)
        relays = rt.relay.key_holders(account.id)
    finally:
        rt.close()
    if args.json:
        print_json({"account": account.name, "this_computer": here, "relays": relays})
        return 0
    info(f"This computer {'holds' if here else 'does not hold'} the keys of '{account.name}'.")
    if relays:
        info("Running relays that hold them: " + ", ".join(relays) + ".")
    else:
        info(
            "No running relay holds them: its messages wait. On a relay, run "
            f"'smsdesk accounts add --name \"{account.name}\" --provider {account.provider} --secret-stdin ...'."
        )
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        account = rt.accounts.by_name(args.name)
        values = {"sender": account.sender, **_values(args, account.provider)}
        if not args.set and len(values) == 1 and not args.base_url and not args.sender:
            raise InvalidInput("Say what to change: --set FIELD=VALUE (repeat for several), --sender or --base-url.")
        account = asyncio.run(rt.accounts.update(account, values))
        info(f"Saved account '{account.name}'.")
    finally:
        rt.close()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        rows = [describe(rt, a) for a in rt.accounts.all()]
    finally:
        rt.close()
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['name']:<20} {r['provider']:<10} {r['sender'] or '-':<12} {r['base_url']}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        data = describe(rt, rt.accounts.by_name(args.name))
    finally:
        rt.close()
    if args.json:
        print_json(data)
    else:
        for key, value in data.items():
            print(f"{key}: {value}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        account = rt.accounts.by_name(args.name)
        asyncio.run(rt.accounts.remove(account))
        info(f"Removed account '{account.name}'. Its message history is kept.")
    finally:
        rt.close()
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    rt = open_runtime(args)

    async def run() -> str:
        account = rt.accounts.by_name(args.name)
        if rt.sandbox_host.needed_for(account):  # the Sandbox account is tested against our own sandbox
            await rt.start_for(account, dispatcher=False)
            account = rt.accounts.by_name(args.name)
        try:
            return await rt.accounts.test(account)
        finally:
            await rt.stop()

    try:
        print(asyncio.run(run()))
    finally:
        rt.close()
    return 0
