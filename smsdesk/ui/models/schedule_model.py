"""The scheduled queue as a table: next run (in the item's own zone), recipients, account,
who sends it when due (this computer or the provider), repeat, state, text and the latest
note (why it waits or is held).

Recipients are named ("Ann Lee, 07911 123456 +3 more"): the first few numbers of every
item and their contacts' names are fetched in two queries per reload, never while painting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from smsdesk.domain.schedule import ScheduleItem, counts_text, to_local
from smsdesk.services.contacts import ContactLabel, ContactService
from smsdesk.services.scheduler import SchedulerService
from smsdesk.ui import theme

COLUMNS = ("Next run", "Recipients", "Account", "Sent by", "Repeat", "State", "Message", "Last run / note")
RECIPIENTS_COL = 1
WHERE_COL = 3
STATE_COL = 5
MESSAGE_COL = 6
NOTE_COL = 7
NAMED = 2  # recipients named before "+N more"
TIP_NAMED = 5  # named in the tooltip
_TONES = {"held": "warn", "paused": "muted", "running": "info", "cancelled": "muted", "done": "ok"}
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def when_text(item: ScheduleItem) -> str:
    """``Tue 01 Dec 09:00 GMT`` in the zone the person scheduled it in (with the year when it is
    not this year's)."""
    if item.next_run is None:
        return "Now (sending)" if item.state == "running" else "—"
    local = to_local(item.next_run, item.zone)
    # The year only when it is not this one: a shorter column leaves the message more room.
    if local.year == datetime.now(local.tzinfo).year:
        return local.strftime("%a %d %b %H:%M %Z")
    return local.strftime("%a %d %b %Y %H:%M %Z")


def sender_text(item: ScheduleItem) -> tuple[str, str]:
    """Who sends it when it falls due, in words, and why that matters (a tooltip)."""
    if item.location != "provider":
        return "This computer", (
            "smsdesk sends it at the time from this computer: keep smsdesk (or smsdesk serve) running then."
        )
    if item.handed_off:
        return "The provider", "The provider holds it and sends it at the time, even if this computer is off."
    return "The provider (handing over…)", "smsdesk is handing it to the provider, which will then send it at the time."


def last_run_text(item: ScheduleItem) -> str:
    if item.reason and item.state in ("held", "running", "scheduled"):
        return item.reason
    run = item.last_run
    if not run:
        return item.reason
    return counts_text(run.get("counts") or {}, int(run.get("skipped") or 0))


def recipients_text(count: int, first: list[ContactLabel]) -> str:
    """ "Ann Lee, 07911 123456 +3 more": the first names or numbers, then how many others."""
    if not first:
        return f"{count:,} recipient{'s' if count != 1 else ''}"
    shown = first[:NAMED]  # a third name would push the count out of a narrow column
    text = ", ".join(label.text for label in shown)
    rest = count - len(shown)
    return f"{text} +{rest:,} more" if rest > 0 else text


class ScheduleModel(QAbstractTableModel):
    def __init__(
        self, scheduler: SchedulerService, contacts: ContactService, group_name: Callable[[int], str] | None = None
    ) -> None:
        super().__init__()
        self._svc = scheduler
        self._contacts = contacts
        self._group_name = group_name or str
        self._rows: list[ScheduleItem] = []
        self._first: dict[int, list[ContactLabel]] = {}  # item id -> its first recipients, labelled
        self._groups: dict[int, str] = {}  # item id -> the group each run sends to
        self.include_finished = False

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = self._svc.items(include_finished=self.include_finished)
        first = self._svc.first_recipients([it.id for it in self._rows], TIP_NAMED)
        labels = self._contacts.labels_for(n for numbers in first.values() for n in numbers)
        self._first = {sid: [labels[n] for n in numbers] for sid, numbers in first.items()}
        self._groups = {it.id: self._group_name(it.group_id) for it in self._rows if it.group_id is not None}
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
                (
                    f"@{self._groups[it.id]} ({it.recipient_count:,} last time)"
                    if it.id in self._groups
                    else recipients_text(it.recipient_count, self._first.get(it.id, []))
                ),
                it.account,
                sender_text(it)[0],
                it.recurrence.describe(),
                it.state_label,
                it.body.replace("\n", " "),
                last_run_text(it),
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == RECIPIENTS_COL and it.id in self._groups:
            return f"Each run sends to the members of '{self._groups[it.id]}' at that moment."
        if role == Qt.ItemDataRole.ToolTipRole and col == RECIPIENTS_COL:
            first = self._first.get(it.id, [])
            lines = [label.full for label in first]
            if it.recipient_count > len(first):
                lines.append(f"and {it.recipient_count - len(first):,} more ({it.recipient_count:,} in all)")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == WHERE_COL:
                return sender_text(it)[1]
            parts = [it.body, f"Time zone: {it.zone}", f"State: {it.state_label}"]
            if it.reason:
                parts.append(it.reason)
            return "\n".join(parts)
        if role == Qt.ItemDataRole.ForegroundRole and col == STATE_COL and it.state in _TONES:
            return QBrush(theme.color(_TONES[it.state]))
        if role == Qt.ItemDataRole.UserRole:
            return it.id
        return None
