"""``smsdesk report`` and ``smsdesk export messages``: what was sent, delivered, replied and spent.

``report`` prints the headline figures (or ``--json``), or writes the whole report with
``--csv/--xlsx/--pdf FILE``. ``export messages`` writes the message log, filtered by period,
account, status, direction, contact or group, as ``--csv`` or ``--xlsx``; ``--contact`` with one
number is a conversation's export.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from smsdesk.cli.common import info, open_runtime, print_json
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.report_export import export_log, export_report, report_tables
from smsdesk.services.reports import LogFilter, PeriodKind, Report, duration_text, percent_text, period

PERIODS = [k.value for k in PeriodKind if k is not PeriodKind.CUSTOM]


def register(subs: Any, shared: argparse.ArgumentParser) -> None:
    p = subs.add_parser("report", help="delivered, failed, cost and replies for a period", parents=[shared])
    _period_args(p, default="30d")
    p.add_argument("--account", default=None, help="one account (default: all)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="every figure and table as JSON")
    out.add_argument("--csv", type=Path, metavar="FILE", help="write the report as CSV")
    out.add_argument("--xlsx", type=Path, metavar="FILE", help="write the report as an Excel workbook")
    out.add_argument("--pdf", type=Path, metavar="FILE", help="write the report as a PDF with its charts")
    p.set_defaults(handler=cmd_report)

    e = subs.add_parser("export", help="export the message log as CSV or Excel", parents=[shared])
    what = e.add_subparsers(dest="what", metavar="WHAT", required=True)
    m = what.add_parser("messages", help="messages matching the filters, oldest first", parents=[shared])
    _period_args(m, default="all")
    m.add_argument("--account", default=None)
    m.add_argument("--status", action="append", default=[], choices=[s.value for s in Status], help="repeatable")
    m.add_argument("--direction", choices=["in", "out"], default=None)
    m.add_argument("--contact", default=None, help="a number or a contact's name (their conversation)")
    m.add_argument("--group", default=None, help="messages with the members of this group")
    to = m.add_mutually_exclusive_group(required=True)
    to.add_argument("--csv", type=Path, metavar="FILE")
    to.add_argument("--xlsx", type=Path, metavar="FILE")
    m.set_defaults(handler=cmd_export_messages)


def _period_args(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--period", choices=PERIODS, default=default, help=f"default: {default}")
    p.add_argument("--from", dest="first", type=_day, default=None, metavar="YYYY-MM-DD", help="a custom period")
    p.add_argument("--to", dest="last", type=_day, default=None, metavar="YYYY-MM-DD")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-03-31") from None


def _period(rt: Runtime, args: argparse.Namespace) -> Any:
    today = rt.reports.today()
    if args.first is not None or args.last is not None:
        try:
            return period(PeriodKind.CUSTOM, today, args.first or args.last, args.last or today)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    return period(args.period, today)


def _target(args: argparse.Namespace, *flags: str) -> Path | None:
    """The file a ``--csv/--xlsx/--pdf FILE`` option names; its name must end as the option says."""
    for flag in flags:
        path: Path | None = getattr(args, flag, None)
        if path is not None:
            if path.suffix.lower() != f".{flag}":
                raise InvalidInput(f"--{flag} needs a file name ending in .{flag} (not '{path.name}').")
            return path
    return None


def _account(rt: Runtime, name: str | None) -> tuple[int | None, str]:
    if not name:
        return None, "All accounts"
    a = rt.accounts.by_name(name)
    return a.id, a.name


def cmd_report(args: argparse.Namespace) -> int:
    target = _target(args, "csv", "xlsx", "pdf")
    rt = open_runtime(args)
    try:
        account_id, account = _account(rt, args.account)
        report = rt.reports.build(_period(rt, args), account_id)
        names = {a.id: a.name for a in rt.accounts.all()}
        if args.pdf:
            from smsdesk.ui.report_pdf import write_pdf  # Qt is loaded only for a PDF

            write_pdf(report, args.pdf, account, names)
        elif target is not None:
            export_report(report, target, account, names)
    finally:
        rt.close()
    if target:
        info(f"Wrote the report for {report.period.text} to {target}.")
    elif args.json:
        print_json(_json(report, names))
    else:
        _print(report, account)
    return 0


def _print(report: Report, account: str) -> None:
    h = report.headline
    print(f"{report.business or 'smsdesk'}: {report.period.text} ({account}, times in {report.zone})")
    if report.is_empty:
        print("No messages were sent or received in this period.")
        return
    [summary, *_] = report_tables(report)
    width = max(len(str(k)) for k, _ in summary.rows)
    for k, v in summary.rows:
        print(f"  {k:<{width}}  {v:,}" if isinstance(v, int) else f"  {k:<{width}}  {v}")
    if report.failures:
        print("Why messages failed:")
        for f in report.failures[:10]:
            print(f"  {f.messages:>7,}  {f.reason}")
    if report.sends:
        print(f"Sends: {len(report.sends)} (see --json, --xlsx or --pdf for each)")
    del h


def _json(report: Report, names: dict[int, str]) -> dict[str, Any]:
    h = report.headline
    return {
        "period": {"kind": report.period.kind.value, "text": report.period.text,
                   "first": report.period.first, "last": report.period.last},
        "zone": report.zone,
        "business": report.business,
        "account_id": report.account_id,
        "headline": {
            "sent": h.sent, "parts": h.parts, "delivered": h.delivered, "failed": h.failed, "pending": h.pending,
            "delivered_rate": h.delivered_rate, "received": h.received, "replied": h.replied,
            "reply_rate": h.reply_rate, "new_optouts": h.new_optouts, "automatic": h.automatic,
            "median_time_to_first_reply_s": h.median_answer_s,
            "median_time_to_first_reply": duration_text(h.median_answer_s),
            "cost": {c: str(v) for c, v in h.cost.by_currency.items()}, "cost_unknown_parts": h.cost.unknown_parts,
            "cost_text": h.cost.text,
        },
        "step": report.step,
        "buckets": [
            {"first": b.first, "delivered": b.delivered, "failed": b.failed, "pending": b.pending,
             "received": b.received, "cost": {c: str(v) for c, v in b.cost.items()},
             "cost_unknown_parts": b.unknown_parts}
            for b in report.buckets
        ],
        "reply_hours": list(report.reply_hours),
        "failures": [{"reason": f.reason, "messages": f.messages} for f in report.failures],
        "sends": [
            {"kind": s.kind, "id": s.run_id, "source": s.source, "started_at": s.started_at, "title": s.title,
             "account": names.get(s.account_id, ""), "recipients": s.recipients, "delivered": s.delivered,
             "failed": s.failed, "pending": s.pending, "replied": s.replied, "reply_rate": percent_text(s.reply_rate),
             "opted_out": s.opted_out, "cost": s.cost.text}
            for s in report.sends
        ],
    }  # fmt: skip


def cmd_export_messages(args: argparse.Namespace) -> int:
    target = _target(args, "csv", "xlsx")
    assert target is not None  # argparse requires one of them
    rt = open_runtime(args)
    try:
        p = _period(rt, args)
        start, end = rt.reports.bounds(p)
        account_id, _ = _account(rt, args.account)
        numbers: list[str] = []
        if args.contact:
            numbers = rt.contacts.numbers_for(args.contact)
        if args.group:
            members = rt.groups.member_numbers(rt.groups.by_name(args.group).id)
            numbers = [n for n in numbers if n in set(members)] if args.contact else members
            if not numbers:
                raise InvalidInput(f"The group '{args.group}' has nobody with a number in it.")
        f = LogFilter(
            start=None if p.first is None else start,
            end=end,
            account_ids=() if account_id is None else (account_id,),
            statuses=tuple(args.status),
            directions=(args.direction,) if args.direction else (),
            numbers=tuple(numbers),
        )
        n = export_log(rt.reports, f, target, zone=rt.reports.zone(), region=rt.settings.default_region)
    finally:
        rt.close()
    info(f"Wrote {n:,} message{'s' if n != 1 else ''} to {target}.")
    return 0
