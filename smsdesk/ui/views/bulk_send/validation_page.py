"""Bulk wizard, step 3: every row checked; rejected rows say why, repaired ones what changed.

The check runs in slices on the GUI loop (see the wizard's ``cooperative``) with a progress
bar; it can be stopped and run again, and the rejected rows saved as a CSV file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from smsdesk.services.bulk_send_flow import Step
from smsdesk.services.imports.validate import Report
from smsdesk.ui.models.import_rows_model import ImportRowsModel
from smsdesk.ui.views.bulk_send.common import StepPage, WizardHost, summary_text, table_view


class ValidationPage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.setSubTitle("Every row is checked. Rows that cannot be sent say why; repaired ones say what changed.")
        self.bar = QProgressBar()
        self.bar.setObjectName("validation_progress")
        self.stop = QPushButton("Stop")
        self.stop.setObjectName("stop_check")
        self.stop.clicked.connect(self._stop_or_again)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.show_what = QComboBox()
        self.show_what.addItems(["All rows", "Rejected rows", "Rows with notes"])
        self.show_what.currentIndexChanged.connect(lambda _i: self._fill())
        self.export = QPushButton("Save rejected rows…")
        self.export.setObjectName("export_rejects")
        self.export.clicked.connect(self._export)
        top = QHBoxLayout()
        top.addWidget(self.bar, 1)
        top.addWidget(self.stop)
        tools = QHBoxLayout()
        tools.addWidget(self.show_what)
        tools.addStretch(1)
        tools.addWidget(self.export)
        self.model = ImportRowsModel("verdict")
        self.view = table_view(self.model, "verdicts", (60, 140, 170, 140))
        self.view.verticalHeader().hide()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self.report: Report | None = None
        host.sig_busy_changed.connect(lambda _b: self.announce())

    def initializePage(self) -> None:  # noqa: N802
        self.run_check()

    def run_check(self) -> None:
        state = self.host.state
        self.report = None
        self.model.set_rows([])
        self.summary.setText("Checking…")
        self.stop.setText("Stop")
        self.stop.setEnabled(True)
        self._timer.start()
        self.host.cooperative(state.validate_steps(self.host.cancelled), self._done, "Check rows")
        self.announce()

    def _stop_or_again(self) -> None:
        if self.host.busy:
            self.host.cancel_flag.set()
        else:
            self.run_check()

    def _tick(self) -> None:
        done, total = self.host.progress
        self.bar.setMaximum(max(total, 1))
        self.bar.setValue(done)

    def _done(self, report: Report) -> None:
        self._timer.stop()
        self.stop.setText("Check again")  # after a stop, or after the opt-out list changed
        self.stop.setEnabled(True)
        self.bar.setMaximum(max(report.rows, 1))
        self.bar.setValue(report.rows)
        self.report = report
        self.summary.setText(summary_text(report))
        self._fill()
        self.announce()

    def _fill(self) -> None:
        if self.report is None:
            return
        which = self.show_what.currentIndex()
        items = self.report.items
        if which == 1:
            items = self.report.rejected_items
        elif which == 2:
            items = [r for r in items if r.flags or r.reason]
        self.model.set_rows(items, self.host.state.names())

    def rejects_csv(self) -> str:
        assert self.report is not None and self.host.state.table is not None
        return self.report.rejects_csv(self.host.state.table)

    def _export(self) -> None:
        if self.report is None:
            return
        src = self.host.state.path
        name = f"{src.stem if src else 'import'}-rejected.csv"
        self.host.choose_save_path(name, self.export_to)

    def export_to(self, path: str) -> None:
        Path(path).write_text(self.rejects_csv(), encoding="utf-8-sig")
        self.summary.setText(self.summary.text() + f"\nRejected rows saved to {path}.")

    def isComplete(self) -> bool:  # noqa: N802
        return not self.host.busy and self.report is not None and self.host.state.blocker(Step.VALIDATION) == ""
