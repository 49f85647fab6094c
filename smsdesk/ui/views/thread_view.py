"""The message list of one thread: bubbles painted by a delegate, paged as you scroll.

Scrolling to the top loads the previous page (the viewport stays on the message you were
reading); scrolling to the bottom after opening at a search hit loads the next one. New
messages keep the view pinned to the bottom only if you were already at the bottom.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QWidget

from smsdesk.ui.delegates.bubble_delegate import BubbleDelegate, failed, search_terms
from smsdesk.ui.models.thread_model import ThreadModel


class ThreadView(QListView):
    """Emits ``sig_retry_requested(message_id)`` from the Retry link or the Retry action."""

    sig_retry_requested = Signal(int)

    def __init__(self, model: ThreadModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thread")
        self.thread_model = model
        self.setModel(model)
        self.bubbles = BubbleDelegate(self)
        self.setItemDelegate(self.bubbles)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setAccessibleName("Messages")
        self.bubbles.sig_retry_requested.connect(self.sig_retry_requested)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        model.rowsAboutToBeInserted.connect(self._before_insert)
        model.rowsInserted.connect(self._after_insert)
        self._pin_bottom = True
        self._paging = False

        self.retry_action = QAction("Retry", self)
        self.retry_action.setShortcut(QKeySequence("Ctrl+R"))
        self.retry_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.retry_action.triggered.connect(self.retry_selected)
        self.addAction(self.retry_action)
        self.copy_action = QAction("Copy text", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.addAction(self.copy_action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    # ---- opening -----------------------------------------------------------------------
    def show_conversation(self, conversation_id: int | None, around: int | None = None) -> None:
        # While the model resets the scroll bar passes through 0 (= top and bottom at once):
        # paging stays off until the view sits where it should.
        self._paging = True
        try:
            self.thread_model.open(conversation_id, around)
            self.doItemsLayout()
            if around is not None and self.thread_model.row_of(around) >= 0:
                idx = self.thread_model.index(self.thread_model.row_of(around))
                self.setCurrentIndex(idx)
                self.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
                self._pin_bottom = False
            else:
                self.scrollToBottom()
                self._pin_bottom = True
        finally:
            self._paging = False

    def set_highlight(self, search: str) -> None:
        """Mark the words of ``search`` in every bubble ("" clears the marks)."""
        terms = search_terms(search)
        if terms != self.bubbles.terms:
            self.bubbles.terms = terms
            self.viewport().update()

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    # ---- paging ------------------------------------------------------------------------
    def _scrolled(self, value: int) -> None:
        if self._paging or self.thread_model.conversation_id is None:
            return
        bar = self.verticalScrollBar()
        if bar.maximum() <= bar.minimum():
            return  # nothing to scroll (or not laid out yet)
        if value <= bar.minimum() and self.thread_model.has_older:
            self.load_older()
        elif value >= bar.maximum() and self.thread_model.has_newer:
            self._paging = True
            try:
                self.thread_model.fetch_newer()
            finally:
                self._paging = False
        self._pin_bottom = self.at_bottom() and not self.thread_model.has_newer

    def load_older(self) -> int:
        """Load the previous page, keeping the message at the top of the viewport in place."""
        anchor = self.indexAt(QPoint(4, 4))
        offset = self.visualRect(anchor).top() if anchor.isValid() else 0
        self._paging = True
        try:
            added = self.thread_model.fetch_older()
            if added and anchor.isValid():
                self.doItemsLayout()
                idx = self.thread_model.index(anchor.row() + added)
                self.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtTop)
                bar = self.verticalScrollBar()
                bar.setValue(bar.value() - offset)
        finally:
            self._paging = False
        return added

    def _before_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        self._pin_bottom = self._pin_bottom or (first > 0 and self.at_bottom())

    def _after_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        if first > 0 and self._pin_bottom and not self._paging:
            self.scrollToBottom()

    # ---- actions -----------------------------------------------------------------------
    def selected_message_id(self) -> int | None:
        m = self.thread_model.message_at(self.currentIndex().row())
        return m.id if m else None

    def retry_selected(self) -> None:
        m = self.thread_model.message_at(self.currentIndex().row())
        if m is not None and failed(m):
            self.sig_retry_requested.emit(m.id)

    def copy_selected(self) -> None:
        m = self.thread_model.message_at(self.currentIndex().row())
        if m is not None:
            QGuiApplication.clipboard().setText(m.body)

    def _menu(self, pos: QPoint) -> None:
        idx = self.indexAt(pos)
        if not idx.isValid():
            return
        self.setCurrentIndex(idx)
        m = self.thread_model.message_at(idx.row())
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.copy_action)
        if m is not None and failed(m):
            menu.addAction(self.retry_action)
        menu.popup(self.viewport().mapToGlobal(pos))
