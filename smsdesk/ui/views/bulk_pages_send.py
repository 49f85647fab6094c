"""Import wizard pages 4-7: write the message, send or schedule, watch the run, read the report."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from smsdesk.domain.events import Changes
from smsdesk.services.bulk_send import BulkSendProgress
from smsdesk.services.bulk_send_flow import Step
from smsdesk.services.imports.validate import Report
from smsdesk.ui.aio import spawn
from smsdesk.ui.models.import_rows_model import RowsModel
from smsdesk.ui.views.bulk_pages_input import ERR, StepPage, _table_view, reasons_text, summary_text
from smsdesk.ui.views.review_panel import ReviewPanel
from smsdesk.ui.widgets.labels import WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit

if TYPE_CHECKING:
    from smsdesk.ui.views.bulk_wizard import BulkWizard

_DEBOUNCE_MS = 350


class MessagePage(StepPage):
    def __init__(self, host: BulkWizard) -> None:
        super().__init__()
        self.host = host
        self.setSubTitle("Merge fields: {{first_name}}; with a fallback for empty values: {{first_name|there}}.")
        self.account = QComboBox()
        self.account.setObjectName("account")
        self.account.currentIndexChanged.connect(self._account)
        self.insert = QComboBox()
        self.insert.setObjectName("insert_field")
        # Sized by a typical field, not the longest column heading, which must not widen the window.
        self.insert.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.insert.setMinimumContentsLength(16)
        self.insert.activated.connect(self._insert)
        self.template = MessageEdit(objectName="template")
        self.template.setPlaceholderText("Hi {{first_name|there}}, your appointment is on {{appointment}}.")
        self.template.setMaximumHeight(80)
        self.template.textChanged.connect(self._debounce)
        self.counter = MessageCounter(objectName="template_counter", merge_fields=True)
        self.counter.follow(self.template)
        self.totals = WrapLabel(objectName="totals")
        self.model = RowsModel("message")
        self.view = _table_view(self.model, "previews", (60, 140, 400, 50, 70, 200), stretch=2)
        self.view.verticalHeader().hide()
        form = QFormLayout()
        form.addRow("Send from", self.account)
        row = QHBoxLayout()
        row.addWidget(self.template, 1)
        row.addWidget(self.insert)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.counter)
        layout.addWidget(self.totals)
        layout.addWidget(self.view, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_DEBOUNCE_MS)
        self._timer.timeout.connect(self.check)
        self._again = False
        self._checking = ""
        host.sig_busy_changed.connect(lambda _b: self.announce())

    def initializePage(self) -> None:  # noqa: N802
        self.account.blockSignals(True)
        self.account.clear()
        for acct in self.host.ctx.services.accounts.all():
            self.account.addItem(acct.name, acct.id)
        self.account.blockSignals(False)
        if self.host.state.account_id is not None:
            self.account.setCurrentIndex(max(0, self.account.findData(self.host.state.account_id)))
        self._account()
        mapping = self.host.state.mapping
        self.insert.clear()
        self.insert.addItem("Insert field…", "")
        for key in sorted(mapping.fields if mapping else ()):
            self.insert.addItem("{{" + key + "}}", key)
        if self.host.state.report is not None and self.host.state.template is not None:
            self._show(self.host.state.report)

    def _account(self, _i: int = 0) -> None:
        self.host.state.set_account(self.account.currentData())
        if self.host.state.report is not None:
            self._show(self.host.state.report)

    def _insert(self, index: int) -> None:
        key = self.insert.itemData(index)
        if key:
            self.template.insertPlainText("{{" + key + "}}")
        self.insert.setCurrentIndex(0)

    def _debounce(self) -> None:
        self.host.state.template = None  # what is shown no longer matches the text
        self.announce()
        self._timer.start()

    def check(self) -> None:
        """Re-validate with the current text in the worker thread (one at a time)."""
        if self.host.busy:
            self._again = True
            self.host.cancel_flag.set()  # the text changed under it: stop and start over
            return
        text = self._checking = self.template.toPlainText()
        self.totals.setText("Checking the message for every row…")
        self.host.cooperative(self.host.state.template_steps(text, self.host.cancelled), self._checked, "Check message")

    def _checked(self, report: Report) -> None:
        if self._again or self._checking != self.template.toPlainText():
            self._again = False
            self.check()
            return
        self._show(report)

    def _show(self, report: Report) -> None:
        state = self.host.state
        lines = [summary_text(report)]
        if report.template is not None:
            cost = f" · estimated cost {report.cost:.2f}" if report.price_per_segment else ""
            lines.append(f"{report.total_segments:,} segments for {report.accepted:,} messages{cost}.")
        unknown = state.unknown_fields()
        if unknown:
            lines.append("No column gives " + ", ".join("{{" + f + "}}" for f in unknown) + ".")
        self.totals.setStyleSheet(ERR if unknown else "")
        self.totals.setText("\n".join(lines))
        self.model.set_rows(report.accepted_items if report.template is not None else [])
        self.announce()

    def isComplete(self) -> bool:  # noqa: N802
        return not self.host.busy and self.host.state.blocker(Step.MESSAGE) == ""

    def reset(self) -> None:
        self.template.blockSignals(True)
        self.template.clear()
        self.template.blockSignals(False)
        self.counter.show_for("")
        self.model.set_rows([])
        self.totals.clear()


class SendPage(QWizardPage):
    def __init__(self, host: BulkWizard) -> None:
        super().__init__()
        self.host = host
        self.setSubTitle("Nothing is sent before you press Send. A scheduled send waits in the Scheduled queue.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Send")
        self.now = QRadioButton("Send now")
        self.now.setObjectName("send_now")
        self.later = QRadioButton("Schedule for")
        self.later.setObjectName("send_later")
        self.now.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.now)
        group.addButton(self.later)
        self.when = QDateTimeEdit(QDateTime.currentDateTime().addSecs(3600))
        self.when.setObjectName("when")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy HH:mm")
        self.save_group = QCheckBox("Save the recipients as a contact group")
        self.save_group.setObjectName("save_group")
        self.group_name = QLineEdit()
        self.group_name.setObjectName("group_name")
        self.summary = QLabel()
        self.summary.setObjectName("send_summary")
        self.summary.setWordWrap(True)
        self.feedback = QLabel()
        self.feedback.setStyleSheet(ERR)
        self.feedback.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.later)
        row.addWidget(self.when)
        row.addStretch(1)
        grp = QHBoxLayout()
        grp.addWidget(self.save_group)
        grp.addWidget(self.group_name, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.now)
        layout.addLayout(row)
        layout.addLayout(grp)
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        self.later.toggled.connect(self._mode)
        self._starting = False

    def initializePage(self) -> None:  # noqa: N802
        state = self.host.state
        report = state.report
        assert report is not None
        name = state.path.stem if state.path else "Import"
        self.group_name.setText(f"{name} {datetime.now():%Y-%m-%d}")
        self.summary.setText(
            f"{report.accepted:,} personalised messages ({report.total_segments:,} segments) from "
            f"{self.host.ctx.services.accounts.get(state.account_id).name if state.account_id else '?'}; "
            f"{report.rejected:,} rows will not be sent."
        )
        self.feedback.clear()
        self._mode(self.later.isChecked())

    def _mode(self, later: bool) -> None:
        self.setButtonText(QWizard.WizardButton.CommitButton, "Schedule" if later else "Send")

    def validatePage(self) -> bool:  # noqa: N802
        state = self.host.state
        if state.run_id is not None:
            return True
        if self._starting:
            return False
        when = None
        if self.later.isChecked():
            when = self.when.dateTime().toPython().astimezone()
            if when <= datetime.now().astimezone() + timedelta(seconds=30):
                self.feedback.setText("Choose a time in the future.")
                return False
        state.set_schedule(when)
        state.set_group(self.group_name.text() if self.save_group.isChecked() else None)
        self._starting = True
        self.feedback.clear()
        spawn(state.start(), title="Start bulk send", on_done=self._started, on_error=self._failed)
        return False  # the wizard moves on once the run is stored

    def _started(self, _run_id: int) -> None:
        self._starting = False
        self.host.next()

    def _failed(self, exc: BaseException) -> None:
        self._starting = False
        self.feedback.setText(str(exc))

    def reset(self) -> None:
        self.now.setChecked(True)
        self.save_group.setChecked(False)
        self._starting = False


class RunPage(StepPage):
    def __init__(self, host: BulkWizard) -> None:
        super().__init__()
        self.host = host
        self.setSubTitle("You can close this page or the app: an interrupted run continues where it stopped.")
        self.bar = QProgressBar()
        self.bar.setObjectName("run_progress")
        self.counts = QLabel()
        self.counts.setObjectName("run_counts")
        self.counts.setWordWrap(True)
        self.pause = QPushButton("Pause")
        self.pause.setObjectName("pause")
        self.pause.clicked.connect(self._pause_resume)
        self.cancel = QPushButton("Cancel the rest")
        self.cancel.setObjectName("cancel_run")
        self.cancel.clicked.connect(self._cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.counts)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(150)  # a burst of receipts becomes one refresh
        self._refresh_soon.timeout.connect(self.refresh)
        self._armed_cancel = False
        self.last: BulkSendProgress | None = None
        host.ctx.bridge.sig_changed.connect(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        if self.host.state.run_id is not None and (changes.bulk or changes.message_ids) and self.isVisible():
            self._refresh_soon.start()

    def initializePage(self) -> None:  # noqa: N802
        self._armed_cancel = False
        self.last = None
        self.cancel.setText("Cancel the rest")
        if self.host.state.run_id is not None:
            self._show(self.host.state.progress())

    def refresh(self) -> None:
        """Show the run's counts (two indexed reads, a few ms even for 100,000 rows)."""
        # Not when hidden: a timer may fire after the window closed and the runtime with it.
        if self.host.state.run_id is not None and self.isVisible():
            self._show(self.host.state.progress())

    def _show(self, p: BulkSendProgress | None) -> None:
        self.last = p
        if p is None:
            return
        self.bar.setMaximum(max(p.accepted, 1))
        self.bar.setValue(p.finished if p.state != "scheduled" else 0)
        parts = [f"{p.finished:,} of {p.accepted:,} handled", f"{p.sending:,} sending", f"{p.waiting:,} waiting"]
        for label, n in (
            ("delivered", p.delivered),
            ("failed", p.failed),
            ("need review", p.needs_review),
            ("cancelled", p.cancelled),
            ("scheduled", p.scheduled),
        ):
            if n:
                parts.append(f"{n:,} {label}")
        state = {
            "running": "Sending",
            "paused": "Paused",
            "done": "Finished",
            "cancelled": "Cancelled",
            "scheduled": "Scheduled",
        }.get(p.state, p.state)
        self.counts.setText(f"{state}: " + " · ".join(parts))
        self.pause.setText("Resume" if p.state == "paused" else "Pause")
        self.pause.setEnabled(p.state in ("running", "paused"))
        self.cancel.setEnabled(p.state in ("running", "paused", "scheduled"))
        self.announce()

    def _pause_resume(self) -> None:
        run_id = self.host.state.run_id
        p = self.last
        if run_id is None or p is None:
            return
        bulk = self.host.ctx.services.bulk_send
        coro = bulk.resume(run_id) if p.state == "paused" else bulk.pause(run_id)
        spawn(coro, title="Bulk send", on_done=lambda _ok: self.refresh())

    def _cancel(self) -> None:
        run_id = self.host.state.run_id
        if run_id is None:
            return
        if not self._armed_cancel:  # a second click confirms; no modal dialog
            self._armed_cancel = True
            self.cancel.setText("Click again to cancel the rest")
            return
        spawn(
            self.host.ctx.services.bulk_send.cancel(run_id), title="Cancel bulk send", on_done=lambda _n: self.refresh()
        )

    def isComplete(self) -> bool:  # noqa: N802
        return self.last is not None and (self.last.done or self.last.state == "scheduled")


class ReportPage(QWizardPage):
    def __init__(self, host: BulkWizard) -> None:
        super().__init__()
        self.host = host
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
