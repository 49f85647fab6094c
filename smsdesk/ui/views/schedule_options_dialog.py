"""Per-account scheduling options: quiet hours and provider-side scheduling (opt-in).

The provider's own words about its limits (for example "has NO cancel") are shown next to the
switch before anything is saved; switching on a provider without cancel needs a second,
explicit confirmation (``QMessageBox.open()``, never a nested loop).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.models import Account
from smsdesk.services.scheduler_provider import ProviderScheduling

ERR = "color: #b3261e;"


class ScheduleOptionsDialog(QDialog):
    """Emits ``sig_submitted(account_id, quiet_hours_text, provider_side, acknowledged)``."""

    sig_submitted = Signal(int, str, bool, bool)

    def __init__(self, accounts: list[Account], provider: ProviderScheduling, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule_options")
        self.setWindowTitle("Scheduling options")
        self.setMinimumWidth(480)
        self.provider = provider
        self.accounts = {a.id: a for a in accounts}
        self.account = QComboBox()
        self.account.setObjectName("account")
        for a in accounts:
            self.account.addItem(a.name, a.id)
        self.quiet = QLineEdit()
        self.quiet.setObjectName("quiet_hours")
        self.quiet.setPlaceholderText("e.g. 21:00-08:00 (empty: off)")
        quiet_help = QLabel(
            "In each recipient's own time zone (from the number). Messages due inside the "
            "window wait until it ends; the queue says why."
        )
        quiet_help.setWordWrap(True)
        self.provider_side = QCheckBox("Let the provider hold one-off scheduled sends")
        self.provider_side.setObjectName("provider_side")
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet(ERR)
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Account", self.account)
        form.addRow("Quiet hours", self.quiet)
        form.addRow("", quiet_help)
        form.addRow("Provider", self.provider_side)
        form.addRow("", self.notice)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.account.currentIndexChanged.connect(self._load)
        self._load()

    def _current(self) -> Account:
        return self.accounts[self.account.currentData()]

    def _load(self) -> None:
        acct = self._current()
        self.quiet.setText(str(acct.settings.get("quiet_hours") or ""))
        supported = self.provider.supported(acct)
        self.provider_side.setEnabled(supported)
        self.provider_side.setChecked(self.provider.wanted(acct))
        self.notice.setText(self.provider.notice(acct))

    def _submit(self) -> None:
        acct = self._current()
        on = self.provider_side.isChecked()
        if on and not self.provider.wanted(acct) and not self.provider.can_cancel(acct):
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Provider cannot cancel",
                self.provider.notice(acct) + "\n\nSwitch provider-side scheduling on anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.setObjectName("confirm_no_cancel")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.setDefaultButton(QMessageBox.StandardButton.No)
            box.finished.connect(lambda b: self._emit(acct, on, True) if b == QMessageBox.StandardButton.Yes else None)
            box.open()
            return
        self._emit(acct, on, False)

    def _emit(self, acct: Account, on: bool, acknowledged: bool) -> None:
        self.error.setText("")
        self.save_button.setEnabled(False)
        self.sig_submitted.emit(acct.id, self.quiet.text().strip(), on, acknowledged)

    def show_error(self, text: str) -> None:
        self.save_button.setEnabled(True)
        self.error.setText(text)
