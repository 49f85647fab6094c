"""New / edit scheduled send: account, recipients, text, date and time in a zone, repeat.

The dialog never saves by itself: Save emits :attr:`ScheduleDialog.sig_submitted` with the
form's values and the owning view runs the service call; on success the view closes the
dialog, on failure it shows the reason here and the person can fix it (no modal loop). The
message box and its counter are Compose's (``ui/widgets/message_editor.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.models import Account
from smsdesk.domain.schedule import WEEKDAY_NAMES, Recurrence, ScheduleItem, to_local
from smsdesk.services.templates import SavedTemplate, TemplateService
from smsdesk.ui.widgets.interval_spin import IntervalSpin
from smsdesk.ui.widgets.labels import WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit
from smsdesk.ui.widgets.recipient_completer import RecipientCompleter, Suggest
from smsdesk.ui.widgets.template_picker import open_picker

COMMON_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "UTC",
)
KIND_LABELS = (("once", "Once"), ("daily", "Daily"), ("weekly", "Weekly, on…"), ("monthly", "Monthly"))
UNITS = {"daily": "day", "weekly": "week", "monthly": "month"}
ERR = "color: #b3261e;"


class ScheduleDialog(QDialog):
    """Values come out as a dict: account_id, recipients, text, when (naive), zone, recurrence."""

    sig_submitted = Signal(object)

    def __init__(
        self,
        accounts: list[Account],
        default_zone: str,
        item: ScheduleItem | None = None,
        recipients: list[str] | None = None,
        parent: QWidget | None = None,
        suggest: Suggest | None = None,
        templates: TemplateService | None = None,
    ) -> None:
        super().__init__(parent)
        self.item = item
        self._templates = templates
        self._accounts = {acct.id: acct for acct in accounts}
        self._month_day: int | None = None  # editing keeps a monthly send on its day (31st stays 31st)
        self.setObjectName("schedule_dialog")
        self.setWindowTitle("Edit scheduled send" if item else "Schedule a send")
        self.setMinimumWidth(520)
        self.account = QComboBox()
        self.account.setObjectName("account")
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.setMinimumContentsLength(24)  # a long account name must not widen the dialog
        for acct in accounts:
            self.account.addItem(acct.name, acct.id)
        self.to = QLineEdit()
        self.to.setObjectName("to")
        self.to.setPlaceholderText("07911 123456, Ann Lee, @Saturday team")
        self.to.setToolTip(
            "Numbers, contacts by name, or one group as @name: a group's members are taken again at each run."
        )
        self.to_completer = RecipientCompleter(self.to, suggest) if suggest is not None else None
        self.body = MessageEdit(objectName="body")
        self.body.setFixedHeight(90)
        self.counter = MessageCounter(objectName="counter")
        self.when = QDateTimeEdit()
        self.when.setObjectName("when")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd dd MMM yyyy  HH:mm")
        self.zone = QComboBox()
        self.zone.setObjectName("zone")
        self.zone.setEditable(True)
        zones = list(dict.fromkeys([default_zone, *COMMON_ZONES]))
        self.zone.addItems(zones)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for key, label in KIND_LABELS:
            self.kind.addItem(label, key)
        self.interval = IntervalSpin()
        self.interval.setObjectName("interval")
        self.interval.setRange(1, 52)
        self.days = [QCheckBox(name.capitalize()) for name in WEEKDAY_NAMES]
        days_row = QHBoxLayout()
        days_row.setContentsMargins(0, 0, 0, 0)
        for box in self.days:
            days_row.addWidget(box)
        self.days_widget = QWidget()
        self.days_widget.setLayout(days_row)
        repeat_row = QHBoxLayout()
        repeat_row.setContentsMargins(0, 0, 0, 0)
        repeat_row.addWidget(self.kind, 1)
        repeat_row.addWidget(self.interval)
        repeat = QWidget()
        repeat.setLayout(repeat_row)
        self.hint = WrapLabel(objectName="hint")
        self.error = WrapLabel(objectName="error")
        self.error.setStyleSheet(ERR)

        form = QFormLayout()
        form.addRow("Account", self.account)
        form.addRow("To", self.to)
        form.addRow("Message", self.body)
        self.template_button = QPushButton("Insert template…")
        self.template_button.setObjectName("insert_template")
        self.template_button.setToolTip("Insert a saved template at the cursor (Ctrl+T)")
        self.template_button.setVisible(templates is not None)
        self.template_button.clicked.connect(self.insert_template)
        QShortcut(QKeySequence("Ctrl+T"), self).activated.connect(self.insert_template)
        counter_row = QHBoxLayout()
        counter_row.setContentsMargins(0, 0, 0, 0)
        counter_row.addWidget(self.counter, 1)
        counter_row.addWidget(self.template_button)
        form.addRow("", counter_row)
        form.addRow("Send at", self.when)
        form.addRow("Time zone", self.zone)
        form.addRow("Repeat", repeat)
        form.addRow("", self.days_widget)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("save")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.account.currentIndexChanged.connect(self._account_changed)
        self._fill(item, recipients or [])
        self._kind_changed()
        self._account_changed()
        self.counter.follow(self.body)
        QWidget.setTabOrder(self.body, self.when)  # Tab from the message goes on to the time (Ctrl+T inserts)

    def _fill(self, item: ScheduleItem | None, recipients: list[str]) -> None:
        if item is None:
            start = QDateTime.currentDateTime().addSecs(3600)
            self.when.setDateTime(QDateTime(start.date(), QTime(start.time().hour(), 0)))
            return
        idx = self.account.findData(item.account_id)
        self.account.setCurrentIndex(max(0, idx))
        self.account.setEnabled(False)  # moving a send between accounts is a new send
        self.to.setText(", ".join(recipients))
        self.body.setPlainText(item.body)
        if item.group_id is not None:
            why = "Each run sends to the group's members at that moment. To send to others, schedule a new send."
            self.to.setReadOnly(True)
            self.to.setToolTip(why)
        if item.kind == "bulk" and item.group_id is None:
            # Each recipient's text was rendered from the import's template and their row: a
            # change here would be saved but never sent, so it cannot be made here at all.
            why = (
                "A bulk send's text is personalised for each recipient from its import. To change the "
                "text or the recipients, cancel this send and import the file again."
            )
            for field in (self.to, self.body):
                field.setReadOnly(True)
                field.setToolTip(why)
            self.body.setStyleSheet("QPlainTextEdit { color: palette(mid); }")
            self.hint.setText(why + " The time and repeat can be changed here.")
        # The next run's wall-clock time: a changed time re-anchors the repeat from that run on.
        wall = to_local(item.next_run, item.zone).replace(tzinfo=None) if item.next_run else item.first_local
        self._month_day = item.recurrence.month_day or item.first_local.day
        self.when.setDateTime(QDateTime(QDate(wall.year, wall.month, wall.day), QTime(wall.hour, wall.minute)))
        if self.zone.findText(item.zone) < 0:
            self.zone.addItem(item.zone)
        self.zone.setCurrentText(item.zone)
        self.kind.setCurrentIndex(max(0, self.kind.findData(item.recurrence.kind)))
        self.interval.setValue(item.recurrence.interval)
        for d in item.recurrence.weekdays:
            self.days[d].setChecked(True)

    def insert_template(self) -> None:
        """Pick a saved template and put it in at the cursor (merge fields are filled for each
        member of a group when it runs)."""
        if self._templates is not None and not self.body.isReadOnly():
            open_picker(self, self._templates, self._insert)

    def _insert(self, template: SavedTemplate) -> None:
        self.body.setFocus(Qt.FocusReason.OtherFocusReason)
        self.body.insertPlainText(template.body)

    def _account_changed(self) -> None:
        acct = self._accounts.get(self.account.currentData())
        self.counter.set_unicode_mode((acct.settings.get("unicode") or None) if acct is not None else None)

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.days_widget.setVisible(kind == "weekly")
        self.interval.setVisible(kind != "once")
        self.interval.set_unit(UNITS.get(kind, "week"))
        if kind == "weekly" and not any(b.isChecked() for b in self.days):
            self.days[self.when.date().dayOfWeek() - 1].setChecked(True)

    def recurrence(self) -> Recurrence:
        kind = self.kind.currentData()
        weekdays = tuple(i for i, b in enumerate(self.days) if b.isChecked()) if kind == "weekly" else ()
        month_day = self._month_day if kind == "monthly" else None
        return Recurrence(kind, self.interval.value() if kind != "once" else 1, weekdays, month_day)

    def values(self) -> dict[str, Any]:
        dt = self.when.dateTime()
        d, t = dt.date(), dt.time()
        return {
            "account_id": self.account.currentData(),
            "recipients": [p.strip() for p in self.to.text().replace(";", ",").split(",") if p.strip()],
            "text": self.body.toPlainText(),
            "when": datetime(d.year(), d.month(), d.day(), t.hour(), t.minute()),
            "zone": self.zone.currentText().strip(),
            "recurrence": self.recurrence(),
        }

    def _submit(self) -> None:
        self.error.setText("")
        try:
            values = self.values()
        except Exception as exc:  # noqa: BLE001 - a bad repeat rule is shown, not raised
            self.show_error(str(exc))
            return
        self.save_button.setEnabled(False)
        self.sig_submitted.emit(values)

    def show_error(self, text: str) -> None:
        self.save_button.setEnabled(True)
        self.error.setText(text)

    def show_hint(self, text: str) -> None:
        self.hint.setText(text)
