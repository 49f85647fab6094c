"""Bulk wizard, step 7: what happened to every row of the file, and the run's undecided sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from smsdesk.ui.views.bulk_send.common import StepPage, WizardHost, reasons_text
from smsdesk.ui.views.review_panel import ReviewPanel


class ReportPage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.setSubTitle("What happened to every row of the file.")
        self.text = QLabel()
        self.text.setObjectName("report")
        self.text.setWordWrap(True)
        self.export = QPushButton("Save rejected rows…")
        self.export.setObjectName("report_export")
        self.export.clicked.connect(self._export)
        again = QPushButton("Start another import")
        again.setObjectName("again")
        again.clicked.connect(self.host.restart)
        row = QHBoxLayout()
        row.addWidget(self.export)
        row.addWidget(again)
        row.addStretch(1)
        self.review = ReviewPanel(host.ctx)  # this run's undecided sends, one action each
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.review)
        layout.addLayout(row)
        layout.addStretch(1)

    def nextId(self) -> int:  # noqa: N802 - Qt API
        return -1  # the last page of a send (the contacts-only page has a higher id)

    def initializePage(self) -> None:  # noqa: N802
        if self.host.state.run_id is not None:
            self._show(self.host.ctx.services.bulk_send.summary(self.host.state.run_id))
            self.review.set_active(True, self.host.state.run_id)

    def refresh(self) -> None:
        run_id = self.host.state.run_id
        if run_id is not None and self.isVisible():
            self._show(self.host.ctx.services.bulk_send.summary(run_id))

    def _show(self, s: dict[str, Any]) -> None:
        lines = [
            f"{s['rows']:,} rows in the file = {s['accepted']:,} accepted + {s['rejected']:,} rejected.",
            f"Sent {s['sent'] + s['delivered']:,} (delivered {s['delivered']:,}), failed {s['failed']:,}, "
            f"need review {s['needs_review']:,}, cancelled {s['cancelled']:,}, scheduled {s['scheduled']:,}.",
        ]
        if s["by_reason"]:
            lines.append("Rejected: " + reasons_text(s["by_reason"]) + ".")
        self.text.setText("\n".join(lines))
        self.export.setEnabled(bool(s["rejected"]))

    def _export(self) -> None:
        src = self.host.state.path
        self.host.choose_save_path(f"{src.stem if src else 'import'}-rejected.csv", self.export_to)

    def export_to(self, path: str) -> None:
        run_id = self.host.state.run_id
        assert run_id is not None
        Path(path).write_text(self.host.ctx.services.bulk_send.rejects_csv(run_id), encoding="utf-8-sig")
        self.text.setText(self.text.text() + f"\nRejected rows saved to {path}.")
