"""Reports: how many messages were delivered, what they cost and who replied, for a period.

The period (today, 7 or 30 days, this or last month, all time, or chosen days) and the account
are picked at the top; the figures, four charts (each with a table of the same numbers beside
it), why messages failed and every send follow. The report is built off the GUI thread and
built again when messages change while the page shows. Export (Ctrl+E) writes it as a PDF,
an Excel workbook or CSV, or writes the message log.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.report_export import export_log, export_report
from smsdesk.services.reports import LogFilter, PeriodKind, Report, duration_text, percent_text, period
from smsdesk.services.team_inbox import PersonFigures
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import choose_save_path
from smsdesk.ui.report_charts import report_charts
from smsdesk.ui.theme import set_banner, set_tone
from smsdesk.ui.views.reports.log_dialog import LogChoice, LogExportDialog
from smsdesk.ui.views.reports.parts import COLUMN_FILTER, ChartPanel, Figure, SendsModel
from smsdesk.ui.views.reports.send_dialog import SendDetailDialog

_REFRESH_MS = 1500  # messages changing while the page shows: build the report again after this
_FIGURES = (
    ("sent", "Messages sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("cost", "Cost"),
    ("received", "Replies received"),
    ("reply_rate", "Reply rate"),
    ("optouts", "New opt-outs"),
    ("answer", "Median time to first reply by staff"),
)
_EXPORTS = (
    ("report_pdf", "Report as PDF…", "pdf"),
    ("report_xlsx", "Report as Excel workbook…", "xlsx"),
    ("report_csv", "Report as CSV…", "csv"),
    ("log_csv", "Message log as CSV…", "csv"),
    ("log_xlsx", "Message log as Excel workbook…", "xlsx"),
)


class ReportsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = ctx.services.reports
        self.setObjectName("ReportsView")
        self.report: Report | None = None
        self._generation = 0
        self._stale = True
        self._dialogs: list[QWidget] = []

        title = QLabel("Reports")
        title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.period = QComboBox()
        self.period.setObjectName("report_period")
        self.period.setAccessibleName("Period")
        for kind in PeriodKind:
            self.period.addItem(kind.label + ("…" if kind is PeriodKind.CUSTOM else ""), kind.value)
        self.period.setCurrentIndex(self.period.findData(PeriodKind.DAYS_30.value))
        self.first = QDateEdit()
        self.first.setObjectName("report_first")
        self.last = QDateEdit()
        self.last.setObjectName("report_last")
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
            edit.setVisible(False)
        today = self.svc.today()
        self.last.setDate(QDate(today.year, today.month, today.day))
        self.first.setDate(self.last.date().addDays(-29))
        self.account = QComboBox()
        self.account.setObjectName("report_account")
        self.account.setAccessibleName("Account")
        self.export_button = QToolButton()
        self.export_button.setObjectName("report_export")
        self.export_button.setText("Export")
        self.export_button.setToolTip("Export this report or the message log (Ctrl+E: the report as a PDF)")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_actions: dict[str, QAction] = {}
        for key, label, fmt in _EXPORTS:
            act = menu.addAction(label)
            act.setObjectName(f"export_{key}")
            act.triggered.connect(lambda _=False, k=key, f=fmt: self.choose_export(k, f))
            self.export_actions[key] = act
        self.export_button.setMenu(menu)
        pdf = QAction(self)
        pdf.setShortcut(QKeySequence("Ctrl+E"))
        pdf.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        pdf.triggered.connect(lambda: self.choose_export("report_pdf", "pdf"))
        self.addAction(pdf)
        refresh = QPushButton("Refresh")
        refresh.setObjectName("report_refresh")
        refresh.setShortcut(QKeySequence("F5"))
        refresh.setToolTip("Build the report again (F5)")
        refresh.clicked.connect(self.reload)

        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Period:"))
        bar.addWidget(self.period)
        bar.addWidget(self.first)
        bar.addWidget(self.last)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Account:"))
        bar.addWidget(self.account)
        bar.addStretch(1)
        bar.addWidget(refresh)
        bar.addWidget(self.export_button)

        self.subtitle = QLabel()
        self.subtitle.setObjectName("report_subtitle")
        set_tone(self.subtitle, "muted")
        self.banner = QLabel()
        self.banner.setObjectName("report_banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.empty = QLabel("No messages were sent or received in this period. Choose a longer period above.")
        self.empty.setObjectName("report_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("font-size: 14px; padding: 40px;")
        set_tone(self.empty, "muted")
        self.empty.setVisible(False)

        # -- the report body ---------------------------------------------------------------
        self.figures: dict[str, Figure] = {}
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, (key, caption) in enumerate(_FIGURES):
            fig = Figure(key, caption)
            self.figures[key] = fig
            grid.addWidget(fig, i // 4, i % 4)
        self.failures = QLabel()
        self.failures.setObjectName("report_failures")
        self.failures.setWordWrap(True)
        self.failures.setTextFormat(Qt.TextFormat.RichText)
        self.charts: dict[str, ChartPanel] = {}
        charts_box = QVBoxLayout()
        charts_box.setSpacing(16)
        for c in report_charts(_empty_report(self.svc.zone_name, today)):
            panel = ChartPanel(c, "Day")
            self.charts[c.key] = panel
            charts_box.addWidget(panel)
        sends_title = QLabel("Sends")
        sends_title.setStyleSheet("font-weight: 600;")
        self.sends_hint = QLabel(
            "Bulk sends, group sends and scheduled runs. Double-click a number to see those messages."
        )
        set_tone(self.sends_hint, "muted")
        self.sends_model = SendsModel(self)
        self.sends = QTableView()
        self.sends.setObjectName("report_sends")
        self.sends.setModel(self.sends_model)
        self.sends.verticalHeader().setVisible(False)
        self.sends.setAlternatingRowColors(True)
        self.sends.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.sends.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.sends.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sends.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.sends.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.sends.setMinimumHeight(160)
        self.sends.activated.connect(self._open_send)  # a double-click or Enter

        body = QWidget()
        body.setObjectName("report_body")
        inner = QVBoxLayout(body)
        inner.setSpacing(12)
        inner.addLayout(grid)
        inner.addWidget(self.failures)
        inner.addLayout(charts_box)
        inner.addWidget(sends_title)
        inner.addWidget(self.sends_hint)
        inner.addWidget(self.sends)
        # A team workspace: what each person sent and how fast they answered.
        team = ctx.services.conversations.team
        self._team = team if team is not None and team.shared else None
        self.people_title = QLabel("People")
        self.people_title.setStyleSheet("font-weight: 600;")
        self.people = QTableWidget(0, 4)
        self.people.setObjectName("report_people")
        self.people.setHorizontalHeaderLabels(["Person", "Messages sent", "First answers", "Median time to answer"])
        self.people.verticalHeader().setVisible(False)
        self.people.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.people.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.people.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.people.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for i, w in enumerate((self.people_title, self.people)):  # under the figures, above the charts
            w.setVisible(self._team is not None)
            inner.insertWidget(2 + i, w)
        inner.addStretch(1)
        self.body = body
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setWidget(body)

        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.subtitle)
        lay.addWidget(self.banner)
        lay.addWidget(self.empty)
        lay.addWidget(self.scroller, 1)

        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(_REFRESH_MS)
        self._refresh.timeout.connect(self.reload)
        self._fill_accounts()
        self.period.currentIndexChanged.connect(self._period_changed)
        self.first.dateChanged.connect(self._custom_changed)
        self.last.dateChanged.connect(self._custom_changed)
        self.account.currentIndexChanged.connect(lambda _i: self.reload())
        ctx.bridge.sig_changed.connect(self._on_changes)

    # -- choosing ---------------------------------------------------------------------------

    def _fill_accounts(self) -> None:
        current = self.account.currentData()
        self.account.blockSignals(True)
        self.account.clear()
        self.account.addItem("All accounts", None)
        for a in self.ctx.services.accounts.all():
            self.account.addItem(a.name, a.id)
        index = self.account.findData(current)
        self.account.setCurrentIndex(max(0, index))
        self.account.blockSignals(False)

    def _period_changed(self) -> None:
        custom = self.period.currentData() == PeriodKind.CUSTOM.value
        self.first.setVisible(custom)
        self.last.setVisible(custom)
        if custom:
            self.first.setFocus()
        self.reload()

    def _custom_changed(self) -> None:
        if self.period.currentData() == PeriodKind.CUSTOM.value:
            self.reload()

    def chosen_period(self) -> object:
        kind = PeriodKind(self.period.currentData())
        today = self.svc.today()
        if kind is PeriodKind.CUSTOM:
            return period(kind, today, _day(self.first.date()), _day(self.last.date()))
        return period(kind, today)

    @property
    def account_id(self) -> int | None:
        data = self.account.currentData()
        return None if data is None else int(data)

    # -- building ---------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_changes(self, changes: Changes) -> None:
        if changes.accounts or changes.everything:
            self._fill_accounts()
        if changes.message_ids or changes.optouts or changes.bulk or changes.accounts or changes.everything:
            if self.isVisible():
                self._refresh.start()
            else:
                self._stale = True

    def reload(self) -> None:
        """Build the report for the chosen period and account (off the GUI thread)."""
        self._refresh.stop()
        self._stale = False
        try:
            p = self.chosen_period()
        except ValueError as exc:
            self._say(str(exc), "error")
            return
        self._generation += 1
        generation = self._generation
        self.subtitle.setText("Working out the figures…")
        spawn(
            self.svc.report(p, self.account_id),  # type: ignore[arg-type]  # chosen_period returns a Period
            title="Reports",
            on_done=lambda r: self._show(r) if generation == self._generation else None,
            on_error=lambda e: self._say(f"Could not build the report: {e}", "error"),
        )

    def _say(self, text: str, kind: str) -> None:
        self.banner.setText(text)
        set_banner(self.banner, kind)
        self.banner.setVisible(bool(text))
        if kind == "error":
            self.subtitle.setText("")

    def _show(self, report: Report) -> None:
        self.report = report
        self.banner.setVisible(False)
        where = self.account.currentText()
        who = f"{report.business} · " if report.business else ""
        self.subtitle.setText(f"{who}{report.period.text} · {where} · times in {report.zone}")
        self.empty.setVisible(report.is_empty)
        self.scroller.setVisible(not report.is_empty)
        h = report.headline
        f = self.figures
        f["sent"].show_value(
            f"{h.sent:,}", f"{h.parts:,} parts" + (f" · {h.automatic:,} automatic" if h.automatic else "")
        )
        f["delivered"].show_value(
            percent_text(h.delivered_rate),
            f"{h.delivered:,} delivered" + (f" · {h.pending:,} still waiting" if h.pending else ""),
            "ok" if h.delivered else "",
        )
        f["failed"].show_value(f"{h.failed:,}", "see why below" if h.failed else "", "error" if h.failed else "")
        unknown = h.cost.unknown_parts and not h.cost.by_currency
        f["cost"].show_value(
            "cost unknown" if unknown else h.cost.text,
            "give the account a price per part in Settings → Accounts" if unknown else "",
            "muted" if unknown else "",
        )
        f["received"].show_value(f"{h.received:,}")
        f["reply_rate"].show_value(percent_text(h.reply_rate), f"{h.replied:,} of {h.delivered_by_people:,} delivered")
        f["optouts"].show_value(f"{h.new_optouts:,}", "", "warn" if h.new_optouts else "")
        f["answer"].show_value(duration_text(h.median_answer_s), f"over {h.answers:,} answers" if h.answers else "")
        if report.failures:
            lines = "".join(f"<li>{fl.messages:,} · {_escape(fl.reason)}</li>" for fl in report.failures[:8])
            more = len(report.failures) - 8
            self.failures.setText(
                f"<b>Why messages failed</b><ul style='margin-top:2px'>{lines}</ul>"
                + (f"and {more} other reasons (in the exports)" if more > 0 else "")
            )
        self.failures.setVisible(bool(report.failures))
        header = report.step.capitalize()
        for c in report_charts(report):
            self.charts[c.key].set_chart(c, "Hour" if c.key == "hours" else header)
        self.sends_model.set_sends(list(report.sends))
        if self._team is not None:
            start, end = self.svc.bounds(report.period)
            spawn(asyncio.to_thread(self._team.person_figures, start, end), title="Reports", on_done=self._show_people)
        self.sends_hint.setText(
            "Bulk sends, group sends and scheduled runs. Double-click a number to see those messages."
            if report.sends
            else "No bulk sends, group sends or scheduled runs in this period."
        )

    def _show_people(self, figures: list[PersonFigures]) -> None:
        """Each person's messages sent (automatic replies left out), first answers to waiting
        replies and the median time those took, in the report's period (every account)."""
        self.people.setRowCount(len(figures))
        for row, f in enumerate(figures):
            cells = (
                f.person or "You",
                f"{f.sent:,}",
                f"{f.answers:,}",
                duration_text(f.median_answer_s) if f.answers else "—",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.people.setItem(row, col, item)
        # As tall as its rows: the page scrolls, not the table.
        rows = sum(self.people.rowHeight(r) for r in range(len(figures)))
        self.people.setFixedHeight(self.people.horizontalHeader().height() + rows + 2 * self.people.frameWidth() + 2)

    # -- sends ------------------------------------------------------------------------------

    def _open_send(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        s = self.sends_model.sends[index.row()]
        which = COLUMN_FILTER.get(index.column(), "all")
        spawn(
            self.svc.send_detail_async(s.source, s.run_id),
            title="Reports",
            on_done=lambda d: self._show_send(d, which) if d is not None else None,
        )

    def _show_send(self, detail: object, which: str) -> None:
        from smsdesk.services.reports import SendDetail

        assert isinstance(detail, SendDetail)
        numbers = list(dict.fromkeys(m.number for m in detail.messages))
        contacts = self.ctx.services.contacts
        dialog = SendDetailDialog(
            detail, contacts.names_for(numbers), contacts.number_text, self._open_thread, which, self
        )
        dialog.finished.connect(lambda _r: self._forget(dialog))
        self._dialogs.append(dialog)
        dialog.open()

    def _forget(self, dialog: QWidget) -> None:
        """A dialog was closed: it goes (a later one of the same kind starts fresh)."""
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
        dialog.deleteLater()

    def _open_thread(self, account_id: int, number: str) -> None:
        conv = self.ctx.services.conversations.find(account_id, number)
        if conv is None:
            self._say("There is no conversation with this number any more.", "info")
            return
        show_page = getattr(self.window(), "show_page", None)
        if show_page is None:
            return
        for d in list(self._dialogs):
            d.close()
        opener = getattr(show_page("conversations"), "open_conversation", None)
        if opener is not None:
            opener(conv.id)

    # -- exports ----------------------------------------------------------------------------

    def choose_export(self, key: str, fmt: str) -> None:
        """Ask where to save, then export (the message log asks what to put in it first)."""
        if self.report is None and key.startswith("report"):
            self._say("The report is still being worked out. Try again in a moment.", "info")
            return
        if key.startswith("log"):
            self._choose_log(fmt)
            return
        choose_save_path(self, "Export the report", "report", (fmt,), lambda path: self.export_to(key, path))

    def _choose_log(self, fmt: str) -> None:
        services = self.ctx.services

        def chosen(choice: LogChoice) -> None:
            choose_save_path(
                self, "Export the message log", "messages", (fmt,), lambda p: self.export_to("log", p, choice)
            )

        dialog = LogExportDialog(services.contacts, services.groups, chosen, self)
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self._forget(dialog))
        dialog.open()

    def export_to(self, key: str, path: Path, log: LogChoice | None = None) -> None:
        """Write the export ``key`` to ``path`` (``log``: which messages, for the message log),
        saying how it went under the bar."""
        report = self.report
        account = self.account.currentText()
        names = {a.id: a.name for a in self.ctx.services.accounts.all()}
        self._say(f"Exporting to {path.name}…", "info")

        async def run() -> str:
            if key == "report_pdf":
                from smsdesk.ui.report_pdf import write_pdf  # painting needs the GUI thread

                assert report is not None
                write_pdf(report, path, account, names)
                return f"Saved the report as {path}."
            if key.startswith("report"):
                assert report is not None
                await asyncio.to_thread(export_report, report, path, account, names)
                return f"Saved the report as {path}."
            start, end = self.svc.bounds(self.chosen_period())  # type: ignore[arg-type]
            which = log or LogChoice()
            f = LogFilter(
                start=start if report is None or report.period.first is not None else None,
                end=end,
                account_ids=() if self.account_id is None else (self.account_id,),
                statuses=which.statuses,
                directions=which.directions,
                numbers=which.numbers,
            )
            region = self.ctx.services.contacts.region()
            n = await asyncio.to_thread(export_log, self.svc, f, path, zone=self.svc.zone(), region=region)
            return f"Saved {n:,} message{'s' if n != 1 else ''} ({which.words}) to {path}."

        spawn(
            run(),
            title="Export",
            on_done=lambda text: self._say(text, "info"),
            on_error=lambda e: self._say(str(e) if isinstance(e, SmsdeskError) else f"Could not export: {e}", "error"),
        )


def _day(d: QDate) -> date:
    return date(d.year(), d.month(), d.day())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _empty_report(zone: str, today: date) -> Report:
    from smsdesk.services.reports import Headline

    return Report(period(PeriodKind.TODAY, today), None, zone, "", "day", Headline(), (), (0,) * 24, (), ())
