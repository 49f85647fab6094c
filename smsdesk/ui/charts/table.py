"""The numbers behind a chart as a table, for a table view beside the chart (and for people
who read tables better than pictures)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from smsdesk.ui.charts.data import ChartData

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
# The raw value (a float, or None when unknown) for sorting and exports; display is formatted.
ValueRole = Qt.ItemDataRole.UserRole


class ChartTableModel(QAbstractTableModel):
    """One row per category, one column per series (and a total for stacked charts).

    Args:
        data: the chart's data (the same object the chart widget shows).
        category_header: the first column's heading (``Day``, ``Hour``, ``Week``).
    """

    def __init__(
        self,
        data: ChartData | None = None,
        category_header: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.category_header = category_header
        self._data = data or ChartData((), ())

    @property
    def chart_data(self) -> ChartData:
        return self._data

    def set_data(self, data: ChartData) -> None:
        self.beginResetModel()
        self._data = data
        self.endResetModel()

    @property
    def has_total(self) -> bool:
        return self._data.stacked and len(self._data.series) > 1

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._data.categories)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else 1 + len(self._data.series) + int(self.has_total)

    def value(self, row: int, column: int) -> float | None:
        """The number in a value cell (``column`` >= 1)."""
        if column - 1 < len(self._data.series):
            return self._data.value(row, column - 1)
        return self._data.total(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if column == 0:
            if role in (Qt.ItemDataRole.DisplayRole, ValueRole):
                return self._data.categories[row].title
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._data.fmt.format(self.value(row, column))
        if role == ValueRole:
            return self.value(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == 0:
                return self.category_header
            if section - 1 < len(self._data.series):
                return self._data.series[section - 1].name
            return "Total"
        if role == Qt.ItemDataRole.TextAlignmentRole and section > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
