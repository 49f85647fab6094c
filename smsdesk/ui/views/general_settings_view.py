"""Settings -> General: default country, demo mode, the overdue limit for scheduled sends, from
how many recipients Send asks first, theme.

The theme applies (and is saved) at once, like View -> Theme; the other fields on Save.
"""

from __future__ import annotations

import phonenumbers
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from smsdesk.ui import theme
from smsdesk.ui.context import UiContext


class GeneralSettingsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        s = ctx.services.settings_file.settings
        self.region = QComboBox()
        self.region.setObjectName("default_region")
        for region in sorted(phonenumbers.SUPPORTED_REGIONS):
            self.region.addItem(f"{region} (+{phonenumbers.country_code_for_region(region)})", region)
        self.region.setCurrentIndex(max(0, self.region.findData(s.default_region)))
        self.demo = QCheckBox("Run the built-in sandbox provider (demo mode)")
        self.demo.setChecked(s.demo_mode)
        self.overdue = QSpinBox()
        self.overdue.setRange(1, 24 * 60)
        self.overdue.setSuffix(" minutes")
        self.overdue.setValue(s.overdue_limit_minutes)
        self.confirm = QSpinBox()
        self.confirm.setObjectName("confirm_send_threshold")
        self.confirm.setRange(0, 100_000)
        self.confirm.setSpecialValueText("Never ask")  # shown for 0
        self.confirm.setSuffix(" recipients or more")
        self.confirm.setValue(max(0, int(s.confirm_send_threshold)))
        self.confirm.setToolTip("Send shows how many messages go out and what they may cost, and asks first.")
        self.theme = QComboBox()
        self.theme.setObjectName("theme")
        for mode in theme.MODES:
            self.theme.addItem(theme.MODE_LABELS[mode], mode)
        manager = theme.ensure(ctx)
        self.theme.setCurrentIndex(self.theme.findData(manager.mode))
        self.theme.currentIndexChanged.connect(lambda _i: theme.ensure(self.ctx).set_mode(self.theme.currentData()))
        manager.sig_mode_changed.connect(self._on_theme_mode_changed)
        self.saved = QLabel()
        save = QPushButton("Save")
        save.clicked.connect(self.save)
        form = QFormLayout(self)
        form.addRow("Default country for numbers", self.region)
        form.addRow("", self.demo)
        form.addRow("Hold overdue scheduled sends older than", self.overdue)
        form.addRow("Ask before sending to", self.confirm)
        form.addRow("Theme", self.theme)
        form.addRow("", save)
        form.addRow("", self.saved)

    def save(self) -> None:
        s = self.ctx.services.settings_file.settings
        s.default_region = self.region.currentData()
        s.demo_mode = self.demo.isChecked()
        s.overdue_limit_minutes = self.overdue.value()
        s.confirm_send_threshold = self.confirm.value()
        self.ctx.services.settings_file.save()
        self.saved.setText("Saved. Demo mode changes take effect at the next start.")

    def _on_theme_mode_changed(self, mode: str) -> None:
        self.theme.setCurrentIndex(self.theme.findData(mode))
