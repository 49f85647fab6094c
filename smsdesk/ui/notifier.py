"""Desktop notifications for replies and the unread badge in the navigation.

Built with the main window (not with the Conversations page, which is built on first
visit), so a reply is announced and counted whatever page is showing. Each new inbound
message (``Changes.inbound_ids``) shows a system-tray message; a burst shows the first few
and a summary. A colleague's team note that @mentions this desktop's person is announced
the same way. Clicking the message opens that conversation.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from smsdesk.domain.events import Changes
from smsdesk.ui.aio import redraw_slot
from smsdesk.ui.context import UiContext

MAX_BUBBLES = 3


def app_icon() -> QIcon:
    """A plain speech-bubble icon drawn in code (no resource file needed for the tray)."""
    pix = QPixmap(64, 64)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor("#1a5dc8"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(4, 8, 56, 40, 14, 14)
    p.drawPolygon([QPoint(14, 44), QPoint(30, 46), QPoint(12, 60)])
    p.end()
    return QIcon(pix)


class InboxNotifier(QObject):
    """Announces replies and keeps ``window.set_badge('conversations', unread)`` current."""

    def __init__(self, ctx: UiContext, window: QWidget) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.history: list[tuple[str, str, int]] = []  # (title, text, conversation id), for tests
        self.unread = -1
        self._last_conversation: int | None = None
        self.tray = QSystemTrayIcon(app_icon(), self)
        self.tray.setToolTip("smsdesk")
        self.tray.messageClicked.connect(self._open_last)
        self.tray.activated.connect(lambda _reason: self._raise())
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()

    def start(self) -> None:
        """Count and announce from now on (the window calls this once the services are up)."""
        self.ctx.bridge.sig_changed.connect(self._on_changes)
        self.refresh_badge()

    def refresh_badge(self) -> None:
        total = self.ctx.services.conversations.unread_total()
        if total != self.unread:
            self.unread = total
            set_badge = getattr(self.window, "set_badge", None)
            if set_badge is not None:
                set_badge("conversations", total)
            self.tray.setToolTip(f"smsdesk — {total} unread" if total else "smsdesk")

    @redraw_slot
    def _on_changes(self, changes: Changes) -> None:
        if not self.ctx.services.health.ok:
            return  # nothing can be read; the catch-up once back counts and announces again
        if changes.message_ids or changes.everything:
            self.refresh_badge()
        if changes.inbound_ids:
            self.notify(changes.inbound_ids)
        if changes.note_ids:
            self.notify_mentions(changes.note_ids)

    def notify_mentions(self, note_ids: set[int]) -> None:
        """A colleague's new team note names this desktop's person (@name): say who and what."""
        svc = self.ctx.services.conversations
        if svc.team is None:
            return
        for note in svc.team.notes_for_me(note_ids)[:MAX_BUBBLES]:
            convs = svc.get_many([note.conversation_id])
            about = f" about {convs[0].title}" if convs else ""
            self._show(f"{note.actor} mentioned you{about}", note.body, note.conversation_id)

    def notify(self, inbound_ids: set[int]) -> None:
        svc = self.ctx.services.conversations
        msgs = sorted(svc.messages(inbound_ids), key=lambda m: m.id)
        for i, m in enumerate(msgs):
            conv = svc.find(m.account_id, m.remote)
            if conv is None:
                continue
            if self._on_screen(conv.id):
                continue  # the person is reading that thread right now
            if i >= MAX_BUBBLES:
                rest = len(msgs) - MAX_BUBBLES
                self._show("smsdesk", f"{rest} more new message{'s' if rest != 1 else ''}", conv.id)
                break
            self._show(conv.title, m.body, conv.id)

    def _on_screen(self, conversation_id: int) -> bool:
        pages = getattr(self.window, "pages", {})
        page = pages.get("conversations")
        reading = getattr(page, "is_being_read", None)
        current = getattr(page, "current", None)
        return bool(reading and reading() and current is not None and current.id == conversation_id)

    def _show(self, title: str, text: str, conversation_id: int) -> None:
        self.history.append((title, text, conversation_id))
        del self.history[:-50]
        self._last_conversation = conversation_id
        self.tray.showMessage(title, text[:200], QSystemTrayIcon.MessageIcon.Information, 8000)

    def _raise(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def _open_last(self) -> None:
        self._raise()
        show_page = getattr(self.window, "show_page", None)
        if show_page is None or self._last_conversation is None:
            return
        page = show_page("conversations")
        opener = getattr(page, "open_conversation", None)
        if opener is not None:
            opener(self._last_conversation)
