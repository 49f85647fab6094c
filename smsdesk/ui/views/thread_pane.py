"""The right side of the Conversations page: one thread, its header and the reply box.

The header names the contact (or shows the number) with a button to name it; a banner says
when the number opted out, and replying is then blocked. The reply box keeps a draft per
conversation: saved after a short pause in typing, on switching away, and when the window
closes. Sending shows "Sending…" below the box; a failure says why in plain words.

With a team (``ConversationService.team``) the header gains the team bar (who has the
conversation, resolve, snooze, who else is viewing) and the thread the team notes; sending
right after a colleague replied asks first. Where the reply is kept is ``ReplyDrafts``'
business: on this computer while the database is out of reach, stored once it answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.contacts import Contact, ContactNumber
from smsdesk.domain.errors import OverLimit, SmsdeskError
from smsdesk.domain.pricing import Prices
from smsdesk.services.contacts import ContactService
from smsdesk.services.conversations import ConversationRow, ConversationService
from smsdesk.services.groups import GroupService
from smsdesk.services.reply_drafts import ReplyDrafts
from smsdesk.services.templates import SavedTemplate, TemplateService
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.dialogs import ask_text, choose_save_path, confirm
from smsdesk.ui.models.thread_model import ThreadModel
from smsdesk.ui.views.compose_view import ERR_STYLE, HINT_STYLE, OK_STYLE
from smsdesk.ui.views.team_panel import NotesPanel, TeamBar
from smsdesk.ui.views.thread_view import ThreadView
from smsdesk.ui.widgets.group_menu import GroupMenuButton
from smsdesk.ui.widgets.labels import ElideLabel, WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit
from smsdesk.ui.widgets.template_picker import open_picker

log = logging.getLogger(__name__)

NAME_DIALOG_WIDTH = 380
TITLE_BAR_BUTTONS = 140  # close / minimise / maximise and the title bar's margins
REPLY_HINT = "Write a reply…  (Ctrl+Enter to send)"


class _ReplyEdit(MessageEdit):
    """Esc leaves the reply box for the conversation list."""

    sig_escape = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape:
            self.sig_escape.emit()
            return
        super().keyPressEvent(event)


class ThreadPane(QWidget):
    """A hint until a conversation is opened, then that conversation (:attr:`current`)."""

    def __init__(
        self,
        conversations: ConversationService,
        contacts: ContactService,
        groups: GroupService,
        templates: TemplateService,
        drafts: ReplyDrafts,
        parent: QWidget | None = None,
        prices: Callable[[int], Prices] | None = None,
        export: Callable[[int, str, Path], Coroutine[Any, Any, int]] | None = None,
    ) -> None:
        """``drafts``: where the reply box's text is kept (on this computer while the database
        is out of reach); ``prices``: an account's price per part and currency, for the cost
        under the reply; ``export``: writes a conversation (account, number) to a .csv or .xlsx file."""
        super().__init__(parent)
        self._prices = prices
        self._export = export
        self._drafts = drafts
        self._conversations = conversations
        self._contacts = contacts
        self._groups = groups
        self._templates = templates
        self.current: ConversationRow | None = None
        self._saved_draft: str | None = ""  # what the database holds for self.current (None: unknown)
        self._team = conversations.team
        self._seen_last = 0  # the newest message when the person opened the thread (see send())

        self.title = ElideLabel(objectName="thread_title")
        self.title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.subtitle = ElideLabel(objectName="thread_subtitle")
        self.subtitle.setStyleSheet(HINT_STYLE)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_button = QPushButton("Name contact…")
        self.name_button.setObjectName("name_contact")
        self.name_button.setToolTip("Give this number a name (Ctrl+Shift+N)")
        self.group_button = GroupMenuButton(
            "Groups",
            groups,
            self.add_to_group,
            self.add_to_new_group,
            member_of=self._member_of,
            on_remove=self.remove_from_group,
        )
        self.group_button.setObjectName("conversation_group_add")
        self.group_button.setToolTip(
            "Put this person in a group (they become a contact if they were not one); "
            "the groups they are in are ticked: choose one to take them out"
        )
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("conversation_export")
        self.export_button.setToolTip("Save this conversation as a spreadsheet (CSV or Excel)")
        self.export_button.setVisible(export is not None)
        self.export_button.clicked.connect(self.choose_export)
        # The team inbox: who has it, resolve or snooze, and the notes (none without a team service).
        self.team_bar = TeamBar(self._team) if self._team is not None else None
        self.notes = NotesPanel(self._team) if self._team is not None else None
        self.banner = QLabel()
        self.banner.setObjectName("optout_banner")
        self.banner.setWordWrap(True)
        theme.set_banner(self.banner, "error")
        self.banner.hide()
        self.thread_view = ThreadView(ThreadModel(conversations, parent=self))
        self.reply = _ReplyEdit(objectName="reply")
        self.reply.setPlaceholderText(REPLY_HINT)
        self.reply.setFixedHeight(84)
        self.counter = MessageCounter(objectName="reply_counter")
        self.feedback = WrapLabel(objectName="reply_feedback")
        self.quick_button = QPushButton("Quick reply…")
        self.quick_button.setObjectName("quick_reply")
        self.quick_button.setToolTip("Insert a saved template, filled in for this person (Ctrl+T)")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("send_reply")
        self.send_button.setToolTip("Send (Ctrl+Enter)")
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        header.addWidget(self.name_button)
        header.addWidget(self.group_button)
        header.addWidget(self.export_button)
        below = QHBoxLayout()
        below.addWidget(self.counter, 1)
        below.addWidget(self.quick_button)
        below.addWidget(self.send_button)
        thread_box = QWidget()
        tv = QVBoxLayout(thread_box)
        tv.setContentsMargins(8, 8, 8, 8)
        tv.addLayout(header)
        if self.team_bar is not None:
            tv.addWidget(self.team_bar)
        tv.addWidget(self.banner)
        tv.addWidget(self.thread_view, 1)
        if self.notes is not None:
            tv.addWidget(self.notes)
        tv.addWidget(self.reply)
        tv.addLayout(below)
        tv.addWidget(self.feedback)
        self.placeholder = QLabel("Select a conversation, or search with Ctrl+F.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(HINT_STYLE)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(thread_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self._draft_timer = QTimer(self, singleShot=True, interval=700)
        self._draft_timer.timeout.connect(self.save_draft)
        self.reply.textChanged.connect(self._reply_changed)
        self.counter.follow(self.reply)
        self.reply.sig_edited.connect(self.feedback.clear)  # the last status belongs to the last reply
        self.send_button.clicked.connect(self.send)
        self.quick_button.clicked.connect(self.quick_reply)
        QShortcut(QKeySequence("Ctrl+T"), thread_box).activated.connect(self.quick_reply)
        if self.team_bar is not None and self.notes is not None:
            QShortcut(QKeySequence("Ctrl+Shift+M"), thread_box).activated.connect(self.team_bar.take)
            QShortcut(QKeySequence("Ctrl+Shift+E"), thread_box).activated.connect(self.team_bar.toggle_resolved)
            QShortcut(QKeySequence("Ctrl+Shift+O"), thread_box).activated.connect(self.notes.focus_note)
            self.notes.sig_escape.connect(self.reply.setFocus)
        self.name_button.clicked.connect(self.name_contact)
        self.thread_view.sig_retry_requested.connect(self.retry)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        # The thread keeps most of the height: opened notes take at most a sixth of it.
        super().resizeEvent(event)
        if self.notes is not None:
            self.notes.lines.setMaximumHeight(max(44, min(140, self.height() // 6)))

    # ---- a thread ----------------------------------------------------------------------
    def show_conversation(self, conversation_id: int, around: int | None = None) -> ConversationRow:
        """Show a conversation (at message ``around`` if given) with its draft; returns it."""
        self.save_draft()
        conv = self._conversations.get(conversation_id)
        self.current = conv
        self._seen_last = conv.last_message_id or 0
        self.stack.setCurrentIndex(1)
        self.thread_view.show_conversation(conv.id, around)
        self._show_header(conv)
        if self.notes is not None:
            self.notes.show_for(conv.id)
        draft = self._drafts.text_for(conv)  # or a reply kept on this computer while the database was away
        self.reply.blockSignals(True)
        self.reply.setPlainText(draft)
        self.reply.blockSignals(False)
        self._saved_draft = conv.draft
        if self._prices is not None:
            prices = self._prices(conv.account_id)
            self.counter.set_price(prices.per_part(conv.remote), prices.currency)
        self.counter.show_for(draft)
        self.feedback.clear()
        return conv

    def choose_export(self) -> None:
        """Ask where to save this conversation, then write it (the line under the reply says how it went)."""
        conv, export = self.current, self._export
        if conv is None or export is None:
            return

        def chosen(path: Path) -> None:
            self.feedback.setText(f"Exporting to {path.name}…")
            spawn(
                export(conv.account_id, conv.remote, path),
                title="Export",
                on_done=lambda n: self.feedback.setText(f"Saved {n:,} message{'s' if n != 1 else ''} to {path}."),
                on_error=lambda e: self.feedback.setText(str(e)),
            )

        choose_save_path(self, "Export this conversation", "conversation", ("csv", "xlsx"), chosen)

    def _show_header(self, conv: ConversationRow) -> None:
        number = self._contacts.number_text(conv.remote)
        self.title.setText(conv.contact_name or number)
        self.title.setToolTip(conv.remote)  # the full international form, as stored
        sub = f"{number} · {conv.account}" if conv.contact_name else conv.account
        self.subtitle.setText(sub)
        self.name_button.setText("Rename contact…" if conv.contact_name else "Name contact…")
        reason = self._conversations.blocked_reason(conv.id)
        self.banner.setText(f"<b>Opted out.</b> {reason}" if reason else "")
        self.banner.setVisible(bool(reason))
        self.reply.setEnabled(reason is None)
        self.send_button.setEnabled(reason is None)
        self.reply.setPlaceholderText("Replying is blocked: this number opted out." if reason else REPLY_HINT)
        if self.team_bar is not None:
            self.team_bar.show_for(conv)

    def refresh_team(self) -> None:
        """The open conversation was assigned, resolved, snoozed or noted (here or elsewhere)."""
        self.refresh_current()
        if self.notes is not None:
            self.notes.refresh()

    def refresh_current(self) -> None:
        """Read the open conversation again (a name, an opt-out) and redraw its header."""
        if self.current is None:
            return
        try:
            self.current = self._conversations.get(self.current.id)
        except SmsdeskError:
            return
        self._show_header(self.current)

    # ---- drafts ------------------------------------------------------------------------
    def _reply_changed(self) -> None:
        self._draft_timer.start()
        if self.team_bar is not None and self.reply.toPlainText():
            self.team_bar.typed()

    def save_draft(self) -> None:
        self._draft_timer.stop()
        if self.current is None:
            return
        text = self.reply.toPlainText()
        if text == self._saved_draft:
            return
        if self._drafts.keep_here_if_away(self.current.id, text):
            return
        self._saved_draft = text
        spawn(self._drafts.save(self.current.id, text), title="Save draft")

    def save_draft_now(self) -> None:
        """Save an unsaved draft before the window closes (the debounce would lose the last
        ~0.7 s of typing, and a spawned save might never run)."""
        self._draft_timer.stop()
        if self.current is None or self.reply.toPlainText() == self._saved_draft:
            return
        text = self.reply.toPlainText()
        try:
            stored = self._drafts.save_now(self.current.id, text)  # or kept on this computer
        except SmsdeskError:
            log.exception("the draft could not be saved while closing")
            return
        if stored:
            self._saved_draft = text

    def connection_changed(self) -> None:
        """The database went away or came back: once back, every reply kept on this computer
        becomes its conversation's draft again (and leaves the offline file once stored)."""
        if self._drafts.away:
            return
        for conversation_id, text in self._drafts.kept().items():
            if self.current is not None and self.current.id == conversation_id:
                text = self.reply.toPlainText() or text  # what the box shows now is the newest
                self._saved_draft = text
            spawn(self._drafts.put_back(conversation_id, text), title="Save draft")
        if self.current is not None and self.feedback.text().startswith("Not sent: the database"):
            self.feedback.clear()

    # ---- reply -------------------------------------------------------------------------
    def send(self) -> None:
        # A pending debounced save would store the text being sent as the draft again.
        self._draft_timer.stop()
        if self.current is None or not self.reply.toPlainText().strip():
            return
        if self._drafts.keep_here_if_away(self.current.id, self.reply.toPlainText()):
            self.feedback.setStyleSheet(ERR_STYLE)
            self.feedback.setText(
                "Not sent: the database cannot be reached. Your reply is kept here as a draft; "
                "send it once the banner at the top has gone."
            )
            return
        reason = self._conversations.blocked_reason(self.current.id)
        if reason:
            self.feedback.setStyleSheet(ERR_STYLE)
            self.feedback.setText(reason)
            return
        if not self.send_button.isEnabled():
            return
        conv_id, text = self.current.id, self.reply.toPlainText()
        others = self._team.colleagues_replied(conv_id, self._seen_last) if self._team is not None else []
        if others:
            # A colleague answered while this person was reading or typing: theirs may say it already.
            self._seen_last = self._conversations.get(conv_id).last_message_id or self._seen_last
            self.feedback.setStyleSheet(HINT_STYLE)
            self.feedback.setText(f"Not sent yet: {' and '.join(others)} replied after you opened this.")
            confirm(
                self,
                "A colleague replied",
                f"{' and '.join(others)} replied in this conversation after you opened it.\n\n"
                "Read their reply above first. Send yours anyway?",
                lambda: self._send_now(conv_id, text),
                name="confirm_colleague_replied",
            )
            return
        self._send_now(conv_id, text)

    def _send_now(self, conv_id: int, text: str) -> None:
        self.send_button.setEnabled(False)
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText("Sending…")
        self._reply(conv_id, text)

    def _reply(self, conv_id: int, text: str, over_limit_ok: bool = False) -> None:
        self.send_button.setEnabled(False)
        self._saved_draft = text  # being sent: switching away now must not keep it as a draft
        spawn(
            self._conversations.reply(conv_id, text, over_limit_ok=over_limit_ok),
            title="Reply",
            on_done=lambda _m: self._sent(conv_id),
            on_error=lambda exc: self._send_failed(exc, conv_id, text),
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
        self.thread_view.scrollToBottom()

    def _send_failed(self, exc: BaseException, conv_id: int | None = None, text: str = "") -> None:
        self._saved_draft = None  # not sent: the text in the box is a draft again
        if conv_id is not None:
            self._drafts.not_sent(conv_id, text, exc)  # the database away: kept on this computer
        self.refresh_current()
        self.send_button.setEnabled(self.banner.isHidden())
        self.feedback.setStyleSheet(ERR_STYLE)
        self.feedback.setText(str(exc) if isinstance(exc, SmsdeskError) else f"Could not send: {exc}")
        if isinstance(exc, OverLimit) and conv_id is not None:
            # As Compose does: say why, and send anyway only if the person says so.
            self.feedback.setText("Not sent yet: over the account's monthly spending limit.")
            confirm(
                self,
                "Over the spending limit",
                f"{exc.reason}\n\nSend this reply anyway?",
                lambda: self._reply(conv_id, text, over_limit_ok=True),
                name="confirm_over_limit",
            )

    def retry(self, message_id: int) -> None:
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText("Retrying…")
        spawn(self._conversations.retry(message_id), title="Retry", on_done=self._retried, on_error=self._send_failed)

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
        dialog.setLabelText(f"Name for {self._contacts.number_text(conv.remote)} (shown instead of the number):")
        # Wide enough for its title in the window's title bar, beside the window buttons.
        title_room = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle()) * 3 // 2 + TITLE_BAR_BUTTONS
        dialog.setMinimumWidth(max(NAME_DIALOG_WIDTH, title_room))
        dialog.setTextValue(conv.contact_name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda name: self.set_contact_name(conv.remote, name))
        dialog.open()

    def set_contact_name(self, number: str, name: str) -> None:
        spawn(self._contacts.set_name(number, name), title="Name contact")

    # ---- groups ------------------------------------------------------------------------
    def add_to_group(self, group_id: int, name: str) -> None:
        if self.current is None:
            return
        conv = self.current
        spawn(
            self._add_to(conv.remote, conv.contact_name, group_id),
            title="Add to group",
            on_done=lambda added: self._said(
                f"Added to '{name}'." if added else f"Already in '{name}'.", "ok" if added else ""
            ),
            on_error=lambda exc: self._said(str(exc), "error"),
        )

    def _contact_id(self) -> int | None:
        """This conversation's contact, if the number is one."""
        if self.current is None:
            return None
        try:
            found = self._contacts.by_number(self.current.remote)
        except SmsdeskError:  # not a number this country reads (a short code)
            return None
        return found.id if found is not None else None

    def _member_of(self) -> set[int]:
        cid = self._contact_id()
        return {gid for gid, _name in self._groups.groups_of(cid)} if cid is not None else set()

    def remove_from_group(self, group_id: int, name: str) -> None:
        """Take this person out of a group (they stay a contact; their messages stay)."""
        cid = self._contact_id()
        if cid is None:
            return
        spawn(
            self._groups.remove_members(group_id, [cid]),
            title="Remove from group",
            on_done=lambda _n: self._said(f"Removed from '{name}'. They are still a contact.", "ok"),
            on_error=lambda exc: self._said(str(exc), "error"),
        )

    def add_to_new_group(self) -> None:
        if self.current is None:
            return
        conv = self.current

        async def create_and_add(name: str) -> None:
            await self._groups.create_with(name, [await self._contacts.contact_for(conv.remote, conv.contact_name)])

        ask_text(
            self,
            "New group",
            "Name of the new group:",
            lambda name: spawn(
                create_and_add(name),
                title="New group",
                on_done=lambda _r: self._said(f"Made '{name}' with this person in it.", "ok"),
                on_error=lambda exc: self._said(str(exc), "error"),
            ),
            name="ask_group_name",
        )

    async def _add_to(self, number: str, name: str, group_id: int) -> int:
        """Put ``number``'s contact in the group (made a contact first if it was not one)."""
        return await self._groups.add_members(group_id, [await self._contacts.contact_for(number, name)])

    def _said(self, text: str, tone: str) -> None:
        theme.set_tone(self.feedback, tone)
        self.feedback.setText(text)

    # ---- quick replies -----------------------------------------------------------------
    def quick_reply(self) -> None:
        """Pick a saved template; it goes in at the cursor, filled in for this person."""
        if self.current is None or not self.reply.isEnabled():
            return
        open_picker(self, self._templates, self._insert_template)

    def _insert_template(self, template: SavedTemplate) -> None:
        if self.current is None:
            return
        number = self.current.remote
        contact = self._contacts.by_number(number) or Contact(
            0, self.current.contact_name, numbers=(ContactNumber(number, for_sms=True),)
        )
        rendered = self._templates.render(template, contact)
        self.reply.setFocus(Qt.FocusReason.OtherFocusReason)
        self.reply.insertPlainText(rendered.text)
        if rendered.missing_fields:
            missing = ", ".join(rendered.missing_fields)
            self._said(f"This person has no {missing}: check the gap in the text before sending.", "warn")
