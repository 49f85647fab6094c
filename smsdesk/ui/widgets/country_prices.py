"""A small table of country -> price per segment, for an account whose provider charges by country.

Reads and writes the same text a command line gives (``"KE=0.80, US=0.0079"``), so the account
form treats it as one more field; the service checks it when the account is saved. The last row
is always empty: typing a country there adds a row.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

_SPLIT = (",", ";", "\n")


class CountryPricesEdit(QWidget):
    """Rows of (country code, price); :meth:`text` is what they say as ``CC=price, ...``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("country_prices_table")
        self.table.setHorizontalHeaderLabels(["Country (e.g. KE)", "Price per segment"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.horizontalHeader().setFixedHeight(self.table.fontMetrics().height() + 10)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        row = self.table.fontMetrics().height() + 10
        self.table.setFixedHeight(4 * row + 6)  # a header and three rows; a fixed size keeps the form still
        self.table.setAccessibleName("Prices by country")
        self.remove = QPushButton("Remove country")
        self.remove.setObjectName("country_prices_remove")
        self.remove.clicked.connect(self._remove_selected)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table)
        lay.addLayout(buttons)
        self.table.itemChanged.connect(self._keep_an_empty_row)
        self.setText("")

    def setText(self, text: str) -> None:  # noqa: N802 - the QLineEdit name the account form calls
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for part in text.replace(";", ",").replace("\n", ",").split(","):
            country, _, price = part.partition("=")
            if country.strip():
                self._add_row(country.strip().upper(), price.strip())
        self._add_row("", "")
        self.table.blockSignals(False)

    def text(self) -> str:
        rows = []
        for r in range(self.table.rowCount()):
            country, price = (self._cell(r, c) for c in (0, 1))
            if country or price:
                rows.append(f"{country.upper()}={price}")
        return ", ".join(rows)

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def _add_row(self, country: str, price: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, value in enumerate((country, price)):
            item = QTableWidgetItem(value)
            if column == 1:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)

    def _keep_an_empty_row(self) -> None:
        last = self.table.rowCount() - 1
        if last < 0 or self._cell(last, 0) or self._cell(last, 1):
            self.table.blockSignals(True)
            self._add_row("", "")
            self.table.blockSignals(False)

    def _remove_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < self.table.rowCount() - 1:
            self.table.removeRow(row)
