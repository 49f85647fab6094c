"""The Contacts page's list: one page of the address book at a time, however large it is.

A table model over :meth:`ContactService.search`: the first page (with the total) is read
when the query changes, further pages as the view scrolls towards them (Qt's
``canFetchMore``/``fetchMore``), so 100,000 contacts cost one page of rows, never a widget
or even a Python object per contact. Sorting by a column asks the database for that order.
Numbers show as people write them, labelled once per page when it arrives, never while
painting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from smsdesk.domain.contacts import Contact, ContactQuery, ContactSort
from smsdesk.services.contacts import ContactService

COLUMNS = ("Name", "Number", "Tags", "Texts")
NAME_COL, NUMBER_COL, TAGS_COL, STATE_COL = range(4)
PAGE = 100  # rows read at a time: three screens, and cheap enough for every key typed
_SORTS = {NAME_COL: ContactSort.NAME, NUMBER_COL: ContactSort.NUMBER}
Index = QModelIndex | QPersistentModelIndex


class ContactsModel(QAbstractTableModel):
    """Contacts matching :attr:`query`, read a page at a time.

    Signals:
        sig_total: how many contacts match in all (after each new query).
    """

    sig_total = Signal(int)

    def __init__(self, contacts: ContactService, page: int = PAGE) -> None:
        super().__init__()
        self._contacts = contacts
        self._page = page
        self.query = ContactQuery(limit=page)
        self.total = 0
        self.at_least = False  # total is only "at least" (a quick count while typing)
        self._more = False
        self._rows: list[Contact] = []
        self._shown: dict[str, str] = {}

    # ---- what to show ------------------------------------------------------------------
    def set_query(self, query: ContactQuery) -> None:
        """Show the first page of ``query`` (its offset and limit are this model's own)."""
        self.query = replace(query, offset=0, limit=self._page)
        self.reload()

    def reload(self) -> None:
        """Read the first page again (after an edit, an import, a filter change)."""
        page = self._contacts.search(self.query, quick=True)
        self.beginResetModel()
        self._rows = list(page.rows)
        self.total = max(page.total, len(self._rows))
        self.at_least = page.at_least
        self._more = len(page.rows) == self._page
        self._shown = self._contacts.number_texts(c.number for c in self._rows if c.number)
        self.endResetModel()
        self.sig_total.emit(self.total)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        if parent.isValid():
            return False
        return len(self._rows) < self.total or (self.at_least and self._more)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        if parent.isValid():
            return
        page = self._contacts.search(replace(self.query, offset=len(self._rows)), count=False)
        self._more = len(page.rows) == self._page
        if not page.rows:
            self.total, self.at_least = len(self._rows), False  # no more: stop asking
            return
        first = len(self._rows)
        if self.at_least and len(self._rows) + len(page.rows) > self.total:
            self.total = len(self._rows) + len(page.rows)  # "more than N" grows as the list is read
        self._shown.update(self._contacts.number_texts(c.number for c in page.rows if c.number))
        self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
        self._rows.extend(page.rows)
        self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        by = _SORTS.get(column)
        if by is None:
            return
        self.set_query(replace(self.query, sort=by, descending=order == Qt.SortOrder.DescendingOrder))

    # ---- reading rows ------------------------------------------------------------------
    def contact_at(self, row: int) -> Contact | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, contact_id: int) -> int:
        """The row showing ``contact_id`` among the rows read so far, -1 if none."""
        return next((i for i, c in enumerate(self._rows) if c.id == contact_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        c = self.contact_at(index.row())
        if c is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == NAME_COL:
                return c.shown_name or "(no name)"
            if col == NUMBER_COL:
                return self._shown.get(c.number, c.number) if c.number else "no number"
            if col == TAGS_COL:
                return ", ".join(c.tags)
            return "Opted out" if c.opted_out else ("Yes" if c.number else "No number")
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == NUMBER_COL and c.number:
                return c.number
            if col == STATE_COL and c.opted_out:
                return f"Opted out: {c.opted_out}. smsdesk will not text this number."
        if role == Qt.ItemDataRole.UserRole:
            return c.id
        return None
