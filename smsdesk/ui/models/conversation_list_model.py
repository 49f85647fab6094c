"""The inbox: conversations, latest activity first, loaded a page at a time.

Qt's ``canFetchMore``/``fetchMore`` pull the next page (keyset on ``(last_at, id)``) as the
person scrolls down, so 50,000 conversations cost one page at start. ``apply(changes)``
refreshes only the conversations the changed messages belong to: a conversation with new
activity moves to the top (``beginMoveRows`` keeps the selection on it), a receipt just
repaints its row. Filters other than "all" reload, since membership may change.

A row shows the contact's name (it comes with the row) or else the number as people write
it; numbers are formatted as rows are fetched, a page at a time, never while painting.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from smsdesk.domain.events import Changes
from smsdesk.services.contacts import ContactService
from smsdesk.services.conversations import ConversationRow, ConversationService, ListFilter

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # the (immutable) invalid index: the list's root
ConversationRole = Qt.ItemDataRole.UserRole + 1
IdRole = Qt.ItemDataRole.UserRole + 2
PAGE = 200


class ConversationListModel(QAbstractListModel):
    def __init__(self, service: ConversationService, contacts: ContactService, parent: QObject | None = None) -> None:
        # A parent makes Qt own the model: it then dies with its view on the GUI thread,
        # never later from Python's garbage collector on whichever thread runs it.
        super().__init__(parent)
        self._svc = service
        self._contacts = contacts
        self._rows: list[ConversationRow] = []
        self._shown: dict[str, str] = {}  # number -> as people write it
        self._pos: dict[int, int] = {}
        self._more = False
        self.filter = ListFilter.ALL

    # ---- loading -----------------------------------------------------------------------
    def set_filter(self, flt: ListFilter | str) -> None:
        self.filter = ListFilter(flt)
        self.reload()

    def reload(self) -> None:
        """Reload from the top, keeping as many rows as were loaded (at least one page)."""
        want = max(PAGE, len(self._rows))
        rows = self._svc.list(self.filter, limit=want + 1)
        self.beginResetModel()
        self._more = len(rows) > want
        self._rows = rows[:want]
        self._shown = self._contacts.number_texts({c.remote for c in self._rows})
        self._reindex()
        self.endResetModel()

    def canFetchMore(self, parent: Index = _ROOT) -> bool:  # noqa: N802 - Qt API
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index = _ROOT) -> None:  # noqa: N802 - Qt API
        if parent.isValid() or not self._more or not self._rows:
            return
        last = self._rows[-1]
        page = self._svc.list(self.filter, after=(last.last_at, last.id), limit=PAGE + 1)
        self._more = len(page) > PAGE
        page = [c for c in page[:PAGE] if c.id not in self._pos]
        if not page:
            return
        self._format(page)
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows += page
        self._reindex()
        self.endInsertRows()

    def _reindex(self) -> None:
        self._pos = {c.id: i for i, c in enumerate(self._rows)}

    def _format(self, rows: list[ConversationRow]) -> None:
        missing = {c.remote for c in rows} - self._shown.keys()
        if missing:
            self._shown.update(self._contacts.number_texts(missing))

    # ---- live updates ------------------------------------------------------------------
    def apply(self, changes: Changes) -> None:
        if changes.everything or changes.optouts or changes.contacts or changes.accounts:
            self.reload()
            return
        if not changes.message_ids and not changes.conversation_ids:
            return
        affected = self._svc.affected_by(changes.message_ids) | changes.conversation_ids
        if not affected:
            return
        if self.filter != ListFilter.ALL:
            self.reload()
            return
        for conv in sorted(self._svc.get_many(sorted(affected)), key=lambda c: (c.last_at, c.id)):
            self._update(conv)

    def _update(self, conv: ConversationRow) -> None:
        self._format([conv])
        row = self._pos.get(conv.id)
        if row is None:
            # New, or an old one beyond the loaded pages that has new activity: it goes on top.
            if self._rows and (conv.last_at, conv.id) < (self._rows[-1].last_at, self._rows[-1].id) and self._more:
                return
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._rows.insert(0, conv)
            self._reindex()
            self.endInsertRows()
            return
        old = self._rows[row]
        if row > 0 and (conv.last_at, conv.id) > (old.last_at, old.id):
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), 0)
            del self._rows[row]
            self._rows.insert(0, conv)
            self._reindex()
            self.endMoveRows()
            return
        self._rows[row] = conv
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    # ---- access ------------------------------------------------------------------------
    def conversation_at(self, row: int) -> ConversationRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, conversation_id: int) -> int:
        return self._pos.get(conversation_id, -1)

    def number_text(self, c: ConversationRow) -> str:
        """The conversation's number as people write it (the name, if any, is ``c.contact_name``)."""
        return self._shown.get(c.remote, c.remote)

    def title(self, c: ConversationRow) -> str:
        return c.contact_name or self.number_text(c)

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        c = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.title(c)
        if role == ConversationRole:
            return c
        if role == IdRole:
            return c.id
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{c.contact_name}\n" if c.contact_name else ""
            tip += f"{self.number_text(c)} · {c.account}"
            if c.opted_out:
                tip += "\nOpted out: sending is blocked"
            if c.assignee:
                tip += f"\nAssigned to {c.assignee}"
            if c.state != "open":
                tip += f"\n{c.state.capitalize()}"
            return tip
        if role == Qt.ItemDataRole.AccessibleTextRole:
            unread = f", {c.unread} unread" if c.unread else ""
            team = (f", assigned to {c.assignee}" if c.assignee else "") + (f", {c.state}" if c.state != "open" else "")
            return f"{self.title(c)}{unread}{team}: {c.last_body}"
        return None
