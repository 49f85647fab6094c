"""Choose a saved template to insert: a small list filtered as you type, Enter inserts.

One picker serves Compose, the reply box (quick replies) and wherever a message is written:
the caller gets the chosen :class:`SavedTemplate` and decides how to insert it (the reply
box fills the merge fields for the person it answers). Opened with ``open()``, never
``exec()``: a nested loop would stall the asyncio tasks running in the GUI loop.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from smsdesk.services.templates import SavedTemplate, TemplateService

PREVIEW_CHARS = 70


class TemplatePicker(QDialog):
    """Lists saved templates; ``on_chosen(template)`` for the one picked (Enter or double-click)."""

    def __init__(self, parent: QWidget, templates: TemplateService, on_chosen: Callable[[SavedTemplate], None]) -> None:
        super().__init__(parent)
        self.setObjectName("template_picker")
        self.setWindowTitle("Insert a saved template")
        self._templates = templates
        self._on_chosen = on_chosen
        self.search = QLineEdit()
        self.search.setObjectName("template_picker_search")
        self.search.setPlaceholderText("Type to find a template by name, category or words")
        self.list = QListWidget()
        self.list.setObjectName("template_picker_list")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        self.resize(460, 320)
        self.search.textChanged.connect(self.fill)
        self.search.installEventFilter(self)  # Up/Down move in the list while typing
        self.list.itemActivated.connect(self._activated)
        self.fill()

    def fill(self, _text: str = "") -> None:
        words = self.search.text().casefold().split()
        self.list.clear()
        for t in self._templates.templates():
            haystack = f"{t.name} {t.category} {t.body}".casefold()
            if all(w in haystack for w in words):
                body = " ".join(t.body.split())
                shown = body if len(body) <= PREVIEW_CHARS else body[: PREVIEW_CHARS - 1] + "…"
                category = f" · {t.category}" if t.category else ""
                item = QListWidgetItem(f"{t.name}{category} — {shown}")
                item.setData(Qt.ItemDataRole.UserRole, t.id)
                item.setToolTip(t.body)
                self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
            self.empty.setText("")
        elif words:
            self.empty.setText("No template matches. Templates are made on the Templates page (Ctrl+8).")
        else:
            self.empty.setText("No saved templates yet. Make one on the Templates page (Ctrl+8).")

    def names(self) -> list[str]:
        """The templates listed now, by name."""
        ids = [int(self.list.item(r).data(Qt.ItemDataRole.UserRole)) for r in range(self.list.count())]
        return [self._templates.get(i).name for i in ids]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.search and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(row, self.list.count() - 1)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._activated(item)
                return True
        return super().eventFilter(watched, event)

    def _activated(self, item: QListWidgetItem) -> None:
        template = self._templates.get(int(item.data(Qt.ItemDataRole.UserRole)))
        self.accept()
        self._on_chosen(template)


def open_picker(
    parent: QWidget, templates: TemplateService, on_chosen: Callable[[SavedTemplate], None]
) -> TemplatePicker:
    """Show the picker (deleted when closed), the cursor in its search box."""
    picker = TemplatePicker(parent, templates, on_chosen)
    picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    picker.open()
    picker.search.setFocus(Qt.FocusReason.OtherFocusReason)
    return picker
