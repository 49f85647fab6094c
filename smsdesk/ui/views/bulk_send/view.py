"""The "Bulk send" page: a heading over the Bulk wizard, kept fresh while a run goes on."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from smsdesk.ui.context import UiContext
from smsdesk.ui.views.bulk_send.common import StepPage
from smsdesk.ui.views.bulk_send.wizard import BulkSendWizard


class BulkSendView(QWidget):
    """The "Bulk send" page of the main window."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BulkSendView")
        layout = QVBoxLayout(self)
        heading = QLabel("Bulk send")
        heading.setStyleSheet("font-size: 18px; font-weight: 600;")
        hint = QLabel("From a spreadsheet to a checked, personalised send. Every row is accounted for.")
        hint.setStyleSheet("color: palette(mid);")
        layout.addWidget(heading)
        layout.addWidget(hint)
        self.wizard = BulkSendWizard(ctx, self)
        layout.addWidget(self.wizard, 1)
        self._timer = QTimer(self)  # a run in progress keeps its page fresh even without events
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        page = self.wizard.currentPage()
        if isinstance(page, StepPage) and self.isVisible():
            page.refresh()
