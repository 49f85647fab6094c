"""The team inbox in a thread: who has the conversation, resolve or snooze it, and its notes.

:class:`TeamBar` sits under the thread's title: "Assigned to ana" (or "Unassigned"), an
Assign menu (yourself, a colleague, nobody), Resolve / Reopen and a Snooze menu (an hour,
tomorrow morning, next Monday, until they reply). Assigning is first come, first served: if
a colleague took the conversation a moment before, the bar says "Taken by ana" and shows
them. On a single desktop (one person) the Assign menu is hidden.

:class:`NotesPanel` is the conversation's team activity under the thread: internal notes
(never sent; ``@name`` notifies that colleague) and who assigned, resolved or snoozed it.

Keyboard: Ctrl+Shift+M assigns the open conversation to you, Ctrl+Shift+E resolves or
reopens it, Ctrl+Shift+O goes to the note box (Enter adds the note, Esc goes back).
"""

from __future__ import annotations

import time
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.services.conversations import ConversationRow
from smsdesk.services.team_inbox import NOTE_MAX, ActivityRow, TeamInbox, TeamState
from smsdesk.ui.aio import spawn
from smsdesk.ui.collapsible import Collapsible
from smsdesk.ui.models.thread_model import local_dt
from smsdesk.ui.views.compose_view import ERR_STYLE, HINT_STYLE

VIEWING_EVERY_S = 5.0  # this desktop says "viewing" this often while the thread is on screen
TYPING_EVERY_S = 2.0  # ... and "typing" at most this often while the person types
VIEWING_FOR_S = 12.0  # a colleague not heard of for this long has gone
TYPING_FOR_S = 5.0  # ... or stopped typing
NOTE_HINT = "Add a note for the team (never sent). Type @name to notify a colleague."


def snooze_choices(now: datetime | None = None) -> list[tuple[str, datetime | None]]:
    """What the Snooze menu offers, as (words, until); None: until the customer replies."""
    now = now or datetime.now().astimezone()
    morning = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        ("For an hour", now + timedelta(hours=1)),
        ("Until tomorrow, 9:00", morning),
        ("Until Monday, 9:00", monday),
        ("Until they reply", None),
    ]


def _when(iso: str) -> str:
    dt = local_dt(iso)
    if dt is None:
        return ""
    today = datetime.now().astimezone().date()
    return dt.strftime("%H:%M") if dt.date() == today else dt.strftime("%d %b %H:%M")


def activity_text(row: ActivityRow, me: str) -> str:
    """One line of a conversation's activity, in plain words."""
    who = "You" if row.actor == me else (row.actor or "Someone")
    when = _when(row.created_at)
    if row.kind == "note":
        return f"{who} · {when}\n{row.body}"
    if row.kind == "assigned":
        to = "nobody" if not row.body else ("you" if row.body == me else row.body)
        if row.body and row.body == row.actor:
            return f"{who} took this conversation · {when}"
        return f"{who} assigned this to {to} · {when}"
    if row.kind == "snoozed":
        until = f"until {_when(row.body)}" if row.body else "until they reply"
        return f"{who} snoozed this {until} · {when}"
    return f"{who} {row.kind} this conversation · {when}"  # resolved, reopened


class TeamBar(QWidget):
    """Assignment and open / resolved / snoozed for the conversation shown (:meth:`show_for`)."""

    def __init__(self, team: TeamInbox, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.team = team
        self.conv: ConversationRow | None = None
        self.assignee = QLabel()
        self.assignee.setObjectName("team_assignee")
        self.assign_button = QPushButton("Assign")
        self.assign_button.setObjectName("team_assign")
        self.assign_button.setToolTip("Give this conversation to yourself (Ctrl+Shift+M) or a colleague")
        self.assign_menu = QMenu(self.assign_button)
        self.assign_menu.aboutToShow.connect(self._fill_assign_menu)
        self.assign_button.setMenu(self.assign_menu)
        self.resolve_button = QPushButton("Resolve")
        self.resolve_button.setObjectName("team_resolve")
        self.resolve_button.setToolTip("Mark this conversation done; a new reply reopens it (Ctrl+Shift+E)")
        self.resolve_button.clicked.connect(self.toggle_resolved)
        self.snooze_button = QPushButton("Snooze")
        self.snooze_button.setObjectName("team_snooze")
        self.snooze_button.setToolTip("Hide it from Mine and Unassigned for a while; a new reply brings it back")
        self.snooze_menu = QMenu(self.snooze_button)
        self.snooze_menu.aboutToShow.connect(self._fill_snooze_menu)
        self.snooze_button.setMenu(self.snooze_menu)
        self.presence = QLabel()
        self.presence.setObjectName("team_presence")
        self.presence.setStyleSheet(HINT_STYLE + " font-style: italic;")
        self._others: dict[str, tuple[int, str, float]] = {}  # person -> (conversation, activity, heard at)
        self._said: dict[str, float] = {}  # what this desktop announced last, and when
        self._away = False  # the thread left the screen (another page): "left" was said
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._presence_tick)
        self.message = QLabel()
        self.message.setObjectName("team_message")
        self.message.setWordWrap(True)
        self.message.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.assignee)
        row.addWidget(self.presence, 1)
        row.addWidget(self.assign_button)
        row.addWidget(self.resolve_button)
        row.addWidget(self.snooze_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.message)

    def show_for(self, conv: ConversationRow) -> None:
        previous = self.conv
        self.conv = conv
        shared = self.team.shared
        if shared and (previous is None or previous.id != conv.id or self._away):
            if previous is not None and not self._away:
                self._announce(previous.id, "left")
            self._away = False
            self._said.clear()
            self._announce(conv.id, "viewing")
            self._tick.start()
        self._show_presence()
        self.assign_button.setVisible(shared)
        me = self.team.me
        if conv.state == TeamState.RESOLVED:
            state = "Resolved"
        elif conv.state == TeamState.SNOOZED:
            state = f"Snoozed until {_when(conv.snoozed_until)}" if conv.snoozed_until else "Snoozed until they reply"
        else:
            state = "Open"
        if shared:
            who = "you" if conv.assignee == me else conv.assignee
            state += f" · Assigned to {who}" if who else " · Unassigned"
            seen = self.team.seen_by_others(conv)
            if seen:
                state += f" · Seen by {', '.join(seen)}"
        self.assignee.setText(state)
        self.assignee.setStyleSheet(HINT_STYLE)
        self.resolve_button.setText("Reopen" if conv.state == TeamState.RESOLVED else "Resolve")

    # ---- presence ----------------------------------------------------------------------
    def heard(self, presence: set[tuple[str, int, str]]) -> None:
        """Other desktops said who is viewing or typing where (``Changes.presence``)."""
        me, now = self.team.me, time.monotonic()
        for person, conversation_id, activity in presence:
            if person == me:
                continue
            if activity == "left":
                if self._others.get(person, (None,))[0] == conversation_id:
                    del self._others[person]
            else:
                self._others[person] = (conversation_id, activity, now)
        self._show_presence()

    def typed(self) -> None:
        """The person typed in the reply box: colleagues see "… is typing" (at most every 2 s)."""
        if self.conv is not None and self.team.shared:
            self._announce(self.conv.id, "typing", TYPING_EVERY_S)

    def leave(self) -> None:
        """The thread is no longer on screen (another page, the window closing)."""
        if self.conv is not None and self.team.shared and not self._away:
            self._announce(self.conv.id, "left")
            self._said.clear()
        self._away = True
        self._tick.stop()

    def _announce(self, conversation_id: int, activity: str, every: float = 0.0) -> None:
        now = time.monotonic()
        if every and now - self._said.get(activity, -every) < every:
            return
        self._said[activity] = now
        spawn(self.team.announce(conversation_id, activity), title="Presence")

    def _presence_tick(self) -> None:
        if self.conv is not None and self.isVisible() and self.window().isActiveWindow():
            self._announce(self.conv.id, "viewing", VIEWING_EVERY_S)
        self._show_presence()

    def _show_presence(self) -> None:
        now = time.monotonic()
        for person, (_c, activity, at) in list(self._others.items()):
            if now - at > (TYPING_FOR_S if activity == "typing" else VIEWING_FOR_S):
                if activity == "typing":  # stopped typing: still there for a while
                    self._others[person] = (_c, "viewing", at)
                    if now - at <= VIEWING_FOR_S:
                        continue
                del self._others[person]
        here = self.conv.id if self.conv is not None else None
        typing = sorted(p for p, (c, a, _t) in self._others.items() if c == here and a == "typing")
        viewing = sorted(p for p, (c, a, _t) in self._others.items() if c == here and a != "typing")
        words = []
        if typing:
            words.append(f"{' and '.join(typing)} {'is' if len(typing) == 1 else 'are'} typing…")
        if viewing:
            words.append(f"{' and '.join(viewing)} {'is' if len(viewing) == 1 else 'are'} viewing")
        self.presence.setText("  ·  ".join(words))

    def say(self, text: str) -> None:
        self.message.setStyleSheet(ERR_STYLE)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ---- actions -----------------------------------------------------------------------
    def _run(self, coro: Coroutine[Any, Any, None], title: str) -> None:
        self.say("")
        spawn(coro, title=title, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.say(str(exc) if isinstance(exc, SmsdeskError) else f"That did not work: {exc}")

    def assign(self, to: str | None) -> None:
        if self.conv is not None:
            self._run(self.team.assign(self.conv.id, to, seen=self.conv.assignee), "Assign")

    def take(self) -> None:
        """Ctrl+Shift+M: the open conversation is yours (unless a colleague has it)."""
        if self.conv is not None and self.team.shared and self.conv.assignee != self.team.me:
            self.assign(self.team.me)

    def toggle_resolved(self) -> None:
        if self.conv is None:
            return
        if self.conv.state == TeamState.RESOLVED:
            self._run(self.team.reopen(self.conv.id), "Reopen")
        else:
            self._run(self.team.resolve(self.conv.id), "Resolve")

    def snooze(self, until: datetime | None) -> None:
        if self.conv is not None:
            self._run(self.team.snooze(self.conv.id, until), "Snooze")

    def _fill_assign_menu(self) -> None:
        self.assign_menu.clear()
        me = self.team.me
        current = self.conv.assignee if self.conv else None
        mine = self.assign_menu.addAction("Assign to me")
        mine.setEnabled(current != me)
        mine.triggered.connect(lambda: self.assign(me))
        self.assign_menu.addSeparator()
        for person in self.team.people():
            if person == me:
                continue
            action = self.assign_menu.addAction(person)
            action.setEnabled(current != person)
            action.triggered.connect(lambda _c=False, p=person: self.assign(p))
        self.assign_menu.addSeparator()
        nobody = self.assign_menu.addAction("Unassign")
        nobody.setEnabled(current is not None)
        nobody.triggered.connect(lambda: self.assign(None))

    def _fill_snooze_menu(self) -> None:
        self.snooze_menu.clear()
        for words, until in snooze_choices():
            self.snooze_menu.addAction(words).triggered.connect(lambda _c=False, u=until: self.snooze(u))


class NotesPanel(Collapsible):
    """A conversation's notes and team activity, opened under the thread.

    ``sig_escape``: Esc in the note box (the thread pane sends the keyboard back to the reply).
    """

    sig_escape = Signal()

    def __init__(self, team: TeamInbox, parent: QWidget | None = None) -> None:
        super().__init__("Team notes", name="team_notes", parent=parent)
        self.team = team
        self.conversation_id: int | None = None
        self.lines = QListWidget()
        self.lines.setObjectName("team_activity")
        self.lines.setWordWrap(True)
        self.lines.setAlternatingRowColors(True)
        self.lines.setMaximumHeight(140)
        self.edit = QLineEdit()
        self.edit.setObjectName("note_edit")
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.edit)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        escape.activated.connect(self.sig_escape)
        self.edit.setPlaceholderText(NOTE_HINT)
        self.edit.setMaxLength(NOTE_MAX)
        self.add_button = QPushButton("Add note")
        self.add_button.setObjectName("add_note")
        self.feedback = QLabel()
        self.feedback.setObjectName("note_feedback")
        self.feedback.setWordWrap(True)
        self.feedback.hide()
        entry = QHBoxLayout()
        entry.addWidget(self.edit, 1)
        entry.addWidget(self.add_button)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.lines)
        body.addLayout(entry)
        body.addWidget(self.feedback)
        self.edit.returnPressed.connect(self.add)
        self.add_button.clicked.connect(self.add)

    def show_for(self, conversation_id: int) -> None:
        if conversation_id != self.conversation_id:
            self.edit.clear()
            self.feedback.hide()
        self.conversation_id = conversation_id
        self.refresh()

    def refresh(self) -> None:
        if self.conversation_id is None:
            return
        rows = self.team.activity(self.conversation_id)
        me = self.team.me
        self.lines.clear()
        for row in rows:
            item = QListWidgetItem(activity_text(row, me))
            if row.kind != "note":
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
            self.lines.addItem(item)
        self.lines.scrollToBottom()
        notes = sum(1 for r in rows if r.kind == "note")
        self.toggle.setText(f"Team notes ({notes})" if notes else "Team notes")

    def focus_note(self) -> None:
        self.set_expanded(True)
        self.edit.setFocus()

    def add(self) -> None:
        text = self.edit.text()
        if self.conversation_id is None or not text.strip():
            return
        self.add_button.setEnabled(False)
        spawn(
            self.team.add_note(self.conversation_id, text),
            title="Add note",
            on_done=lambda _id: self._added(text),
            on_error=self._failed,
        )

    def _added(self, text: str) -> None:
        self.add_button.setEnabled(True)
        if self.edit.text() == text:
            self.edit.clear()
        mentioned = self.team.mentioned(text) - {self.team.me}
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText(f"Noted; {', '.join(sorted(mentioned))} will be notified." if mentioned else "")
        self.feedback.setVisible(bool(mentioned))
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        self.feedback.setStyleSheet(ERR_STYLE)
        self.feedback.setText(str(exc) if isinstance(exc, SmsdeskError) else f"The note was not added: {exc}")
        self.feedback.show()
