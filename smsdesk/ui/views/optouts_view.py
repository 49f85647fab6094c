"""Opt-outs: every number that asked not to be messaged, where that came from and when.

Add (number + optional note) and Remove (after a confirmation) are audited by the service
and pushed to providers that keep their own list; a provider that could not be updated is
named under the list. The list is small (hundreds), so a table widget is enough.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.optouts import OptOutResult
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import confirm
from smsdesk.ui.models.sent_messages_model import local_time
from smsdesk.ui.views.compose_view import ERR_STYLE, HINT_STYLE, OK_STYLE

COLUMNS = ("Number", "Name", "Source", "Note", "Since")


class OptOutsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("OptOutsView")
        title = QLabel("Opt-outs")
        title.setStyleSheet("font-size: 16px; font-weight: 600;")
        intro = QLabel(
            "Numbers here get no messages from smsdesk (Compose, replies, bulk and the command line all "
            "refuse them). Replying STOP adds a number; START or UNSTOP removes it."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(HINT_STYLE)
        self.number = QLineEdit()
        self.number.setObjectName("optout_number")
        self.number.setPlaceholderText("Number to opt out, e.g. 07911 123456")
        self.note = QLineEdit()
        self.note.setObjectName("optout_note")
        self.note.setPlaceholderText("Why (optional, kept in the audit log)")
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("optout_add")
        self.remove_button = QPushButton("Remove selected…")
        self.remove_button.setObjectName("optout_remove")
        self.remove_button.setEnabled(False)
        self.feedback = QLabel()
        self.feedback.setObjectName("optout_feedback")
        self.feedback.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("optout_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

        add_row = QHBoxLayout()
        add_row.addWidget(self.number, 2)
        add_row.addWidget(self.note, 3)
        add_row.addWidget(self.add_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.feedback, 1)
        bottom.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(add_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self.add_button.clicked.connect(self.add)
        self.number.returnPressed.connect(self.add)
        self.note.returnPressed.connect(self.add)
        self.remove_button.clicked.connect(self.confirm_remove)
        self.table.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.table.selectionModel().selectedRows()))
        )
        ctx.bridge.sig_changed.connect(self._on_changes)
        self.reload()

    def reload(self) -> None:
        rows = self.ctx.services.optouts.list()
        shown = self.ctx.services.contacts.number_texts(r.number for r in rows)  # as people write them
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            values = (shown[r.number], r.name, r.source_label, r.note, local_time(r.created_at))
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, r.number)
                self.table.setItem(i, col, item)

    def _on_changes(self, changes: Changes) -> None:
        if changes.optouts or changes.contacts or changes.everything:
            self.reload()

    def selected_number(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else None

    # ---- add ---------------------------------------------------------------------------
    def add(self) -> None:
        raw = self.number.text().strip()
        if not raw:
            self._say("Type a number first.", ERR_STYLE)
            self.number.setFocus()
            return
        try:
            self.ctx.services.optouts.normalise(raw)
        except SmsdeskError as exc:
            self._say(str(exc), ERR_STYLE)
            return
        self.add_button.setEnabled(False)
        spawn(
            self.ctx.services.optouts.add(raw, self.note.text()),
            title="Opt out",
            on_done=lambda r: self._done(r, True),
            on_error=self._failed,
        )

    # ---- remove ------------------------------------------------------------------------
    def confirm_remove(self) -> None:
        number = self.selected_number()
        if number is None:
            return
        confirm(
            self,
            "Remove opt-out",
            f"Allow messages to {self._shown(number)} again?\n\nOnly do this if they asked to receive messages again "
            "(for example by texting START). The change is recorded in the audit log.",
            lambda: self.remove(number),
            name="confirm_remove_optout",
        )

    def remove(self, number: str) -> None:
        spawn(
            self.ctx.services.optouts.remove(number),
            title="Remove opt-out",
            on_done=lambda r: self._done(r, False),
            on_error=self._failed,
        )

    # ---- results -----------------------------------------------------------------------
    def _shown(self, number: str) -> str:
        return self.ctx.services.contacts.number_text(number)

    def _done(self, result: OptOutResult, added: bool) -> None:
        self.add_button.setEnabled(True)
        shown = self._shown(result.number)
        if added:
            text = f"{shown} is opted out." if result.changed else f"{shown} was already opted out."
            self.number.clear()
            self.note.clear()
        else:
            text = f"{shown} may be messaged again."
        if result.provider_errors:
            self._say(text + " Not updated at the provider: " + "; ".join(result.provider_errors), ERR_STYLE)
        else:
            self._say(text, OK_STYLE)
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        self._say(str(exc) if isinstance(exc, SmsdeskError) else f"Failed: {exc}", ERR_STYLE)

    def _say(self, text: str, style: str) -> None:
        self.feedback.setStyleSheet(style)
        self.feedback.setText(text)
