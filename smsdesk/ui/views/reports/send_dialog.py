"""One send in detail: every recipient, what became of their message, and the way to their thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.status import status_of
from smsdesk.services.reports import FAILED, PENDING, RunMessage, SendDetail, failure_reason, percent_text
from smsdesk.ui.theme import set_tone

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
COLUMNS = ("Recipient", "Number", "Status", "Why it failed", "Replied", "Opted out after")
FILTERS = (
    ("all", "Everyone"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("pending", "Waiting for a receipt"),
    ("replied", "Replied"),
    ("opted_out", "Opted out after"),
)


def matches(m: RunMessage, which: str) -> bool:
    if which == "delivered":
        return m.status == "delivered"
    if which == "failed":
        return m.status in FAILED
    if which == "pending":
        return m.status in PENDING
    if which == "replied":
        return m.replied
    if which == "opted_out":
        return m.opted_out
    return m.status != "cancelled"


class RunMessagesModel(QAbstractTableModel):
    def __init__(
        self, rows: list[RunMessage], names: dict[str, str], shown: Callable[[str], str], parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.everyone = rows
        self.rows = [m for m in rows if matches(m, "all")]
        self.names = names
        self._shown = shown  # how a number is written: asked only for the rows on screen (~20 us each)
        self._written: dict[str, str] = {}

    def show_only(self, which: str) -> None:
        """Show the recipients ``which`` names (a key of :data:`FILTERS`)."""
        self.beginResetModel()
        self.rows = [m for m in self.everyone if matches(m, which)]
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        m = self.rows[index.row()]
        col = index.column()
        if col == 0:
            return self.names.get(m.number) or m.name
        if col == 1:
            written = self._written.get(m.number)
            if written is None:
                written = self._written[m.number] = self._shown(m.number)
            return written
        if col == 2:
            return status_of(m.status).label if m.status else ""
        if col == 3:
            return failure_reason(m.status, m.reason) if m.status in FAILED else ""
        if col == 4:
            return "Yes" if m.replied else ""
        return "Yes" if m.opted_out else ""

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class SendDetailDialog(QDialog):
    """The messages of one send; Enter or a double-click opens that person's conversation."""

    def __init__(
        self,
        detail: SendDetail,
        names: dict[str, str],
        shown: Callable[[str], str],
        open_thread: Callable[[int, str], None],
        which: str = "all",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("send_detail")
        s = detail.summary
        self.setWindowTitle(f"{s.kind_text}: {s.title}")
        self.open_thread = open_thread
        summary = QLabel(
            f"<b>{s.kind_text}</b> · started {s.started_at.strftime('%a %d %b %Y %H:%M')}<br>"
            f"{s.recipients:,} recipients · {s.delivered:,} delivered · {s.failed:,} failed · "
            f"{s.pending:,} waiting · {s.replied:,} replied ({percent_text(s.reply_rate)}) · "
            f"{s.opted_out:,} opted out after · cost {s.cost.text}"
        )
        summary.setObjectName("send_detail_summary")
        summary.setWordWrap(True)
        self.filter = QComboBox()
        self.filter.setObjectName("send_detail_filter")
        for key, label in FILTERS:
            self.filter.addItem(label, key)
        self.model = RunMessagesModel(list(detail.messages), names, shown, self)
        self.table = QTableView()
        self.table.setObjectName("send_detail_table")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((170, 130, 110, 260, 70)):
            self.table.setColumnWidth(col, width)
        self.table.activated.connect(self._open)  # a double-click or Enter
        self.count = QLabel()
        set_tone(self.count, "muted")
        hint = QLabel("Double-click someone (or press Enter) to open their conversation.")
        set_tone(hint, "muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.filter)
        top.addStretch(1)
        top.addWidget(self.count)
        lay = QVBoxLayout(self)
        lay.addWidget(summary)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(hint)
        lay.addWidget(buttons)
        self.resize(860, 520)
        self.filter.currentIndexChanged.connect(self._refilter)
        self.filter.setCurrentIndex(max(0, self.filter.findData(which)))
        self._refilter()

    def _refilter(self) -> None:
        self.model.show_only(str(self.filter.currentData()))
        n = self.model.rowCount()
        self.count.setText(f"{n:,} shown")

    def _open(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        m = self.model.rows[index.row()]
        self.open_thread(m.account_id, m.number)
