"""Paints one inbox row: name or number, time, last message snippet, unread count, opt-out."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from smsdesk.services.conversations import ConversationRow
from smsdesk.ui import theme
from smsdesk.ui.models.conversation_list_model import ConversationRole
from smsdesk.ui.models.thread_model import local_dt

Index = QModelIndex | QPersistentModelIndex
PAD = 10


def short_time(iso: str, now: datetime | None = None) -> str:
    dt = local_dt(iso)
    if dt is None:
        return ""
    now = now or datetime.now().astimezone()
    if dt.date() == now.date():
        return dt.strftime("%H:%M")
    if (now.date() - dt.date()).days < 7:
        return dt.strftime("%a")
    if dt.year == now.year:
        return dt.strftime("%d %b")
    return dt.strftime("%d/%m/%Y")


def tags(c: ConversationRow) -> list[tuple[str, str]]:
    """The badges on a row's first line, right to left, as (words, badge kind): opted out,
    resolved or snoozed, and who has it on a team."""
    out: list[tuple[str, str]] = []
    if c.opted_out:
        out.append(("Opted out", "error"))
    if c.state == "resolved":
        out.append(("Resolved", "ok"))
    elif c.state == "snoozed":
        out.append(("Snoozed", "info"))
    if c.assignee:
        out.append((c.assignee, "neutral"))
    return out


def snippet(c: ConversationRow) -> tuple[str, bool]:
    """(text, is_draft) for the second line."""
    if c.draft.strip():
        return "Draft: " + " ".join(c.draft.split()), True
    text = " ".join(c.last_body.split())
    if c.last_direction == "out":
        text = "You: " + text
    return text, False


class ConversationDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802 - Qt API
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 2 + PAD * 2 + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        c: ConversationRow | None = index.data(ConversationRole)
        if c is None:
            return
        pal: QPalette = option.palette
        r = option.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(r, pal.color(QPalette.ColorRole.Highlight))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(r, pal.color(QPalette.ColorRole.AlternateBase))
        ink = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = QColor(ink)
        dim.setAlpha(170)
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() * 0.88, 7.0))
        fm, bfm, sfm = QFontMetrics(base), QFontMetrics(bold), QFontMetrics(small)
        inner = r.adjusted(PAD + 2, PAD, -PAD, -PAD)
        line1 = QRect(inner.left(), inner.top(), inner.width(), fm.height())
        line2 = QRect(inner.left(), line1.bottom() + 4, inner.width(), fm.height())

        when = short_time(c.last_at)
        painter.setFont(small)
        painter.setPen(dim)
        tw = sfm.horizontalAdvance(when)
        painter.drawText(
            QRect(line1.right() - tw, line1.top(), tw, line1.height()),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            when,
        )
        right = line1.right() - tw - 8
        for tag, kind in tags(c):
            gw = sfm.horizontalAdvance(tag) + 10
            tag_rect = QRect(right - gw, line1.top() + 1, gw, line1.height() - 2)
            fill, tag_ink = theme.badge(kind)
            painter.setPen(tag_ink)
            path = QPainterPath()
            path.addRoundedRect(tag_rect, 4, 4)
            painter.fillPath(path, fill)
            painter.drawText(tag_rect, int(Qt.AlignmentFlag.AlignCenter), tag)
            right -= gw + 6
        painter.setFont(bold if c.unread else base)
        painter.setPen(ink)
        title_rect = QRect(line1.left(), line1.top(), max(right - line1.left(), 10), line1.height())
        # The model's title: the contact's name, or the number as people write it.
        shown = index.data(Qt.ItemDataRole.DisplayRole) or c.title
        title = (bfm if c.unread else fm).elidedText(shown, Qt.TextElideMode.ElideRight, title_rect.width())
        painter.drawText(title_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), title)

        right2 = line2.right()
        if c.unread:
            count = str(c.unread) if c.unread < 1000 else "999+"
            pw = max(sfm.horizontalAdvance(count) + 12, line2.height())
            pill = QRect(right2 - pw, line2.top() + 1, pw, line2.height() - 2)
            path = QPainterPath()
            path.addRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.fillPath(
                path, pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight)
            )
            painter.setFont(small)
            painter.setPen(pal.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.HighlightedText))
            painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), count)
            right2 -= pw + 8
        text, is_draft = snippet(c)
        painter.setFont(base)
        painter.setPen(theme.color("warn") if is_draft and not selected else dim)
        rect2 = QRect(line2.left(), line2.top(), max(right2 - line2.left(), 10), line2.height())
        painter.drawText(
            rect2,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            fm.elidedText(text, Qt.TextElideMode.ElideRight, rect2.width()),
        )
        painter.setPen(pal.color(QPalette.ColorRole.Midlight))
        painter.drawLine(r.left() + PAD, r.bottom(), r.right() - PAD, r.bottom())
        painter.restore()
