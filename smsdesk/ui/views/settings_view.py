"""Settings: a tab per area (Accounts, Webhooks, General ...), registered in ``ui/pages.py``.

A tab built from the database while it does not answer (a team workspace's server away)
shows a line saying so instead, and is built when the database answers again; the tabs that
need no database (General, Workspace: where a person can leave a workspace that is gone)
work meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from smsdesk.domain.errors import StorageError
from smsdesk.domain.events import Changes
from smsdesk.ui import aio
from smsdesk.ui.context import UiContext
from smsdesk.ui.widgets.labels import waiting_for_store


class SettingsView(QWidget):
    def __init__(self, ctx: UiContext, tabs: Sequence[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settings_tabs")
        self.by_key: dict[str, QWidget] = {}
        self._waiting: dict[str, Any] = {}  # tabs not built yet: the database did not answer
        for tab in tabs:
            self.tabs.addTab(self._build(tab), tab.title)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        if self._waiting:
            ctx.bridge.sig_changed.connect(self._on_changes)

    def _build(self, tab: Any) -> QWidget:
        try:
            widget: QWidget = tab.factory(self.ctx)
        except StorageError:
            if self.ctx.services.health.ok:
                raise
            widget = waiting_for_store(tab.title, "tab_waiting")
            self._waiting[tab.key] = tab
        else:
            self._waiting.pop(tab.key, None)
        self.by_key[tab.key] = widget
        return widget

    @aio.redraw_slot
    def _on_changes(self, changes: Changes) -> None:
        if not changes.connection or not self._waiting or not self.ctx.services.health.ok:
            return
        current = self.tabs.currentIndex()
        for key, tab in list(self._waiting.items()):
            index = self.tabs.indexOf(self.by_key[key])
            stand_in = self.by_key[key]
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, self._build(tab), tab.title)
            stand_in.deleteLater()
        self.tabs.setCurrentIndex(current)

    def show_tab(self, key: str) -> None:
        widget = self.by_key.get(key)
        if widget is not None:
            self.tabs.setCurrentWidget(widget)
