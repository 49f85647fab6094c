"""The left side of the Conversations page: search box, filter, the conversations (or the
search's results in their place) and a hint while there are none.

Moving through the list (Up/Down, a click) opens each conversation; Enter goes on to the
reply box. The conversation shown on the right stays selected when the list reloads.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QListView,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from smsdesk.services.contacts import ContactService
from smsdesk.services.conversations import ConversationService, ListFilter
from smsdesk.ui.aio import redraw_slot
from smsdesk.ui.delegates.conversation_delegate import ConversationDelegate
from smsdesk.ui.models.conversation_list_model import ConversationListModel
from smsdesk.ui.views.compose_view import HINT_STYLE
from smsdesk.ui.views.conversation_search import ConversationSearch

FILTERS = (
    (ListFilter.ALL, "All conversations"),
    (ListFilter.MINE, "Mine"),
    (ListFilter.UNASSIGNED, "Unassigned"),
    (ListFilter.UNREAD, "Unread"),
    (ListFilter.RESOLVED, "Resolved"),
    (ListFilter.OPTED_OUT, "Opted out"),
    (ListFilter.NEEDS_REVIEW, "Needs review"),
)
TEAM_ONLY = {ListFilter.MINE, ListFilter.UNASSIGNED}  # offered when conversations can be assigned


class ConversationListPane(QWidget):
    """The search box (given), the filter and the list of conversations.

    Signals:
        sig_open(conversation_id): another conversation became current in the list.
        sig_activated(): Enter (or a double click) on a conversation.
        sig_filter_changed(value): the filter's :class:`ListFilter` value.
    """

    sig_open = Signal(int)
    sig_activated = Signal()
    sig_filter_changed = Signal(str)

    def __init__(
        self,
        conversations: ConversationService,
        contacts: ContactService,
        search: ConversationSearch,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.search = search
        self.shown_id: int | None = None  # the conversation open on the right
        self.filter = QComboBox()
        self.filter.setObjectName("filter")
        shared = conversations.team is not None and conversations.team.shared
        for flt, label in FILTERS:
            if shared or flt not in TEAM_ONLY:
                self.filter.addItem(label, flt.value)
        self.list_model = ConversationListModel(conversations, contacts, parent=self)
        self.list = QListView()
        self.list.setObjectName("conversation_list")
        self.list.setModel(self.list_model)
        self.list.setItemDelegate(ConversationDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setAccessibleName("Conversations")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list)
        self.stack.addWidget(search.results)
        self.empty_list = QLabel("No conversations yet. Messages you send and replies you get appear here.")
        self.empty_list.setWordWrap(True)
        self.empty_list.setStyleSheet(HINT_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        layout.addWidget(search)
        layout.addWidget(self.filter)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.empty_list)

        # A snooze that runs out brings its conversation back to Mine and Unassigned: nothing
        # is written then, so those two lists are read again every minute.
        self._snooze_timer = QTimer(self, interval=60_000)
        self._snooze_timer.timeout.connect(self._snoozes_due)
        if shared:
            self._snooze_timer.start()
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.list.activated.connect(lambda _i: self.sig_activated.emit())
        self.filter.currentIndexChanged.connect(self._filter_changed)
        search.sig_results_shown.connect(self._results_shown)
        search.sig_to_list.connect(self.list.setFocus)
        self.list_model.modelReset.connect(self._update_empty)
        self.list_model.rowsInserted.connect(self._update_empty)

    def _update_empty(self, *_args: object) -> None:
        self.empty_list.setVisible(self.list_model.rowCount() == 0 and self.stack.currentIndex() == 0)
        if self.shown_id is not None:
            row = self.list_model.row_of(self.shown_id)
            if row >= 0 and self.list.currentIndex().row() != row:
                self.list.selectionModel().setCurrentIndex(
                    self.list_model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
                )

    @redraw_slot
    def _snoozes_due(self) -> None:
        if self.filter.currentData() in TEAM_ONLY and self.isVisible():
            self.list_model.reload()

    def _results_shown(self, shown: bool) -> None:
        self.stack.setCurrentIndex(1 if shown else 0)
        if shown:
            self.empty_list.hide()
        else:
            self._update_empty()

    def _filter_changed(self) -> None:
        self.list_model.set_filter(self.filter.currentData())
        self.sig_filter_changed.emit(self.filter.currentData())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        conv = self.list_model.conversation_at(current.row())
        if conv is not None and conv.id != self.shown_id:
            self.sig_open.emit(conv.id)

    def select(self, conversation_id: int) -> None:
        """Mark ``conversation_id`` as the one shown, and select it if the list has it."""
        self.shown_id = conversation_id
        row = self.list_model.row_of(conversation_id)
        if row >= 0 and self.list.currentIndex().row() != row:
            self.list.setCurrentIndex(self.list_model.index(row))

    def step(self, delta: int) -> None:
        """Alt+Up / Alt+Down: the previous or next conversation, from anywhere on the page."""
        row = max(0, min(self.list.currentIndex().row() + delta, self.list_model.rowCount() - 1))
        self.list.setCurrentIndex(self.list_model.index(row))
