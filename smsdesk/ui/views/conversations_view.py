"""Conversations: the inbox on the left, the open thread and the reply box on the right.

Keyboard: Up/Down in the list opens each conversation; Enter goes to the reply box; Esc
goes back to the list; Tab moves on from the reply box; Ctrl+F searches (Down/Enter pick a hit,
Esc clears); Alt+Up/Alt+Down switch conversation from anywhere; Ctrl+Enter sends; Ctrl+R
retries the selected failed message; Ctrl+Shift+M assigns the conversation to you,
Ctrl+Shift+E resolves or reopens it and Ctrl+Shift+O writes a team note. Drafts are saved
per conversation (debounced, and on switching away). Opening a thread marks it read; so does
a reply arriving while it is open on screen.

This page composes three parts: :class:`ConversationListPane` (filter and list),
:class:`ConversationSearch` (the search box and its results) and :class:`ThreadPane` (the
thread and the reply box); with the "Needs review" filter, a :class:`ReviewPanel` above them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from smsdesk.domain.events import Changes
from smsdesk.services.conversations import ConversationRow, ListFilter
from smsdesk.services.reply_drafts import ReplyDrafts
from smsdesk.services.report_export import export_log
from smsdesk.services.reports import LogFilter
from smsdesk.ui.aio import redraw_slot, spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.views.conversation_list_pane import ConversationListPane
from smsdesk.ui.views.conversation_search import ConversationSearch
from smsdesk.ui.views.review_panel import ReviewPanel
from smsdesk.ui.views.thread_pane import ThreadPane


class ConversationsView(QWidget):
    """Emits ``sig_opened(conversation_id)`` each time a conversation is opened."""

    sig_opened = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = ctx.services.conversations
        self.setObjectName("ConversationsView")
        contacts = ctx.services.contacts
        self.search = ConversationSearch(self.svc, contacts)
        self.list_pane = ConversationListPane(self.svc, contacts, self.search)
        self.thread_pane = ThreadPane(
            self.svc,
            contacts,
            ctx.services.groups,
            ctx.services.templates,
            ReplyDrafts(self.svc, ctx.services.health),
            prices=ctx.services.accounts.prices,
            export=self._export,
        )
        # The parts people (and tests) reach for, by their names on this page.
        self.results = self.search.results
        self.filter = self.list_pane.filter
        self.list = self.list_pane.list
        self.list_model = self.list_pane.list_model
        self.thread_view = self.thread_pane.thread_view
        self.title = self.thread_pane.title
        self.subtitle = self.thread_pane.subtitle
        self.name_button = self.thread_pane.name_button
        self.banner = self.thread_pane.banner
        self.reply = self.thread_pane.reply
        self.counter = self.thread_pane.counter
        self.feedback = self.thread_pane.feedback
        self.send_button = self.thread_pane.send_button

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list_pane)
        splitter.addWidget(self.thread_pane)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 700])
        # With the "Needs review" filter: the batches of undecided sends, one action each.
        self.review = ReviewPanel(ctx, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.review)
        layout.addWidget(splitter, 1)

        self.list_pane.sig_open.connect(self.open_conversation)
        self.list_pane.sig_activated.connect(self.reply.setFocus)
        self.list_pane.sig_filter_changed.connect(
            lambda value: self.review.set_active(value == ListFilter.NEEDS_REVIEW.value)
        )
        self.search.sig_open.connect(self._open_hit)
        self.search.sig_highlight.connect(self.thread_view.set_highlight)  # marked in the thread
        self.reply.sig_escape.connect(self.list.setFocus)
        for keys, slot in (
            ("Ctrl+Return", self.send),
            ("Ctrl+Enter", self.send),
            ("Ctrl+F", self.focus_search),
            ("Alt+Down", lambda: self.list_pane.step(1)),
            ("Alt+Up", lambda: self.list_pane.step(-1)),
            ("Ctrl+Shift+N", self.thread_pane.name_contact),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        chain: list[QWidget] = [
            self.search,
            self.filter,
            self.list,
            self.thread_view,
            self.reply,
            self.send_button,
            self.name_button,
        ]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)
        ctx.bridge.sig_changed.connect(self._on_changes)
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window (logout): keep the draft too
            app.aboutToQuit.connect(self.thread_pane.save_draft_now)
        self.list_model.reload()

    @property
    def current(self) -> ConversationRow | None:
        """The conversation open on the right, if any."""
        return self.thread_pane.current

    async def _export(self, account_id: int, remote: str, path: Path) -> int:
        """One conversation, oldest first, as a .csv or .xlsx file; returns how many messages."""
        reports, contacts = self.ctx.services.reports, self.ctx.services.contacts
        f = LogFilter(account_ids=(account_id,), numbers=(remote,))
        return await asyncio.to_thread(export_log, reports, f, path, zone=reports.zone(), region=contacts.region())

    # ---- opening -----------------------------------------------------------------------
    def open_conversation(self, conversation_id: int, around: int | None = None) -> None:
        """Show a conversation (at message ``around`` if given) and mark it read."""
        conv = self.thread_pane.show_conversation(conversation_id, around)
        self.list_pane.select(conv.id)
        if conv.unread:
            spawn(self.svc.mark_read(conv.id), title="Mark read")
        if self.svc.team is not None:
            spawn(self.svc.team.seen(conv), title="Mark seen")
        self.sig_opened.emit(conv.id)

    def _open_hit(self, conversation_id: int, message_id: int | None) -> None:
        self.open_conversation(conversation_id, message_id)
        self.thread_view.setFocus()

    def focus_search(self) -> None:
        self.search.focus()

    def run_search(self) -> None:
        self.search.run_search()

    def send(self) -> None:
        self.thread_pane.send()

    def set_contact_name(self, number: str, name: str) -> None:
        self.thread_pane.set_contact_name(number, name)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt API
        # Another page, a minimised window, or the window closing: the draft is kept now.
        super().hideEvent(event)
        if self.thread_pane.team_bar is not None:
            self.thread_pane.team_bar.leave()  # colleagues no longer see this person "viewing"
        if self.window().isVisible():
            self.thread_pane.save_draft()
        else:
            self.thread_pane.save_draft_now()

    # ---- live updates ------------------------------------------------------------------
    @redraw_slot
    def _on_changes(self, changes: Changes) -> None:
        if changes.connection:
            self.thread_pane.connection_changed()
        if changes.presence and self.thread_pane.team_bar is not None:
            self.thread_pane.team_bar.heard(changes.presence)  # heard, not read: also in an outage
        if not self.ctx.services.health.ok:
            return  # nothing can be read now; the catch-up after the outage redraws everything
        self.list_model.apply(changes)
        if self.current is None:
            return
        self.thread_view.thread_model.apply(changes)
        if changes.optouts or changes.contacts or changes.everything:
            self.thread_pane.refresh_current()
        if self.current.id in changes.conversation_ids:
            self.thread_pane.refresh_team()  # assigned, resolved, snoozed or noted
        elif changes.inbound_ids and self.current.state != "open":
            self.thread_pane.refresh_current()  # a reply may have reopened it
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
        if self.svc.team is not None and conv.last_message_id != self.current.last_message_id:
            spawn(self.svc.team.seen(conv), title="Mark seen")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._mark_current_read()
        if self.current is not None and self.thread_pane.team_bar is not None:
            self.thread_pane.team_bar.show_for(self.current)  # "viewing" again
        self.review.refresh()  # batches may have changed while another page was shown

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        # Qt sends ActivationChange to every widget of a window: back to the window, the
        # open thread is being read.
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.is_being_read():
            self._mark_current_read()
