"""The Compose view's list of sent messages, with status cells that change live.

Rows are the newest outgoing messages; a ``Changes`` naming message ids refreshes just
those rows (a burst of receipts costs one query and a few dataChanged signals). The To column
shows the contact's name, or the number as people write it, with the number in its tooltip;
names are looked up in one batch when rows arrive, never while painting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from smsdesk.domain.events import Changes
from smsdesk.domain.status import Status
from smsdesk.ui.plain import without_codes

if TYPE_CHECKING:  # the rows come with the send service, after the first paint
    from smsdesk.domain.models import Message
    from smsdesk.services.contacts import ContactLabel, ContactService
    from smsdesk.services.send import SendService

COLUMNS = ("Time", "To", "Account", "Message", "Status", "Details")
TO_COL = 1
STATUS_COL = 4
_COLORS = {
    Status.DELIVERED: "#1b7f3b",
    Status.FAILED: "#b3261e",
    Status.REJECTED: "#b3261e",
    Status.EXPIRED: "#b3261e",
    Status.NEEDS_REVIEW: "#a15c00",
    Status.UNKNOWN: "#a15c00",
    Status.CANCELLED: "#666666",
}
Index = QModelIndex | QPersistentModelIndex


def local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d %b %H:%M:%S")
    except ValueError:
        return iso


class SentMessagesModel(QAbstractTableModel):
    def __init__(
        self, sending: Callable[[], SendService], contacts: Callable[[], ContactService], limit: int = 500
    ) -> None:
        """``sending`` and ``contacts`` give the send service (the rows) and the contact service
        (names beside numbers) when the list is first filled (:meth:`reload`), not before: the
        list is empty until then, and the first paint imports neither."""
        super().__init__()
        self._sending_of = sending
        self._contacts_of = contacts
        self._limit = limit
        self._rows: list[Message] = []
        self._pos: dict[int, int] = {}
        self._labels: dict[str, ContactLabel] = {}

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = self._sending_of().recent_outgoing(self._limit)
        self._pos = {m.id: i for i, m in enumerate(self._rows)}
        self._labels = self._contacts_of().labels_for(m.remote for m in self._rows)
        self.endResetModel()

    def _label_new(self, msgs: list[Message]) -> None:
        missing = {m.remote for m in msgs} - self._labels.keys()
        if missing:
            self._labels.update(self._contacts_of().labels_for(missing))

    def _label(self, number: str) -> ContactLabel:
        label = self._labels.get(number)
        if label is None:  # not expected (rows are labelled as they arrive); never a query here
            from smsdesk.services.contacts import ContactLabel

            label = ContactLabel(number, number)
        return label

    def apply(self, changes: Changes) -> None:
        if changes.everything:
            self.reload()
            return
        if changes.contacts:
            # A number was named (or the default country changed): relabel the rows shown.
            self._labels = self._contacts_of().labels_for(m.remote for m in self._rows)
            if self._rows:
                self.dataChanged.emit(self.index(0, TO_COL), self.index(len(self._rows) - 1, TO_COL))
        ids = changes.message_ids
        if not ids:
            return
        known = [i for i in ids if i in self._pos]
        # Only ids that would make the newest ``limit``: a bulk run's receipts name thousands of
        # older rows, and fetching them all on the GUI thread froze the window for a second.
        oldest = self._rows[-1].id if len(self._rows) >= self._limit else 0
        new = sorted((i for i in ids if i not in self._pos and i > oldest), reverse=True)[: self._limit]
        if new:
            fresh = self._sending_of().outgoing(new)
            if fresh:
                fresh.sort(key=lambda m: m.id, reverse=True)
                self._label_new(fresh)
                self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
                self._rows[:0] = fresh
                del self._rows[self._limit :]
                self._pos = {m.id: i for i, m in enumerate(self._rows)}
                self.endInsertRows()
        if known:
            for m in self._sending_of().outgoing(known):
                row = self._pos.get(m.id)
                if row is None:
                    continue
                self._rows[row] = m
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def message_at(self, row: int) -> Message | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        m = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return local_time(m.created_at)
            if col == TO_COL:
                return self._label(m.remote).text
            if col == 2:
                return m.account
            if col == 3:
                return m.body.replace("\n", " ")
            if col == STATUS_COL:
                return m.status.label
            if col == 5:
                if m.error:
                    return without_codes(m.error)  # the HTTP code stays in the tooltip
                raw = m.raw_status
                return raw if raw and raw.lower() not in (m.status.label.lower(), "accepted") else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == TO_COL:
                return self._label(m.remote).full
            parts = [m.body, f"Status: {m.status.label} ({m.raw_status or '-'})", f"Reference: {m.local_id}"]
            if m.error:
                parts.append(f"Reason: {m.error}")
            return "\n".join(parts)
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS_COL and m.status in _COLORS:
            return QBrush(QColor(_COLORS[m.status]))
        if role == Qt.ItemDataRole.UserRole:
            return m.id
        return None
