"""Pieces of the Reports page: a headline figure, a chart with its table beside it, the sends list."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smsdesk.services.reports import SendSummary, percent_text
from smsdesk.ui.charts import ChartTableModel, ChartWidget, HourOfDayChart, LineChart, StackedBarChart
from smsdesk.ui.charts.layout import ChartKind
from smsdesk.ui.report_charts import ReportChart
from smsdesk.ui.theme import set_tone

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class Figure(QFrame):
    """One headline figure: a big value and what it is, with an optional note under it."""

    def __init__(self, key: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"figure_{key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value = QLabel("\u2014")
        self.value.setObjectName(f"figure_{key}_value")
        self.value.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        set_tone(self.note, "muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(2)
        lay.addWidget(self.value)
        lay.addWidget(self.caption)
        lay.addWidget(self.note)
        lay.addStretch(1)

    def show_value(self, value: str, note: str = "", tone: str = "") -> None:
        self.value.setText(value)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        set_tone(self.value, tone)
        self.setAccessibleName(f"{self.caption.text()}: {value}{'. ' + note if note else ''}")


_WIDGETS: dict[str, type[ChartWidget]] = {"hours": HourOfDayChart}


class ChartPanel(QWidget):
    """A chart with a table of the same numbers beside it, under a heading."""

    def __init__(self, chart: ReportChart, category_header: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"chart_{chart.key}")
        self.heading = QLabel(chart.title)
        self.heading.setStyleSheet("font-weight: 600;")
        kind = _WIDGETS.get(chart.key) or (LineChart if chart.kind is ChartKind.LINE else StackedBarChart)
        self.chart = kind(chart.data)
        self.chart.setObjectName(f"chart_{chart.key}_chart")
        self.chart.setMinimumHeight(200)
        self.model = ChartTableModel(chart.data, category_header, self)
        self.table = QTableView()
        self.table.setObjectName(f"chart_{chart.key}_table")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumWidth(220)
        self.table.setMaximumHeight(260)
        self.chart.sig_point_focused.connect(lambda i, _j, _text: self.table.selectRow(i))
        row = QHBoxLayout()
        row.addWidget(self.chart, 3)
        row.addWidget(self.table, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.heading)
        lay.addLayout(row)

    def set_chart(self, chart: ReportChart, category_header: str) -> None:
        self.heading.setText(chart.title)
        self.chart.set_data(chart.data)
        self.model.category_header = category_header
        self.model.set_data(chart.data)


SEND_COLUMNS = (
    "Started", "Kind", "Send", "Recipients", "Delivered", "Failed", "Pending", "Replied", "Reply rate", "Opted out",
    "Cost",
)  # fmt: skip
# Which messages of a send a column's number stands for (the detail opens showing those).
COLUMN_FILTER = {4: "delivered", 5: "failed", 6: "pending", 7: "replied", 9: "opted_out"}


class SendsModel(QAbstractTableModel):
    """Every send of the period: recipients and what became of their messages."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sends: list[SendSummary] = []

    def set_sends(self, sends: list[SendSummary]) -> None:
        self.beginResetModel()
        self.sends = sends
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.sends)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(SEND_COLUMNS)

    def cell(self, s: SendSummary, column: int) -> str:
        values: tuple[Any, ...] = (
            s.started_at.strftime("%a %d %b %H:%M"), s.kind_text, s.title, s.recipients, s.delivered, s.failed,
            s.pending, s.replied, percent_text(s.reply_rate), s.opted_out, s.cost.text,
        )  # fmt: skip
        value = values[column]
        return f"{value:,}" if isinstance(value, int) else str(value)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        s = self.sends[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.cell(s, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and 3 <= index.column() <= 9:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() in COLUMN_FILTER:
                return "Double-click to see these messages"
            return "Double-click to see this send's messages"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return SEND_COLUMNS[section]
        return None
