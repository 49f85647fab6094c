"""Choosing a suggestion under a To box as a person does: a click on it in the popup."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from smsdesk.ui.widgets.recipient_completer import RecipientCompleter


def pick(gui: Any, completer: RecipientCompleter, shown: str) -> None:
    """Wait for ``shown`` in the open popup of ``completer``, then click it."""
    popup = completer.popup
    gui.wait_until(lambda: popup.isVisible() and shown in completer.suggestions)
    index = popup.model().index(completer.suggestions.index(shown), 0)
    popup.scrollTo(index)
    QTest.mouseClick(popup.viewport(), Qt.MouseButton.LeftButton, pos=popup.visualRect(index).center())
