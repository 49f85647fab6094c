"""Bulk wizard, step 5: send now or at a time, optionally keeping the recipients as a group.

Nothing is sent before the person presses Send (the commit button); the run is stored first,
then the wizard moves on to follow it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWizard,
)

from smsdesk.ui.aio import spawn
from smsdesk.ui.views.bulk_send.common import ERR, StepPage, WizardHost


class SendPage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
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
        self.limit_note = QLabel()
        self.limit_note.setObjectName("over_limit_note")
        self.limit_note.setWordWrap(True)
        self.limit_note.setStyleSheet(ERR)
        self.over_limit = QCheckBox("Send over the limit")
        self.over_limit.setObjectName("over_limit_ok")
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
        layout.addWidget(self.limit_note)
        layout.addWidget(self.over_limit)
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
        over = state.over_limit()
        self.limit_note.setText(f"Over the spending limit: {over}" if over else "")
        self.limit_note.setVisible(bool(over))
        self.over_limit.setChecked(False)
        self.over_limit.setVisible(bool(over))
        self._mode(self.later.isChecked())

    def _mode(self, later: bool) -> None:
        self.setButtonText(QWizard.WizardButton.CommitButton, "Schedule" if later else "Send")

    def validatePage(self) -> bool:  # noqa: N802
        state = self.host.state
        if state.run_id is not None:
            return True
        if self._starting:
            return False
        when: datetime | None = None
        if self.later.isChecked():
            picked = self.when.dateTime().toPython()  # typed ``object`` by the stubs: a naive local datetime
            assert isinstance(picked, datetime)
            when = picked.astimezone()
            if when <= datetime.now().astimezone() + timedelta(seconds=30):
                self.feedback.setText("Choose a time in the future.")
                return False
        state.set_schedule(when)
        state.set_group(self.group_name.text() if self.save_group.isChecked() else None)
        state.over_limit_ok = self.over_limit.isChecked()
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
