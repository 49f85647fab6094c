"""The scheduled queue as a table: next run (in the item's own zone), recipients, account,
where it is scheduled, repeat, state, text and the latest note (why it waits or is held)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from smsdesk.domain.schedule import ScheduleItem, counts_text, to_local
from smsdesk.services.scheduler import SchedulerService

COLUMNS = ("Next run", "Recipients", "Account", "Where", "Repeat", "State", "Message", "Last run / note")
STATE_COL = 5
_COLORS = {
    "held": "#a15c00",
    "paused": "#666666",
    "running": "#1f5fbf",
    "cancelled": "#666666",
    "done": "#1b7f3b",
}
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def when_text(item: ScheduleItem) -> str:
    """``Tue 01 Dec 2026 09:00 GMT`` in the zone the person scheduled it in."""
    if item.next_run is None:
        return "Now (sending)" if item.state == "running" else "—"
    local = to_local(item.next_run, item.zone)
    return local.strftime("%a %d %b %Y %H:%M %Z")


def last_run_text(item: ScheduleItem) -> str:
    if item.reason and item.state in ("held", "running", "scheduled"):
        return item.reason
    run = item.last_run
    if not run:
        return item.reason
    return counts_text(run.get("counts") or {}, int(run.get("skipped") or 0))


class ScheduleModel(QAbstractTableModel):
    def __init__(self, scheduler: SchedulerService) -> None:
        super().__init__()
        self._svc = scheduler
        self._rows: list[ScheduleItem] = []
        self.include_finished = False

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = self._svc.items(include_finished=self.include_finished)
        self.endResetModel()

    def item_at(self, row: int) -> ScheduleItem | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, sid: int) -> int:
        return next((i for i, it in enumerate(self._rows) if it.id == sid), -1)

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        it = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                when_text(it),
                str(it.recipient_count),
                it.account,
                "At provider" if it.location == "provider" and it.handed_off else
                "Provider (pending)" if it.location == "provider" else "smsdesk",
                it.recurrence.describe(),
                it.state_label,
                it.body.replace("\n", " "),
                last_run_text(it),
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [it.body, f"Time zone: {it.zone}", f"State: {it.state_label}"]
            if it.reason:
                parts.append(it.reason)
            return "\n".join(parts)
        if role == Qt.ItemDataRole.ForegroundRole and col == STATE_COL and it.state in _COLORS:
            return QBrush(QColor(_COLORS[it.state]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return it.id
        return None
