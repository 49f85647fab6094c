"""Bulk wizard, step 4: write the message with merge fields, checked for every row as you type.

Each row's message, its parts and its encoding are shown; a merge field no column gives is
named. The check waits for a pause in typing and restarts when the text changes under it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout

from smsdesk.services.bulk_send_flow import Step
from smsdesk.services.imports.validate import Report
from smsdesk.services.templates import SavedTemplate
from smsdesk.ui.models.import_rows_model import ImportRowsModel
from smsdesk.ui.views.bulk_send.common import ERR, StepPage, WizardHost, summary_text, table_view
from smsdesk.ui.widgets.labels import WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit
from smsdesk.ui.widgets.template_picker import open_picker

_DEBOUNCE_MS = 350


class MessagePage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
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
        self.template_button = QPushButton("Insert template…")
        self.template_button.setObjectName("insert_template")
        self.template_button.setToolTip("Insert a saved template at the cursor (Ctrl+T)")
        self.template_button.clicked.connect(self.insert_template)
        QShortcut(QKeySequence("Ctrl+T"), self).activated.connect(self.insert_template)
        self.template = MessageEdit(objectName="template")
        self.template.setPlaceholderText("Hi {{first_name|there}}, your appointment is on {{appointment}}.")
        self.template.setMaximumHeight(80)
        self.template.textChanged.connect(self._debounce)
        self.counter = MessageCounter(objectName="template_counter", merge_fields=True)
        self.counter.follow(self.template)
        self.totals = WrapLabel(objectName="totals")
        self.model = ImportRowsModel("message")
        self.view = table_view(self.model, "previews", (60, 140, 400, 50, 70, 200), stretch=2)
        self.view.verticalHeader().hide()
        form = QFormLayout()
        form.addRow("Send from", self.account)
        row = QHBoxLayout()
        row.addWidget(self.template, 1)
        side = QVBoxLayout()
        side.addWidget(self.insert)
        side.addWidget(self.template_button)
        side.addStretch(1)
        row.addLayout(side)
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
        elif not self.template.toPlainText() and self.host.state.template_text:
            # Written in Compose before it handed a group send over: carried, not retyped.
            self.template.setPlainText(self.host.state.template_text)
            self.template.moveCursor(QTextCursor.MoveOperation.End)

    def _account(self, _i: int = 0) -> None:
        self.host.state.set_account(self.account.currentData())
        if self.host.state.report is not None:
            self._show(self.host.state.report)

    def _insert(self, index: int) -> None:
        key = self.insert.itemData(index)
        if key:
            self.template.insertPlainText("{{" + key + "}}")
        self.insert.setCurrentIndex(0)

    def insert_template(self) -> None:
        """Pick a saved template and put it in at the cursor; its merge fields are filled from
        each row, and a field no column gives is named below, as when typed."""
        open_picker(self, self.host.ctx.services.templates, self._insert_saved)

    def _insert_saved(self, template: SavedTemplate) -> None:
        self.template.setFocus(Qt.FocusReason.OtherFocusReason)
        self.template.insertPlainText(template.body)

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
            cost = (
                f" · estimated cost {report.cost:,.2f}"
                if report.cost is not None
                else " · cost unknown (give this account a price per segment in Settings -> Accounts)"
            )
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
