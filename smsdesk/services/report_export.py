"""Exports: a report's tables and the message log as CSV or ``.xlsx``, written whole or not at all.

- CSV is UTF-8 with a byte-order mark (so Excel reads accents and emoji), numbers in E.164, times
  in UTC as stored: nothing per row but the row itself, so a million messages take seconds.
- ``.xlsx`` stores numbers as text (Excel would drop the ``+``), adds each number as it is
  dialled at home (formatted once per distinct number) and shows times in the business's zone.
- Every file is written to a temporary file beside the target and moved into place at the end:
  a full disk or a folder that cannot be written leaves nothing half-written behind.

The PDF report is drawn by Qt (``smsdesk.ui.report_pdf``) from the same :func:`report_tables`.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from smsdesk.domain.errors import InvalidInput, SmsdeskError
from smsdesk.domain.phone import display
from smsdesk.services.reports import Report, duration_text, percent_text
from smsdesk.storage.report_records import LogFilter, LogRow

Progress = Callable[[int], None]


class LogSource(Protocol):
    def message_log(self, f: LogFilter, batch: int = 5000) -> Iterator[list[LogRow]]: ...


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"

    @classmethod
    def of(cls, path: Path | str) -> ExportFormat:
        """The format a file name asks for (``report.xlsx`` -> XLSX).

        Raises:
            InvalidInput: the name ends in something else.
        """
        suffix = Path(path).suffix.lower().lstrip(".")
        try:
            return cls(suffix)
        except ValueError:
            raise InvalidInput(f"'{Path(path).name}' should end in .csv, .xlsx or .pdf.") from None


class ExportError(SmsdeskError):
    """The export could not be written; the message says why in plain words."""


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, moved onto it when the block ends without error.

    Raises:
        ExportError: the folder is missing or cannot be written, or the disk is full.
    """
    path = Path(path)
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix + ".part", dir=folder)
    except FileNotFoundError:
        raise ExportError(f"The folder {folder} does not exist. Choose another folder.") from None
    except OSError as exc:
        raise ExportError(f"Cannot write in {folder}: {exc.strerror or exc}. Choose another folder.") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"Could not write {path.name}: {exc.strerror or exc}. Nothing was saved.") from None
    finally:
        tmp.unlink(missing_ok=True)


# -- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of text and numbers: one CSV section, one spreadsheet sheet, one PDF table."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def _money_cells(cost: dict[str, Any], unknown: int, currencies: Sequence[str]) -> list[Any]:
    return [f"{cost[c]:.2f}" if c in cost else "" for c in currencies] + ([unknown] if unknown else [])


def compact_sends(report: Report) -> Table:
    """The sends as a page of paper has room for: what and when, then the numbers."""
    return Table(
        "Sends",
        ("Send", "Recipients", "Delivered", "Failed", "Replied", "Opted out", "Cost"),
        tuple(
            (f"{s.started_at.strftime('%d %b %H:%M')} · {s.kind_text}: {s.title}", s.recipients, s.delivered,
             s.failed, s.replied, s.opted_out, s.cost.text)
            for s in report.sends
        ),
    )  # fmt: skip


def report_tables(report: Report, account_names: dict[int, str] | None = None, compact: bool = False) -> list[Table]:
    """Every table of a report, in the order the page and the PDF show them (``compact``: the
    sends with fewer columns, for a printed page)."""
    names = account_names or {}
    h = report.headline
    currencies = report.currencies
    figures: list[tuple[str, Any]] = [
        ("Messages sent", h.sent),
        ("Parts sent", h.parts),
        ("Delivered", h.delivered),
        ("Failed", h.failed),
        ("Waiting for a receipt", h.pending),
        ("Delivered rate", percent_text(h.delivered_rate)),
        ("Cost", h.cost.text),
        ("Replies received", h.received),
        ("Reply rate", percent_text(h.reply_rate)),
        ("New opt-outs", h.new_optouts),
        ("Median time to first reply by staff", duration_text(h.median_answer_s)),
        ("Automatic replies sent", h.automatic),
    ]
    unknown = any(b.unknown_parts for b in report.buckets)
    step = report.step.capitalize()
    per_bucket = Table(
        f"Messages per {report.step}",
        (step, "Delivered", "Failed", "Pending", "Replies received", *(f"Cost ({c})" for c in currencies))
        + (("Parts at an unknown price",) if unknown else ()),
        tuple(
            (b.first.isoformat(), b.delivered, b.failed, b.pending, b.received)
            + tuple(_money_cells(b.cost, b.unknown_parts, currencies))
            + ((0,) if unknown and not b.unknown_parts else ())
            for b in report.buckets
        ),
    )
    hours = Table(
        "Replies by hour of the day",
        ("Hour", "Replies"),
        tuple((f"{i:02d}:00", n) for i, n in enumerate(report.reply_hours)),
    )
    failures = Table(
        "Why messages failed", ("Reason", "Messages"), tuple((f.reason, f.messages) for f in report.failures)
    )
    sends = compact_sends(report) if compact else Table(
        "Sends",
        ("Started", "Kind", "Send", "Account", "Recipients", "Delivered", "Failed", "Pending", "Replied", "Reply rate",
         "Opted out after", "Cost"),
        tuple(
            (s.started_at.strftime("%Y-%m-%d %H:%M"), s.kind_text, s.title, names.get(s.account_id, str(s.account_id)),
             s.recipients, s.delivered, s.failed, s.pending, s.replied, percent_text(s.reply_rate), s.opted_out,
             s.cost.text)
            for s in report.sends
        ),
    )  # fmt: skip
    return [Table("Summary", ("Figure", "Value"), tuple(figures)), per_bucket, hours, failures, sends]


def _title_lines(report: Report, account: str) -> list[str]:
    who = report.business or "smsdesk"
    return [f"{who}: report for {report.period.text}", f"Account: {account}; times in {report.zone}"]


def export_report(
    report: Report, path: Path, account: str = "All accounts", names: dict[int, str] | None = None
) -> None:
    """Write ``report`` as CSV (its tables one after another) or ``.xlsx`` (a sheet per table).

    Raises:
        ExportError: the file could not be written (nothing is left behind).
        InvalidInput: the file name asks for another format.
    """
    fmt = ExportFormat.of(path)
    tables = report_tables(report, names)
    with written_whole(path) as tmp:
        if fmt is ExportFormat.CSV:
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                for line in _title_lines(report, account):
                    w.writerow([line])
                for t in tables:
                    w.writerow([])
                    w.writerow([t.title])
                    w.writerow(t.header)
                    w.writerows(t.rows)
        elif fmt is ExportFormat.XLSX:
            _xlsx(tmp, [(t.title, t.header, iter(t.rows)) for t in tables], _title_lines(report, account))
        else:
            raise InvalidInput("A PDF report is written by smsdesk.ui.report_pdf.")


# -- the message log ---------------------------------------------------------------------------

LOG_HEADER = (
    "Time (UTC)", "Account", "Direction", "Number", "Contact", "Text", "Status", "Reason", "Parts",
    "Price per part", "Currency", "Automatic",
)  # fmt: skip


def export_log(
    source: LogSource, f: LogFilter, path: Path, *, zone: ZoneInfo | None = None, region: str | None = None,
    progress: Progress | None = None,
) -> int:  # fmt: skip
    """Write the messages matching ``f`` (oldest first) to ``path`` (.csv or .xlsx); returns how many.

    Raises:
        ExportError: the file could not be written (nothing is left behind).
        InvalidInput: the file name asks for a PDF or an unknown format.
    """
    fmt = ExportFormat.of(path)
    if fmt is ExportFormat.PDF:
        raise InvalidInput("The message log is exported as .csv or .xlsx (a PDF is for reports).")
    count = 0

    def batches() -> Iterator[list[LogRow]]:
        nonlocal count
        for batch in source.message_log(f):
            count += len(batch)
            yield batch
            if progress is not None:
                progress(count)

    with written_whole(path) as tmp:
        if fmt is ExportFormat.CSV:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                _log_csv(fh, batches())
        else:
            header = (LOG_HEADER[0].replace("UTC", zone.key if zone else "UTC"), *LOG_HEADER[1:4], "Number as dialled",
                      *LOG_HEADER[4:])  # fmt: skip
            rows = _xlsx_log_rows(batches(), zone or ZoneInfo("UTC"), region)
            _xlsx(tmp, [("Messages", header, rows)], [], text_columns={3, 4})
    return count


def _log_csv(fh: TextIO, batches: Iterator[list[LogRow]]) -> None:
    fh.write("\ufeff")  # the byte-order mark Excel looks for (utf-8-sig would encode per write)
    w = csv.writer(fh)
    w.writerow(LOG_HEADER)
    for batch in batches:
        w.writerows(batch)


def _xlsx_log_rows(batches: Iterator[list[LogRow]], zone: ZoneInfo, region: str | None) -> Iterator[tuple[Any, ...]]:
    dialled: dict[str, str] = {}  # national formatting costs ~20 us: once per distinct number
    for batch in batches:
        for r in batch:
            shown = dialled.get(r.number)
            if shown is None:
                shown = dialled[r.number] = display(r.number, region)
            at = datetime.fromisoformat(r.at).astimezone(zone).replace(tzinfo=None)
            yield (at, r.account, r.direction, r.number, shown, *r[4:])


def _xlsx(
    path: Path,
    sheets: Sequence[tuple[str, Sequence[str], Iterator[tuple[Any, ...]]]],
    title_lines: Sequence[str],
    text_columns: set[int] | None = None,
) -> None:
    import openpyxl  # only an .xlsx export pays for loading it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(_sheet_name(title))
        bold = Font(bold=True)
        for line in title_lines:
            ws.append([line])
        if title_lines:
            ws.append([])
        ws.append([_styled(WriteOnlyCell(ws, value=h), font=bold) for h in header])
        for row in rows:
            cells: list[Any] = []
            for i, value in enumerate(row):
                if text_columns and i in text_columns:
                    cells.append(_styled(WriteOnlyCell(ws, value=str(value)), number_format="@"))
                elif isinstance(value, datetime):
                    cells.append(_styled(WriteOnlyCell(ws, value=value), number_format="yyyy-mm-dd hh:mm:ss"))
                else:
                    cells.append(value)
            ws.append(cells)
    wb.save(path)


def _styled(cell: Any, **attrs: Any) -> Any:
    for k, v in attrs.items():
        setattr(cell, k, v)
    return cell


def _sheet_name(title: str) -> str:
    bad = set("[]:*?/\\")
    return "".join(c for c in title if c not in bad)[:31] or "Sheet"
