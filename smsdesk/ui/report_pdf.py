"""A report as a PDF for the owner, drawn with Qt's own PDF writer (no other PDF library).

A4 pages: the business's name and the period at the top, the headline figures, the charts
(painted by :mod:`smsdesk.ui.charts` at print resolution, light colours whatever the screen's
theme) and every table, split across pages with its header repeated. Written through
:func:`smsdesk.services.report_export.written_whole`, so a failure leaves nothing behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPalette,
    QPdfWriter,
)

from smsdesk.services.report_export import Table, report_tables, written_whole
from smsdesk.services.reports import Report
from smsdesk.ui.charts.chart import Chart
from smsdesk.ui.report_charts import report_charts

_DPI = 300
_INK = QColor("#1d2430")
_MUTED = QColor("#5b6472")
_RULE = QColor("#d5d9e0")


def ensure_gui_app() -> None:
    """Qt needs an application object to lay out text; the command line has none (and maybe no
    display), so it gets an offscreen one."""
    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QGuiApplication(["smsdesk"])


def _light_palette() -> QPalette:
    p = QPalette()
    p.setColor(QPalette.ColorRole.Window, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.WindowText, _INK)
    p.setColor(QPalette.ColorRole.Text, _INK)
    p.setColor(QPalette.ColorRole.Mid, _RULE)
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2f6fde"))
    p.setColor(QPalette.ColorRole.PlaceholderText, _MUTED)
    return p


class _Pages:
    """Draws top to bottom, starting a new page when the next piece does not fit."""

    def __init__(self, writer: QPdfWriter, painter: QPainter, footer: str) -> None:
        self.writer = writer
        self.painter = painter
        self.footer = footer
        self.page = 1
        self.area = QRectF(writer.pageLayout().paintRectPixels(writer.resolution()))
        self.area.moveTo(0, 0)
        self.body = self.area.adjusted(0, 0, 0, -self.mm(8))
        self.y = 0.0
        self.fonts = {
            "title": self._font(16, bold=True),
            "h2": self._font(11.5, bold=True),
            "text": self._font(9),
            "bold": self._font(9, bold=True),
            "small": self._font(7.5),
        }

    def mm(self, v: float) -> float:
        return v * self.writer.resolution() / 25.4

    def _font(self, points: float, *, bold: bool = False) -> QFont:
        f = QFont(QGuiApplication.font())
        f.setPointSizeF(points)
        f.setBold(bold)
        return f

    def line_height(self, kind: str) -> float:
        return QFontMetricsF(self.fonts[kind], self.writer).height()

    def room(self, height: float) -> None:
        if self.y + height > self.body.bottom():
            self.new_page()

    def new_page(self) -> None:
        self._footer()
        self.writer.newPage()
        self.page += 1
        self.y = 0.0

    def _footer(self) -> None:
        p = self.painter
        p.setFont(self.fonts["small"])
        p.setPen(_MUTED)
        r = QRectF(
            self.area.left(),
            self.area.bottom() - self.line_height("small"),
            self.area.width(),
            self.line_height("small"),
        )
        p.drawText(r, int(Qt.AlignmentFlag.AlignLeft), self.footer)
        p.drawText(r, int(Qt.AlignmentFlag.AlignRight), f"Page {self.page}")

    def finish(self) -> None:
        self._footer()

    def text(self, words: str, kind: str = "text", color: QColor = _INK, gap: float = 0.0) -> None:
        h = self.line_height(kind)
        self.room(h)
        self.painter.setFont(self.fonts[kind])
        self.painter.setPen(color)
        self.painter.drawText(
            QRectF(self.area.left(), self.y, self.area.width(), h), int(Qt.AlignmentFlag.AlignLeft), words
        )
        self.y += h + gap

    def space(self, mm: float) -> None:
        self.y += self.mm(mm)

    @property
    def chart_height(self) -> float:
        return self.mm(62)

    def chart(self, chart: Chart, palette: QPalette) -> None:
        height = self.chart_height
        self.room(height)
        chart.paint(
            self.painter, QRectF(self.area.left(), self.y, self.area.width(), height), palette, self.fonts["text"]
        )
        self.y += height + self.mm(5)

    def table(self, t: Table, widths: Sequence[float] | None = None, left: frozenset[int] = frozenset({0})) -> None:
        """``t`` with its header repeated on each page; columns not in ``left`` are right-aligned."""
        cols = len(t.header)
        widths = widths or [1.0] * cols
        total = sum(widths)
        xs = [self.area.left()]
        for w in widths:
            xs.append(xs[-1] + self.area.width() * w / total)
        row_h = self.line_height("text") * 1.35
        self.room(self.line_height("h2") + 2 * row_h)
        self.text(t.title, "h2", gap=self.mm(1.5))
        self._row(t.header, xs, row_h, "bold", left)
        if not t.rows:
            self.text("Nothing in this period.", color=_MUTED)
        for row in t.rows:
            if self.y + row_h > self.body.bottom():
                self.new_page()
                self._row(t.header, xs, row_h, "bold", left)
            self._row(row, xs, row_h, "text", left)
        self.space(6)

    def _row(self, cells: Sequence[Any], xs: Sequence[float], h: float, kind: str, left: frozenset[int]) -> None:
        p = self.painter
        p.setFont(self.fonts[kind])
        p.setPen(_INK)
        pad = self.mm(1)
        metrics = QFontMetricsF(self.fonts[kind], self.writer)
        for i, cell in enumerate(cells):
            text = f"{cell:,}" if isinstance(cell, int) else str(cell)
            align = Qt.AlignmentFlag.AlignLeft if i in left else Qt.AlignmentFlag.AlignRight
            r = QRectF(xs[i] + pad, self.y, xs[i + 1] - xs[i] - 2 * pad, h)
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, r.width())
            p.drawText(r, int(align | Qt.AlignmentFlag.AlignVCenter), text)
        p.setPen(_RULE)
        p.drawLine(int(xs[0]), int(self.y + h), int(xs[-1]), int(self.y + h))
        self.y += h


_WIDTHS = {
    "Summary": (3, 2),
    "Why messages failed": (5, 1),
    "Sends": (4, 1.6, 1.4, 1, 1.2, 1.6, 1.3),
}


def write_pdf(report: Report, path: Path, account: str = "All accounts", names: dict[int, str] | None = None) -> None:
    """Write ``report`` to ``path`` as a paged A4 PDF.

    Raises:
        ExportError: the file could not be written (nothing is left behind).
    """
    ensure_gui_app()
    who = report.business or "smsdesk"
    with written_whole(Path(path)) as tmp:
        writer = QPdfWriter(str(tmp))
        writer.setResolution(_DPI)
        writer.setTitle(f"{who}: report for {report.period.text}")
        writer.setCreator("smsdesk")
        writer.setPageLayout(
            QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(15, 15, 15, 15))
        )
        painter = QPainter()
        if not painter.begin(writer):
            from smsdesk.services.report_export import ExportError

            raise ExportError(f"Could not start a PDF in {Path(path).parent}.")
        try:
            made = datetime.now().strftime("%d %b %Y %H:%M")
            pages = _Pages(writer, painter, f"{who} · {report.period.text} · made {made}")
            pages.text(f"{who}: messages report", "title", gap=pages.mm(1))
            pages.text(f"{report.period.text} · {account} · times in {report.zone}", color=_MUTED, gap=pages.mm(5))
            tables = report_tables(report, names, compact=True)
            if report.is_empty:
                pages.text("No messages were sent or received in this period.", "h2")
            pages.table(tables[0], _WIDTHS["Summary"])
            palette = _light_palette()
            if not report.is_empty:
                for c in report_charts(report):
                    pages.room(pages.line_height("h2") + pages.mm(1) + pages.chart_height)  # heading with its chart
                    pages.text(c.title, "h2", gap=pages.mm(1))
                    pages.chart(Chart(c.data, c.kind), palette)
            for t in tables[1:]:
                if t.title == "Replies by hour of the day" and report.is_empty:
                    continue
                pages.table(t, _WIDTHS.get(t.title))
            pages.finish()
        finally:
            painter.end()
