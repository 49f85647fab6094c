"""Searching every conversation from the Conversations page: the box and its results.

Typing searches after a short pause; the results take the list's place (the list pane shows
them) and the words searched for are marked in the open thread. Down or Enter picks a hit,
Esc clears the search and goes back to the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QWidget

from smsdesk.services.contacts import ContactService
from smsdesk.services.conversations import ConversationService, SearchHit
from smsdesk.ui.delegates.conversation_delegate import short_time


class ConversationSearch(QLineEdit):
    """The search box. Its :attr:`results` list is placed by the list pane, in the list's stead.

    Keys are handled here rather than in an event filter: a Python filter can be called while
    Qt tears the page down.

    Signals:
        sig_open(conversation_id, message_id): a hit was picked (message_id None: a name or
            number matched).
        sig_highlight(text): the words to mark in the open thread ("" for none).
        sig_results_shown(shown): the results replace the list (True) or the list is back.
        sig_to_list(): the person left the search for the list (Esc, or Down with no results).
    """

    sig_open = Signal(int, object)
    sig_highlight = Signal(str)
    sig_results_shown = Signal(bool)
    sig_to_list = Signal()

    def __init__(
        self, conversations: ConversationService, contacts: ContactService, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._conversations = conversations
        self._contacts = contacts
        self.setObjectName("search")
        self.setPlaceholderText("Search messages, names, numbers (Ctrl+F)")
        self.setClearButtonEnabled(True)
        self.showing_results = False
        self.results = QListWidget()
        self.results.setObjectName("search_results")
        self.results.setAccessibleName("Search results")
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setAlternatingRowColors(True)
        self.results.setStyleSheet("QListWidget#search_results::item { padding: 6px 4px; }")
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.run_search)
        self.textChanged.connect(lambda _t: self._timer.start())
        self.returnPressed.connect(self._open_first_result)
        self.results.itemActivated.connect(self._open_result)
        self.results.itemClicked.connect(self._open_result)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape:
            self._leave()
            return
        if event.key() == Qt.Key.Key_Down:
            self._into_results()
            return
        super().keyPressEvent(event)

    def focus(self) -> None:
        """Ctrl+F: into the box, its text selected to be typed over."""
        self.setFocus()
        self.selectAll()

    def run_search(self) -> None:
        text = self.text().strip()
        self.results.clear()
        self.sig_highlight.emit(text)
        self.showing_results = bool(text)
        self.sig_results_shown.emit(self.showing_results)
        if not text:
            return
        hits = self._conversations.search(text)
        for hit in hits:
            what = " ".join(hit.text.split()) if hit.message_id else "Name or number matches"
            conv = hit.conversation
            who = conv.contact_name or self._contacts.number_text(conv.remote)
            item = QListWidgetItem(f"{who} · {short_time(hit.at)}\n{what[:120]}")
            item.setData(Qt.ItemDataRole.UserRole, hit)
            self.results.addItem(item)
        if not hits:
            self.results.addItem(QListWidgetItem(f"Nothing found for “{text}”."))

    def _open_result(self, item: QListWidgetItem) -> None:
        hit: SearchHit | None = item.data(Qt.ItemDataRole.UserRole)
        if hit is not None:
            self.sig_open.emit(hit.conversation.id, hit.message_id)

    def _open_first_result(self) -> None:
        self._timer.stop()
        self.run_search()
        if self.results.count():
            self.results.setCurrentRow(0)
            self._open_result(self.results.item(0))

    def _leave(self) -> None:
        self.clear()
        self.sig_highlight.emit("")
        self.sig_to_list.emit()

    def _into_results(self) -> None:
        if self.showing_results:
            self.results.setFocus()
            if self.results.count():
                self.results.setCurrentRow(0)
        else:
            self.sig_to_list.emit()
