"""One conversation's messages, oldest first, loaded a page (~200) at a time.

A thread of 10,000+ messages never loads whole. Opening shows the newest page (or a page
centred on a search hit). Two directions of paging:

- **older** (upward): :meth:`canFetchMore` / :meth:`fetchMore`, the Qt lazy-loading API, load
  the page before the first row and insert it at the top. A chat view is anchored at the
  bottom, where Qt's own views call ``fetchMore`` whenever the *last* row is visible (always,
  in a chat), which would pull the whole thread in a loop; so fetching is gated: only the
  view's "scrolled to the top" handler opens the gate (:meth:`fetch_older`).
- **newer**: after opening at a search hit, :meth:`fetch_newer` loads the next page as the
  person scrolls down; new messages arriving live are appended only when the last page is
  loaded (otherwise they are simply further down, loaded later).

Statuses update live: ``apply(changes)`` re-reads the changed rows it holds (one query).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from smsdesk.domain.events import Changes
from smsdesk.domain.models import Message
from smsdesk.services.conversations import ConversationService
from smsdesk.ui.plain import without_codes

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # the (immutable) invalid index: the list's root
MessageRole = Qt.ItemDataRole.UserRole + 1
DayRole = Qt.ItemDataRole.UserRole + 2  # day separator text above this row, or ""
IdRole = Qt.ItemDataRole.UserRole + 3


def local_dt(iso: str) -> datetime | None:
    try:
        return datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return None


def day_label(dt: datetime, today: datetime | None = None) -> str:
    today = today or datetime.now().astimezone()
    delta = (today.date() - dt.date()).days
    if delta == 0:
        return "Today"
    if delta == 1:
        return "Yesterday"
    if 0 < delta < 7:
        return dt.strftime("%A")
    return dt.strftime("%A %d %B %Y")


class ThreadModel(QAbstractListModel):
    def __init__(self, service: ConversationService, page_size: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)  # Qt-owned when parented (see ConversationListModel)
        self._svc = service
        self.page_size = page_size
        self.conversation_id: int | None = None
        self._rows: list[Message] = []
        self._pos: dict[int, int] = {}
        self._days: list[str] = []
        self.has_older = False
        self.has_newer = False
        self._gate = False

    # ---- opening -----------------------------------------------------------------------
    def open(self, conversation_id: int | None, around: int | None = None) -> None:
        """Show a conversation's newest page, or the page around message ``around``."""
        self.beginResetModel()
        self.conversation_id = conversation_id
        if conversation_id is None:
            self._rows, self.has_older, self.has_newer = [], False, False
        else:
            page = self._svc.page(conversation_id, around=around, limit=self.page_size)
            self._rows, self.has_older, self.has_newer = page.messages, page.has_older, page.has_newer
        self._reindex()
        self.endResetModel()

    def row_of(self, message_id: int) -> int:
        return self._pos.get(message_id, -1)

    def message_at(self, row: int) -> Message | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def day_at(self, row: int) -> str:
        """The day separator above ``row`` ("" for none). Plain Python: the delegate calls
        this for every row on layout, and a QVariant round trip per call costs ~10x more."""
        return self._days[row] if 0 <= row < len(self._days) else ""

    # ---- paging ------------------------------------------------------------------------
    def canFetchMore(self, parent: Index = _ROOT) -> bool:  # noqa: N802 - Qt API
        return self._gate and not parent.isValid() and self.has_older and self.conversation_id is not None

    def fetchMore(self, parent: Index = _ROOT) -> None:  # noqa: N802 - Qt API
        if not self.canFetchMore(parent) or not self._rows:
            return
        page = self._svc.page(self.conversation_id or 0, before=self._rows[0].id, limit=self.page_size)
        self.has_older = page.has_older
        if not page.messages:
            return
        self.beginInsertRows(QModelIndex(), 0, len(page.messages) - 1)
        self._rows[:0] = page.messages
        self._reindex()
        self.endInsertRows()

    def fetch_older(self) -> int:
        """Load the page above the first row (the view calls this at the top); returns rows added."""
        before = len(self._rows)
        self._gate = True
        try:
            self.fetchMore()
        finally:
            self._gate = False
        return len(self._rows) - before

    def fetch_newer(self) -> int:
        """Load the page below the last row (after opening mid-thread); returns rows added."""
        if not self.has_newer or not self._rows or self.conversation_id is None:
            return 0
        page = self._svc.page(self.conversation_id, after=self._rows[-1].id, limit=self.page_size)
        self.has_newer = page.has_newer
        return self._append(page.messages)

    def _append(self, msgs: list[Message]) -> int:
        msgs = [m for m in msgs if m.id not in self._pos]
        if not msgs:
            return 0
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(msgs) - 1)
        self._rows += msgs
        self._reindex()
        self.endInsertRows()
        return len(msgs)

    def _reindex(self) -> None:
        self._pos = {m.id: i for i, m in enumerate(self._rows)}
        days: list[str] = []
        prev = None
        for m in self._rows:
            dt = local_dt(m.created_at)
            d = dt.date() if dt else None
            days.append(day_label(dt) if dt and d != prev else "")
            prev = d
        self._days = days

    # ---- live updates ------------------------------------------------------------------
    def apply(self, changes: Changes) -> int:
        """Refresh changed rows; append new messages of this thread. Returns rows appended."""
        if self.conversation_id is None or not changes.message_ids:
            return 0
        known = [i for i in changes.message_ids if i in self._pos]
        unknown = [i for i in changes.message_ids if i not in self._pos]
        if known:
            for m in self._svc.messages(set(known)):
                row = self._pos.get(m.id)
                if row is not None:
                    self._rows[row] = m
                    idx = self.index(row)
                    self.dataChanged.emit(idx, idx)
        if not unknown or self.has_newer:
            return 0
        if self.conversation_id not in self._svc.affected_by(set(unknown)):
            return 0  # a bulk run elsewhere: one indexed lookup, no Message objects built
        last = self._rows[-1].id if self._rows else 0
        page = self._svc.page(self.conversation_id, after=last, limit=self.page_size)
        self.has_newer = page.has_newer
        return self._append(page.messages)

    # ---- Qt ----------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        m = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return m.body
        if role == MessageRole:
            return m
        if role == DayRole:
            return self._days[index.row()]
        if role == IdRole:
            return m.id
        if role == Qt.ItemDataRole.AccessibleTextRole:
            who = "You" if m.direction == "out" else m.remote
            extra = f", {m.status.label}" if m.direction == "out" else ""
            reason = f": {without_codes(m.error)}" if m.error and m.direction == "out" else ""
            return f"{who}{extra}{reason}. {m.body}"
        if role == Qt.ItemDataRole.ToolTipRole and m.direction == "out":
            tip = f"{m.status.label} ({m.raw_status or '-'})"
            return tip + (f"\nReason: {m.error}" if m.error else "")
        return None
