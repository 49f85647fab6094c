"""``smsdesk backup [FILE]`` and ``smsdesk restore FILE``.

``backup`` writes a consistent copy of the database while smsdesk runs (the app, ``serve``):
to FILE (a new file, or a folder for a dated file), else into the backup folder (Settings ->
Data). ``restore`` replaces the database with a backup: it refuses, naming them, while other
smsdesk processes have the database open, and refuses a damaged file or one from a newer
smsdesk; the replaced database is kept aside. API keys are never in a backup: it lists the
accounts whose keys this computer's keyring lacks. Exit codes: 0 done; 2 the FILE is wrong
(missing, exists, damaged, newer); 1 anything else (smsdesk still running).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.config.paths import resolve
from smsdesk.runtime import Runtime, backup_files
from smsdesk.services import backup as backups


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    b = subs.add_parser(
        "backup", help="write a consistent copy of the database (also while smsdesk runs)", parents=[shared]
    )
    b.add_argument("file", nargs="?", metavar="FILE", help="a new file, or a folder (default: the backup folder)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(handler=cmd_backup)
    r = subs.add_parser(
        "restore", help="replace the database with a backup (smsdesk must not be running)", parents=[shared]
    )
    r.add_argument("file", metavar="FILE", help="a backup written by smsdesk backup or Settings -> Data")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        facts = asyncio.run(rt.backups.back_up(Path(args.file) if args.file else None))
    finally:
        rt.close()
    if args.json:
        print_json(
            {
                "path": str(facts.path),
                "messages": facts.messages,
                "accounts": [a for a, _ in facts.accounts],
                "size": facts.size,
                "taken_at": facts.taken_at,
            }
        )
    else:
        info(f"Backed up {backups.describe(facts)} to {facts.path}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    paths = resolve(getattr(args, "home", None))
    result = backups.restore(paths, Path(args.file).expanduser(), backup_files(paths))
    rt = Runtime.open(str(paths.home), role="smsdesk restore")
    try:
        missing = rt.backups.missing_keys()
    finally:
        rt.close()
    if args.json:
        print_json(
            {
                "restored": str(result.source),
                "messages": result.facts.messages,
                "kept_aside": str(result.aside) if result.aside else None,
                "keys_to_enter": [{"account": a, "provider": p, "fields": f} for a, p, f in missing],
            }
        )
        return 0
    info(f"Restored {backups.describe(result.facts)} from {result.source}.")
    if result.aside:
        info(f"The data it replaced is kept at {result.aside}.")
    if missing:
        info(
            "API keys are kept in this computer's keyring, never in a backup. Enter them again in the "
            "smsdesk window (Settings -> Accounts) for:"
        )
        for account, provider, fields in missing:
            info(f"  {account} ({provider}): {', '.join(fields)}")
    return 0
