"""Settings: a tab per area (Accounts, Webhooks, General ...), registered in ``ui/pages.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from smsdesk.ui.context import UiContext


class SettingsView(QWidget):
    def __init__(self, ctx: UiContext, tabs: Sequence[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settings_tabs")
        self.by_key: dict[str, QWidget] = {}
        for tab in tabs:
            widget = tab.factory(ctx)
            self.by_key[tab.key] = widget
            self.tabs.addTab(widget, tab.title)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    def show_tab(self, key: str) -> None:
        widget = self.by_key.get(key)
        if widget is not None:
            self.tabs.setCurrentWidget(widget)
