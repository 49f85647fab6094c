"""Conversations: the inbox on the left, the open thread and the reply box on the right.

Keyboard: Up/Down in the list opens each conversation; Enter goes to the reply box; Esc
goes back to the list; Tab moves on from the reply box; Ctrl+F searches (Down/Enter pick a hit,
Esc clears); Alt+Up/Alt+Down
switch conversation from anywhere; Ctrl+Enter sends; Ctrl+R retries the selected failed
message. Drafts are saved per conversation (debounced, and on switching away). Opening a
thread marks it read; so does a reply arriving while it is open on screen.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QHideEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.conversations import ConversationRow, ListFilter, SearchHit
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.delegates.conversation_delegate import ConversationDelegate, short_time
from smsdesk.ui.models.conversation_list_model import ConversationListModel
from smsdesk.ui.models.thread_model import ThreadModel
from smsdesk.ui.views.compose_view import ERR_STYLE, HINT_STYLE, OK_STYLE
from smsdesk.ui.views.review_panel import ReviewPanel
from smsdesk.ui.views.thread_view import ThreadView
from smsdesk.ui.widgets.labels import ElideLabel, WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit

log = logging.getLogger(__name__)

FILTERS = (
    (ListFilter.ALL, "All conversations"),
    (ListFilter.UNREAD, "Unread"),
    (ListFilter.OPTED_OUT, "Opted out"),
    (ListFilter.NEEDS_REVIEW, "Needs review"),
)
NAME_DIALOG_WIDTH = 380
TITLE_BAR_BUTTONS = 140  # close / minimise / maximise and the title bar's margins


class _ReplyEdit(MessageEdit):
    """Esc leaves the reply box for the conversation list."""

    sig_escape = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape:
            self.sig_escape.emit()
            return
        super().keyPressEvent(event)


class _SearchEdit(QLineEdit):
    """Esc clears the search; Down moves into the results (no event filter: a Python filter
    can be called while Qt tears the page down)."""

    sig_escape = Signal()
    sig_down = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape:
            self.sig_escape.emit()
            return
        if event.key() == Qt.Key.Key_Down:
            self.sig_down.emit()
            return
        super().keyPressEvent(event)


class ConversationsView(QWidget):
    sig_opened = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = ctx.services.conversations
        self.setObjectName("ConversationsView")
        self.current: ConversationRow | None = None
        self._saved_draft: str | None = ""  # what the database holds for self.current (None: unknown)

        # ---- left: search, filter, list / results ----
        self.search = _SearchEdit(objectName="search")
        self.search.setPlaceholderText("Search messages, names, numbers (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.filter = QComboBox(objectName="filter")
        for flt, label in FILTERS:
            self.filter.addItem(label, flt.value)
        self.list_model = ConversationListModel(self.svc, ctx.services.contacts, parent=self)
        self.list = QListView(objectName="conversation_list")
        self.list.setModel(self.list_model)
        self.list.setItemDelegate(ConversationDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setAccessibleName("Conversations")
        self.results = QListWidget(objectName="search_results")
        self.results.setAccessibleName("Search results")
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setAlternatingRowColors(True)
        self.results.setStyleSheet("QListWidget#search_results::item { padding: 6px 4px; }")
        self.left_stack = QStackedWidget()
        self.left_stack.addWidget(self.list)
        self.left_stack.addWidget(self.results)
        self.empty_list = QLabel("No conversations yet. Messages you send and replies you get appear here.")
        self.empty_list.setWordWrap(True)
        self.empty_list.setStyleSheet(HINT_STYLE)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(8, 8, 0, 8)
        lv.addWidget(self.search)
        lv.addWidget(self.filter)
        lv.addWidget(self.left_stack, 1)
        lv.addWidget(self.empty_list)

        # ---- right: header, banner, thread, reply ----
        self.title = ElideLabel(objectName="thread_title")
        self.title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.subtitle = ElideLabel(objectName="thread_subtitle")
        self.subtitle.setStyleSheet(HINT_STYLE)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_button = QPushButton("Name contact…", objectName="name_contact")
        self.name_button.setToolTip("Give this number a name (Ctrl+Shift+N)")
        self.banner = QLabel(objectName="optout_banner")
        self.banner.setWordWrap(True)
        theme.set_banner(self.banner, "error")
        self.banner.hide()
        self.thread = ThreadView(ThreadModel(self.svc, parent=self))
        self.reply = _ReplyEdit(objectName="reply")
        self.reply.setPlaceholderText("Write a reply…  (Ctrl+Enter to send)")
        self.reply.setFixedHeight(84)
        self.counter = MessageCounter(objectName="reply_counter")
        self.feedback = WrapLabel(objectName="reply_feedback")
        self.send_button = QPushButton("Send", objectName="send_reply")
        self.send_button.setToolTip("Send (Ctrl+Enter)")
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        header.addWidget(self.name_button)
        below = QHBoxLayout()
        below.addWidget(self.counter, 1)
        below.addWidget(self.send_button)
        thread_box = QWidget()
        tv = QVBoxLayout(thread_box)
        tv.setContentsMargins(8, 8, 8, 8)
        tv.addLayout(header)
        tv.addWidget(self.banner)
        tv.addWidget(self.thread, 1)
        tv.addWidget(self.reply)
        tv.addLayout(below)
        tv.addWidget(self.feedback)
        self.placeholder = QLabel("Select a conversation, or search with Ctrl+F.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(HINT_STYLE)
        self.right_stack = QStackedWidget()
        self.right_stack.addWidget(self.placeholder)
        self.right_stack.addWidget(thread_box)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.right_stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 700])
        # With the "Needs review" filter: the batches of undecided sends, one action each.
        self.review = ReviewPanel(ctx, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.review)
        layout.addWidget(splitter, 1)

        # ---- behaviour ----
        self._draft_timer = QTimer(self, singleShot=True, interval=700)
        self._draft_timer.timeout.connect(self.save_draft)
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self.run_search)
        self.list.selectionModel().currentChanged.connect(self._list_current_changed)
        self.list.activated.connect(lambda _i: self.reply.setFocus())
        self.filter.currentIndexChanged.connect(self._filter_changed)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._open_first_result)
        self.results.itemActivated.connect(self._open_result)
        self.results.itemClicked.connect(self._open_result)
        self.reply.textChanged.connect(self._reply_changed)
        self.counter.follow(self.reply)
        self.reply.sig_edited.connect(self.feedback.clear)  # the last status belongs to the last reply
        self.reply.sig_escape.connect(self.list.setFocus)
        self.send_button.clicked.connect(self.send)
        self.name_button.clicked.connect(self.name_contact)
        self.thread.sig_retry_requested.connect(self.retry)
        for keys, slot in (
            ("Ctrl+Return", self.send),
            ("Ctrl+Enter", self.send),
            ("Ctrl+F", self.focus_search),
            ("Alt+Down", lambda: self.step(1)),
            ("Alt+Up", lambda: self.step(-1)),
            ("Ctrl+Shift+N", self.name_contact),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.search.sig_escape.connect(self._leave_search)
        self.search.sig_down.connect(self._into_results)
        chain = [self.search, self.filter, self.list, self.thread, self.reply, self.send_button, self.name_button]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)
        ctx.bridge.sig_changed.connect(self._on_changes)
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window (logout): keep the draft too
            app.aboutToQuit.connect(self.save_draft_now)
        self.list_model.modelReset.connect(self._update_empty)
        self.list_model.rowsInserted.connect(self._update_empty)
        self.list_model.reload()

    # ---- the list ----------------------------------------------------------------------
    def _update_empty(self, *_args: object) -> None:
        self.empty_list.setVisible(self.list_model.rowCount() == 0 and self.left_stack.currentIndex() == 0)
        if self.current is not None:
            row = self.list_model.row_of(self.current.id)
            if row >= 0 and self.list.currentIndex().row() != row:
                self.list.selectionModel().setCurrentIndex(
                    self.list_model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
                )

    def _filter_changed(self) -> None:
        self.list_model.set_filter(self.filter.currentData())
        self.review.set_active(self.filter.currentData() == ListFilter.NEEDS_REVIEW.value)

    def _list_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        conv = self.list_model.conversation_at(current.row())
        if conv is not None and (self.current is None or conv.id != self.current.id):
            self.open_conversation(conv.id)

    def step(self, delta: int) -> None:
        row = max(0, min(self.list.currentIndex().row() + delta, self.list_model.rowCount() - 1))
        self.list.setCurrentIndex(self.list_model.index(row))

    # ---- a thread ----------------------------------------------------------------------
    def open_conversation(self, conversation_id: int, around: int | None = None) -> None:
        """Show a conversation (at message ``around`` if given) and mark it read."""
        self.save_draft()
        conv = self.svc.get(conversation_id)
        self.current = conv
        self.right_stack.setCurrentIndex(1)
        self.thread.show_conversation(conv.id, around)
        self._show_header(conv)
        self.reply.blockSignals(True)
        self.reply.setPlainText(conv.draft)
        self.reply.blockSignals(False)
        self._saved_draft = conv.draft
        self.counter.show_for(conv.draft)
        self.feedback.clear()
        row = self.list_model.row_of(conv.id)
        if row >= 0 and self.list.currentIndex().row() != row:
            self.list.setCurrentIndex(self.list_model.index(row))
        if conv.unread:
            spawn(self.svc.mark_read(conv.id), title="Mark read")
        self.sig_opened.emit(conv.id)

    def _show_header(self, conv: ConversationRow) -> None:
        number = self.ctx.services.contacts.number_text(conv.remote)
        self.title.setText(conv.contact_name or number)
        self.title.setToolTip(conv.remote)  # the full international form, as stored
        sub = f"{number} · {conv.account}" if conv.contact_name else conv.account
        self.subtitle.setText(sub)
        self.name_button.setText("Rename contact…" if conv.contact_name else "Name contact…")
        reason = self.svc.blocked_reason(conv.id)
        self.banner.setText(f"<b>Opted out.</b> {reason}" if reason else "")
        self.banner.setVisible(bool(reason))
        self.reply.setEnabled(reason is None)
        self.send_button.setEnabled(reason is None)
        self.reply.setPlaceholderText(
            "Replying is blocked: this number opted out." if reason else "Write a reply…  (Ctrl+Enter to send)"
        )

    def _refresh_current(self) -> None:
        if self.current is None:
            return
        try:
            self.current = self.svc.get(self.current.id)
        except SmsdeskError:
            return
        self._show_header(self.current)

    # ---- reply -------------------------------------------------------------------------
    def _reply_changed(self) -> None:
        self._draft_timer.start()

    def save_draft(self) -> None:
        self._draft_timer.stop()
        if self.current is None:
            return
        text = self.reply.toPlainText()
        if text == self._saved_draft:
            return
        self._saved_draft = text
        spawn(self.svc.save_draft(self.current.id, text), title="Save draft")

    def save_draft_now(self) -> None:
        """Save an unsaved draft before the window closes (the debounce would lose the last
        ~0.7 s of typing, and a spawned save might never run)."""
        self._draft_timer.stop()
        if self.current is None or self.reply.toPlainText() == self._saved_draft:
            return
        text = self.reply.toPlainText()
        try:
            self.svc.save_draft_now(self.current.id, text)
        except SmsdeskError:
            log.exception("the draft could not be saved while closing")
            return
        self._saved_draft = text

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt API
        # Another page, a minimised window, or the window closing: the draft is kept now.
        super().hideEvent(event)
        if self.window().isVisible():
            self.save_draft()
        else:
            self.save_draft_now()

    def send(self) -> None:
        # A pending debounced save would store the text being sent as the draft again.
        self._draft_timer.stop()
        if self.current is None or not self.reply.toPlainText().strip():
            return
        reason = self.svc.blocked_reason(self.current.id)
        if reason:
            self.feedback.setStyleSheet(ERR_STYLE)
            self.feedback.setText(reason)
            return
        if not self.send_button.isEnabled():
            return
        self.send_button.setEnabled(False)
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText("Sending…")
        conv_id, text = self.current.id, self.reply.toPlainText()
        self._saved_draft = text  # being sent: switching away now must not keep it as a draft
        spawn(
            self.svc.reply(conv_id, text),
            title="Reply",
            on_done=lambda _m: self._sent(conv_id),
            on_error=self._send_failed,
        )

    def _sent(self, conv_id: int) -> None:
        self.send_button.setEnabled(True)
        if self.current is None or self.current.id != conv_id:
            return
        self.feedback.setStyleSheet(OK_STYLE)
        self.feedback.setText("")
        self.reply.blockSignals(True)
        self.reply.clear()
        self.reply.blockSignals(False)
        self._saved_draft = ""
        self.counter.show_for("")
        self.thread.scrollToBottom()

    def _send_failed(self, exc: BaseException) -> None:
        self._saved_draft = None  # not sent: the text in the box is a draft again
        self._refresh_current()
        self.send_button.setEnabled(self.banner.isHidden())
        self.feedback.setStyleSheet(ERR_STYLE)
        self.feedback.setText(str(exc) if isinstance(exc, SmsdeskError) else f"Could not send: {exc}")

    def retry(self, message_id: int) -> None:
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText("Retrying…")
        spawn(self.svc.retry(message_id), title="Retry", on_done=self._retried, on_error=self._send_failed)

    def _retried(self, ok: bool) -> None:
        self.feedback.setStyleSheet(OK_STYLE if ok else ERR_STYLE)
        self.feedback.setText("Queued again." if ok else "That message can no longer be retried.")

    # ---- contact -----------------------------------------------------------------------
    def name_contact(self) -> None:
        if self.current is None:
            return
        conv = self.current
        dialog = QInputDialog(self)
        dialog.setObjectName("name_dialog")
        dialog.setWindowTitle("Name contact")
        dialog.setLabelText(
            f"Name for {self.ctx.services.contacts.number_text(conv.remote)} (shown instead of the number):"
        )
        # Wide enough for its title in the window's title bar, beside the window buttons.
        title_room = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle()) * 3 // 2 + TITLE_BAR_BUTTONS
        dialog.setMinimumWidth(max(NAME_DIALOG_WIDTH, title_room))
        dialog.setTextValue(conv.contact_name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda name: self.set_contact_name(conv.remote, name))
        dialog.open()

    def set_contact_name(self, number: str, name: str) -> None:
        spawn(self.ctx.services.contacts.set_name(number, name), title="Name contact")

    # ---- search ------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def run_search(self) -> None:
        text = self.search.text().strip()
        self.results.clear()
        self.thread.set_highlight(text)  # the words searched for are marked in the thread
        if not text:
            self.left_stack.setCurrentIndex(0)
            self._update_empty()
            return
        self.left_stack.setCurrentIndex(1)
        self.empty_list.hide()
        hits = self.svc.search(text)
        for hit in hits:
            what = " ".join(hit.text.split()) if hit.message_id else "Name or number matches"
            conv = hit.conversation
            who = conv.contact_name or self.ctx.services.contacts.number_text(conv.remote)
            item = QListWidgetItem(f"{who} · {short_time(hit.at)}\n{what[:120]}")
            item.setData(Qt.ItemDataRole.UserRole, hit)
            self.results.addItem(item)
        if not hits:
            self.results.addItem(QListWidgetItem(f"Nothing found for “{text}”."))

    def _open_result(self, item: QListWidgetItem) -> None:
        hit: SearchHit | None = item.data(Qt.ItemDataRole.UserRole)
        if hit is not None:
            self.open_conversation(hit.conversation.id, hit.message_id)
            self.thread.setFocus()

    def _open_first_result(self) -> None:
        self._search_timer.stop()
        self.run_search()
        if self.results.count():
            self.results.setCurrentRow(0)
            self._open_result(self.results.item(0))

    def _leave_search(self) -> None:
        self.search.clear()
        self.thread.set_highlight("")
        self.list.setFocus()

    def _into_results(self) -> None:
        if self.left_stack.currentIndex() == 1:
            self.results.setFocus()
            if self.results.count():
                self.results.setCurrentRow(0)
        else:
            self.list.setFocus()

    # ---- live updates ------------------------------------------------------------------
    def _on_changes(self, changes: Changes) -> None:
        self.list_model.apply(changes)
        if self.current is None:
            return
        self.thread.thread_model.apply(changes)
        if changes.optouts or changes.contacts or changes.everything:
            self._refresh_current()
        if changes.inbound_ids and self.is_being_read():
            self._mark_current_read()

    def is_being_read(self) -> bool:
        """The open thread is on screen in the active window (a reply there is seen at once)."""
        return self.current is not None and self.isVisible() and self.window().isActiveWindow()

    def _mark_current_read(self) -> None:
        if self.current is None:
            return
        conv = self.svc.get(self.current.id)
        if conv.unread:
            spawn(self.svc.mark_read(conv.id), title="Mark read")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._mark_current_read()
        self.review.refresh()  # batches may have changed while another page was shown

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        # Qt sends ActivationChange to every widget of a window: back to the window, the
        # open thread is being read.
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.is_being_read():
            self._mark_current_read()
