"""Table models for the import wizard: the file preview and the per-row verdicts.

Both are virtual: ``data()`` is asked only for the visible cells, so 100,000 rows cost a
list reference, not 100,000 Python objects created on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPalette

from smsdesk.services.imports.readers import Table
from smsdesk.services.imports.validate import REASONS, RowResult, flag_text

Index = QModelIndex | QPersistentModelIndex
# Text colours readable on the light and on the dark table background (contrast >= 4.5:1).
_RED = {False: QColor("#b3261e"), True: QColor("#ff8a80")}
_AMBER = {False: QColor("#a15c00"), True: QColor("#ffb74d")}


def _dark() -> bool:
    return QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


class ImportPreviewModel(QAbstractTableModel):
    """The first rows of a file, as read (headers as detected)."""

    def __init__(self, limit: int = 20) -> None:
        super().__init__()
        self._limit = limit
        self._table: Table | None = None

    def set_table(self, table: Table | None) -> None:
        self.beginResetModel()
        self._table = table
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if self._table is None or parent.isValid() else min(self._limit, len(self._table.rows))

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if self._table is None or parent.isValid() else len(self._table.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._table is None or not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._table.rows[index.row()][index.column()]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or self._table is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._table.headers[section]
        return str(self._table.row_numbers[section])


VERDICT_COLUMNS = ("Row", "Number", "Name", "Result", "Why / notes")
_ROLES = frozenset((Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole))
MESSAGE_COLUMNS = ("Row", "Number", "Message", "Parts", "Encoding", "Notes")


class ImportRowsModel(QAbstractTableModel):
    """Verdicts (``mode="verdict"``) or rendered messages (``mode="message"``) per row."""

    def __init__(self, mode: str = "verdict") -> None:
        super().__init__()
        self.mode = mode
        self.columns = VERDICT_COLUMNS if mode == "verdict" else MESSAGE_COLUMNS
        self._rows: list[RowResult] = []
        self._name: Callable[[int], str] = lambda _i: ""

    def set_rows(self, rows: list[RowResult], names: Callable[[int], str] | None = None) -> None:
        """Show ``rows``; ``names`` gives a row's person from its table index (verdict mode)."""
        self.beginResetModel()
        self._rows = rows
        if names is not None:
            self._name = names
        self.endResetModel()

    def row_at(self, i: int) -> RowResult:
        return self._rows[i]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The view asks each visible cell for ~8 roles at every repaint; answering the ones
        # this model has nothing for before touching the index halves the Python time of a
        # repaint (the verdicts table's took ~10 ms).
        if role not in _ROLES or not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.status == "rejected":
                return QBrush(_RED[_dark()])
            if r.flags and col == len(self.columns) - 1:
                return QBrush(_AMBER[_dark()])
        if role == Qt.ItemDataRole.ToolTipRole and col == len(self.columns) - 1:
            return r.detail or flag_text(r.flags) or None
        return None

    def _display(self, r: RowResult, col: int) -> Any:
        if col == 0:
            return r.row
        if col == 1:
            return r.number or r.raw
        if self.mode == "verdict":
            if col == 2:
                return self._name(r.index)
            if col == 3:
                return "Accepted" if r.status == "accepted" else REASONS.get(r.reason or "", r.reason)
            return r.detail if r.status == "rejected" else flag_text(r.flags)
        if col == 2:
            return (r.text or "").replace("\n", " ⏎ ")
        if col == 3:
            return r.segments
        if col == 4:
            return r.encoding
        return flag_text(r.flags)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return None
