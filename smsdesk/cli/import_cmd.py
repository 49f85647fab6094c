"""``smsdesk import FILE --account A [--map COLUMN=FIELD ...] [--country GB] [--template TEXT]
[--at ISO8601] [--dry-run] [--json]``: a spreadsheet to a validated, personalised bulk send.

``--dry-run --json`` prints the validation report as one JSON object: ``rows`` (data rows
read), ``accepted``, ``rejected``, ``by_reason``, ``file`` (``encoding`` used, ``doubt`` when the
characters may have been read wrong) and ``items`` (one per data row: ``row``, ``status``,
``number``, ``reason``, and ``segments`` / ``encoding`` when a template is given).
``--encoding`` reads the file with a given codec instead of detecting it. A file that is not
a spreadsheet (an image, a PDF, an archive, an old .xls) is refused with exit code 2.
Without ``--dry-run`` the send is queued as a bulk run and this command stays until
the run has left the outbox (or schedules it with ``--at`` and returns). ``--resume RUN``
continues a run that was interrupted (the app closed or killed): from the exact recipient,
nobody twice.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.cli.send import parse_at
from smsdesk.domain.errors import InvalidInput, SmsdeskError
from smsdesk.runtime import Runtime
from smsdesk.services.bulk_send import BulkSendService
from smsdesk.services.bulk_send_flow import BulkSendFlow
from smsdesk.services.imports.validate import REASONS, Report


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("import", help="validate a spreadsheet and send (or schedule) a bulk message", parents=[shared])
    p.add_argument("file", nargs="?", metavar="FILE", help="CSV, TSV, TXT or .xlsx")
    p.add_argument("--account", help="account to send from (required unless --resume)")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="map a column (header, number or letter) to phone, name or any merge field",
    )
    p.add_argument("--country", help="default country for numbers without a country code (default: settings)")
    p.add_argument(
        "--encoding",
        metavar="CODEC",
        help="read a text file in this encoding (e.g. cp1253, koi8_r, cp932) instead of detecting it",
    )
    p.add_argument("--template", metavar="TEXT", help="message with {{field}} / {{field|fallback}} ('-' reads stdin)")
    p.add_argument("--saved-template", metavar="NAME", help="the text of this saved template")
    p.add_argument("--at", metavar="ISO8601", help="schedule the send for this time")
    p.add_argument("--skip-contacts", action="store_true", help="skip numbers that are already contacts")
    p.add_argument("--group", metavar="NAME", help="save the accepted recipients as this contact group")
    p.add_argument("--rejects", metavar="PATH", help="write the rejected rows, with a reason column, as CSV")
    p.add_argument("--dry-run", action="store_true", help="validate only; nothing is stored or sent")
    p.add_argument("--resume", type=int, metavar="RUN", help="continue an interrupted bulk run")
    p.add_argument("--window", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the run (default 3600)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    if args.resume is None and not args.file:
        raise InvalidInput("Give the FILE to import (or --resume RUN).")
    if args.resume is None and not args.account:
        raise InvalidInput("Give the account to send from with --account NAME.")
    template = sys.stdin.read() if args.template == "-" else (args.template or "")
    if args.saved_template and template:
        raise InvalidInput("Give either --template or --saved-template, not both.")
    when = parse_at(args.at)
    if when is not None and when <= datetime.now(UTC):
        # Never "scheduled" for a time that has gone: that would send at once, from a command
        # that printed "Scheduled for ..." and started no dispatcher (``send --at`` refuses too).
        raise InvalidInput(f"--at {args.at} is in the past; pick a later time, or leave out --at to send now.")
    if args.saved_template:
        rt = open_runtime(args)
        try:
            template = rt.templates.by_name(args.saved_template).body
        finally:
            rt.close()
    if args.resume is None and not args.dry_run and not template.strip():
        raise InvalidInput("Give the message with --template TEXT (use --dry-run to only check the file).")
    rt = open_runtime(args)
    try:
        if args.resume is not None:
            return asyncio.run(_resume(rt, args))
        wiz, report = _check(rt, args, template)
        if args.dry_run:
            data = report.as_json()
            assert wiz.table is not None
            data["file"] = {"encoding": wiz.table.encoding, "doubt": wiz.table.encoding_doubt or None}
            _print_report(args, data, wiz)
            return 0
        return asyncio.run(_send(rt, args, wiz, when))
    finally:
        rt.close()


def _bulk_send(rt: Runtime, window: int) -> BulkSendService:
    """The runtime's bulk-send service, sending ``window`` rows at a time when given (``--window``)."""
    if window:
        rt.bulk_send.window = window
    return rt.bulk_send


def _check(rt: Runtime, args: argparse.Namespace, template: str) -> tuple[BulkSendFlow, Report]:
    """Read, map and validate (synchronous: nothing else runs yet)."""
    account = rt.accounts.by_name(args.account)
    wiz = BulkSendFlow(_bulk_send(rt, args.window), (args.country or rt.settings.default_region or "GB"))
    table = wiz.load(Path(args.file), encoding=args.encoding)
    if table.encoding_doubt:
        info(
            f"smsdesk: warning: {table.encoding_doubt} If names look wrong, give the file's encoding with "
            f"--encoding (this reading used {table.encoding}; others: cp1252, cp1250, cp1251, koi8_r, cp1253, "
            "cp1254, cp932, euc_jp)."
        )
    if args.map:
        wiz.apply_map(args.map)
    wiz.set_contact_policy("skip" if args.skip_contacts else "merge")
    wiz.set_account(account.id)
    report = wiz.set_template(template) if template.strip() else wiz.validate()
    if args.rejects:
        assert wiz.table is not None
        Path(args.rejects).write_text(report.rejects_csv(wiz.table), encoding="utf-8-sig")
    return wiz, report


async def _send(rt: Runtime, args: argparse.Namespace, wiz: BulkSendFlow, when: Any) -> int:
    report = wiz.report
    assert report is not None and wiz.account_id is not None
    account = rt.accounts.get(wiz.account_id)
    svc = wiz.runs
    assert svc is not None
    unknown = wiz.unknown_fields()
    if unknown:
        raise InvalidInput(
            "No column gives "
            + ", ".join("{{" + f + "}}" for f in unknown)
            + "; map one with --map COLUMN=FIELD or add a fallback {{field|text}}."
        )
    await rt.start_for(account, dispatcher=when is None)
    try:
        wiz.set_schedule(when)
        wiz.set_group(args.group)
        run_id = await wiz.start()
        info(f"Run {run_id}: {report.accepted} of {report.rows} rows accepted, {report.rejected} rejected.")
        if when is not None:
            info(f"Scheduled for {when.isoformat()}.")
            _print_report(args, svc.summary(run_id), None)
            return 0
        return await _wait(svc, run_id, args)
    finally:
        svc.stop()
        await rt.stop()


async def _resume(rt: Runtime, args: argparse.Namespace) -> int:
    svc = _bulk_send(rt, args.window)
    run = svc.get(args.resume)
    account = rt.accounts.get(run.account_id)
    await rt.start_for(account)
    try:
        if run.state == "paused":
            await svc.resume(run.id)
        info(f"Resuming run {run.id} ({run.state}).")
        return await _wait(svc, run.id, args)
    finally:
        svc.stop()
        await rt.stop()


async def _wait(svc: BulkSendService, run_id: int, args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    last = ""
    while True:
        p = svc.progress(run_id)
        line = f"run {run_id}: {p.finished}/{p.accepted} done, {p.sending} sending, {p.waiting} waiting"
        if line != last and not args.json:
            info(line)
            last = line
        if p.done or p.state == "scheduled":
            break
        if time.monotonic() > deadline:
            _print_report(args, svc.summary(run_id), None)
            raise SmsdeskError(f"Timed out after {args.timeout:.0f} s; resume with --resume {run_id}.")
        await asyncio.sleep(0.2)
    summary = svc.summary(run_id)
    _print_report(args, summary, None)
    return 0 if not (summary["failed"] or summary["needs_review"]) else 1


def _print_report(args: argparse.Namespace, data: dict[str, Any], wiz: BulkSendFlow | None) -> None:
    if args.json:
        print_json(data)
        return
    print(f"rows {data.get('rows')}: accepted {data.get('accepted')}, rejected {data.get('rejected')}")
    for code, n in (data.get("by_reason") or {}).items():
        print(f"  {REASONS.get(code, code)}: {n}")
    if wiz is not None:
        for it in data.get("items", []):
            if it["status"] == "rejected":
                print(f"  row {it['row']}: {it.get('detail') or it.get('reason')}")
    for key in ("sent", "delivered", "failed", "needs_review", "cancelled", "scheduled"):
        if data.get(key):
            print(f"  {key.replace('_', ' ')}: {data[key]}")
    if "total_segments" in data:
        cost = data["estimated_cost"]
        print(f"  segments {data['total_segments']}, " + ("cost unknown" if cost is None else f"estimated cost {cost}"))
