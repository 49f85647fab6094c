"""``smsdesk ...``: the command line over the same services as the GUI (a composition root).

Sub-commands are modules registered explicitly in :data:`COMMANDS`; each exposes
``register(subparsers, common)``. No sub-command starts the GUI (that is ``smsdesk-gui``).
Exit codes: 0 ok, 2 bad input, 1 any other failure; errors go to stderr in plain words, and
``--json`` output on stdout is never mixed with log lines.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from smsdesk import __version__
from smsdesk.cli import (
    accounts,
    autoreplies_cmd,
    backup_cmd,
    common,
    contacts_cmd,
    conversations,
    import_cmd,
    messages,
    optouts,
    queue,
    report_cmd,
    review,
    sandbox_cmd,
    send,
    serve,
    templates_cmd,
    workspace_cmd,
)
from smsdesk.domain.errors import InvalidInput, SmsdeskError

COMMANDS = (
    accounts,
    send,
    messages,
    serve,
    sandbox_cmd,
    conversations,
    optouts,
    contacts_cmd,
    templates_cmd,
    autoreplies_cmd,
    import_cmd,
    queue,
    review,
    report_cmd,
    backup_cmd,
    workspace_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "--home",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data directory (overrides SMSDESK_HOME and the platform default)",
    )
    shared.add_argument(
        "--database",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="use this team workspace for one run (postgresql://user@server/db; also SMSDESK_DATABASE_URL)",
    )
    shared.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output on stderr")
    parser = argparse.ArgumentParser(
        prog="smsdesk",
        description="Desktop SMS console (command line). Start the window with smsdesk-gui.",
        parents=[shared],
    )
    parser.add_argument("--version", action="version", version=f"smsdesk {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(subs, shared)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage; bad input is exit 2
        return int(exc.code or 0)
    common.setup_logging(getattr(args, "verbose", 0) or 0)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except InvalidInput as exc:
        common.error(str(exc))
        return 2
    except SmsdeskError as exc:
        common.error(str(exc))
        return 1
    except KeyboardInterrupt:
        common.error("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: a sentence, not a traceback
        logging.getLogger("smsdesk").debug("unexpected failure", exc_info=True)
        common.error(f"unexpected failure: {type(exc).__name__}: {exc}")
        return 1
