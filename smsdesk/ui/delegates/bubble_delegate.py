"""Paints a thread's messages as chat bubbles: incoming on the left, outgoing on the right.

Under each outgoing bubble: its status and time (ticks for sent/delivered); a failed one also
shows the reason and a **Retry** link (click, or the view's Retry action on the selected
row). A day separator is drawn above the first message of each day (``DayRole``). Layout
is computed once per (message version, width) and cached, so scrolling is paint-only.
While a search is open, the words searched for are marked in each bubble (:attr:`terms`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from smsdesk.domain.models import Message
from smsdesk.domain.status import Status, can_retry
from smsdesk.ui import theme
from smsdesk.ui.models.thread_model import DayRole, MessageRole, ThreadModel, local_dt
from smsdesk.ui.plain import without_codes

Index = QModelIndex | QPersistentModelIndex
MARGIN = 14
PAD_X = 11
PAD_Y = 7
RADIUS = 12
GAP = 6
MAX_FRACTION = 0.68
_WRAP = Qt.TextFlag.TextWordWrap
_WRAP_ANY = Qt.TextFlag.TextWrapAnywhere  # only for a word longer than the bubble (a URL)
SLACK = 3  # font metrics round down; without it the last glyph of a line may be clipped
_TICKS = {Status.SENT: " ✓", Status.DELIVERED: " ✓✓"}
_PENDING = {Status.QUEUED: "Sending…", Status.SCHEDULED: "Scheduled"}


@dataclass(slots=True)
class _Geo:
    height: int
    day: QRect
    bubble: QRect
    text: QRect
    meta: QRect
    reason: QRect
    retry: QRect


def meta_text(m: Message) -> str:
    dt = local_dt(m.created_at)
    when = dt.strftime("%H:%M") if dt else ""
    if m.direction != "out":
        return when
    label = _PENDING.get(m.status, m.status.label) + _TICKS.get(m.status, "")
    auto = "Automatic reply · " if m.auto_rule_id is not None else ""
    return f"{auto}{label} · {when}"


def wrap_flags(text: str, fm: QFontMetrics, width: int) -> Qt.TextFlag:
    """Wrap at word boundaries, unless a single word is wider than the bubble."""
    longest = max((fm.horizontalAdvance(w) for w in text.split()), default=0)
    return _WRAP_ANY if longest > width else _WRAP


def failed(m: Message) -> bool:
    return m.direction == "out" and can_retry(m.status)


def search_terms(text: str) -> tuple[str, ...]:
    """The words of a search, as the search matches them (each word, the last also as a prefix)."""
    return tuple(w for w in re.findall(r"\w+", text.casefold()) if w)


def hit_ranges(body: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """(start, length) of each place in ``body`` where a word starts with one of ``terms``."""
    if not terms:
        return []
    pattern = r"\b(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + ")"
    return [(m.start(), m.end() - m.start()) for m in re.finditer(pattern, body, re.IGNORECASE)]


class BubbleDelegate(QStyledItemDelegate):
    """Chat-bubble painter; emits ``sig_retry_requested(message_id)`` when Retry is clicked."""

    sig_retry_requested = Signal(int)

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        self._cache: dict[tuple[int, str, int, str], _Geo] = {}
        self.terms: tuple[str, ...] = ()  # words of the open search, marked in the text

    # ---- geometry ----------------------------------------------------------------------
    def _fonts(self) -> tuple[QFont, QFont]:
        base = self._view.font()
        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() * 0.85, 7.0))
        return base, small

    @staticmethod
    def _item(index: Index) -> tuple[Message | None, str]:
        model = index.model()
        if isinstance(model, ThreadModel):  # direct access: no QVariant per call
            return model.message_at(index.row()), model.day_at(index.row())
        return index.data(MessageRole), index.data(DayRole) or ""

    def geometry(self, index: Index, width: int | None = None) -> _Geo:
        m, day = self._item(index)
        assert m is not None
        width = width or self._view.viewport().width()
        key = (m.id, m.updated_at + m.status.value, width, day)
        geo = self._cache.get(key)
        if geo is None:
            if len(self._cache) > 4000:
                self._cache.clear()
            geo = self._compute(m, day, width)
            self._cache[key] = geo
        return geo

    def _compute(self, m: Message, day: str, width: int) -> _Geo:
        base, small = self._fonts()
        fm, sfm = QFontMetrics(base), QFontMetrics(small)
        max_text = max(int((width - 2 * MARGIN) * MAX_FRACTION) - 2 * PAD_X, 80)
        y = GAP // 2
        day_rect = QRect()
        if day:
            day_rect = QRect(0, y + 4, width, sfm.height() + 8)
            y = day_rect.bottom() + 10
        text_size = fm.boundingRect(
            QRect(0, 0, max_text, 100_000), int(wrap_flags(m.body, fm, max_text)), m.body or " "
        ).size()
        bw = min(max(text_size.width() + SLACK, 24), max_text + SLACK) + 2 * PAD_X
        bh = text_size.height() + 2 * PAD_Y
        x = width - MARGIN - bw if m.direction == "out" else MARGIN
        bubble = QRect(x, y, bw, bh)
        text = bubble.adjusted(PAD_X, PAD_Y, -PAD_X, -PAD_Y)
        y = bubble.bottom() + 3
        meta = meta_text(m)
        retry = QRect()
        reason = QRect()
        meta_w = sfm.horizontalAdvance(meta) + SLACK
        if failed(m):
            retry_w = sfm.horizontalAdvance("Retry") + 8
            meta_rect = QRect(width - MARGIN - meta_w - retry_w - 10, y, meta_w, sfm.height())
            retry = QRect(width - MARGIN - retry_w, y - 1, retry_w, sfm.height() + 2)
            y = meta_rect.bottom() + 2
            if m.error:
                rmax = max(int((width - 2 * MARGIN) * MAX_FRACTION), 80)
                rs = sfm.boundingRect(QRect(0, 0, rmax, 10_000), int(_WRAP), without_codes(m.error)).size()
                rw = rs.width() + SLACK
                reason = QRect(width - MARGIN - rw, y, rw, min(rs.height(), sfm.height() * 4))
                y = reason.bottom() + 2
        elif m.direction == "out":
            meta_rect = QRect(width - MARGIN - meta_w, y, meta_w, sfm.height())
            y = meta_rect.bottom() + 2
        else:
            meta_rect = QRect(MARGIN + 4, y, meta_w, sfm.height())
            y = meta_rect.bottom() + 2
        return _Geo(y + GAP, day_rect, bubble, text, meta_rect, reason, retry)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802 - Qt API
        if self._item(index)[0] is None:
            return super().sizeHint(option, index)
        return QSize(self._view.viewport().width(), self.geometry(index).height)

    # ---- painting ----------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        m, label = self._item(index)
        if m is None:
            return
        geo = self.geometry(index, option.rect.width())
        pal: QPalette = option.palette
        base, small = self._fonts()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(option.rect.topLeft())
        if not geo.day.isNull():
            painter.setFont(small)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            tw = QFontMetrics(small).horizontalAdvance(label) + 20
            pill = QRect((geo.day.width() - tw) // 2, geo.day.top(), tw, geo.day.height())
            path = QPainterPath()
            path.addRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.fillPath(path, pal.color(QPalette.ColorRole.AlternateBase))
            painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), label)
        out = m.direction == "out"
        if out:
            fill = pal.color(QPalette.ColorRole.Highlight)
            ink = pal.color(QPalette.ColorRole.HighlightedText)
        else:
            fill = pal.color(QPalette.ColorRole.Midlight)
            ink = pal.color(QPalette.ColorRole.Text)
        path = QPainterPath()
        path.addRoundedRect(geo.bubble, RADIUS, RADIUS)
        painter.fillPath(path, fill)
        if option.state & QStyle.StateFlag.State_Selected:
            pen_color = QColor(pal.color(QPalette.ColorRole.Text))
            pen_color.setAlpha(140)
            painter.setPen(pen_color)
            painter.drawRoundedRect(geo.bubble.adjusted(-2, -2, 2, 2), RADIUS + 2, RADIUS + 2)
        painter.setFont(base)
        painter.setPen(ink)
        flags = wrap_flags(m.body, QFontMetrics(base), geo.text.width())
        hits = hit_ranges(m.body, self.terms)
        if hits:
            _draw_marked(painter, geo.text, m.body, base, flags, hits)
        else:
            painter.drawText(geo.text, int(flags), m.body)
        painter.setFont(small)
        is_failed = failed(m)
        painter.setPen(theme.color("error") if is_failed else pal.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(geo.meta, int(Qt.AlignmentFlag.AlignLeft), meta_text(m))
        if is_failed:
            link = QFont(small)
            link.setUnderline(True)
            link.setBold(True)
            painter.setFont(link)
            painter.setPen(pal.color(QPalette.ColorRole.Link))
            painter.drawText(geo.retry, int(Qt.AlignmentFlag.AlignCenter), "Retry")
            if not geo.reason.isNull() and m.error:
                painter.setFont(small)
                painter.setPen(theme.color("error"))
                painter.drawText(geo.reason, int(_WRAP | Qt.AlignmentFlag.AlignRight), without_codes(m.error))
        painter.restore()

    # ---- Retry click -------------------------------------------------------------------
    def editorEvent(  # noqa: N802 - Qt API
        self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem, index: Index
    ) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            m = self._item(index)[0]
            if m is not None and failed(m) and event.button() == Qt.MouseButton.LeftButton:
                geo = self.geometry(index, option.rect.width())
                pos = event.position().toPoint() - option.rect.topLeft()
                if geo.retry.adjusted(-4, -4, 4, 4).contains(pos):
                    self.sig_retry_requested.emit(m.id)
                    return True
        return super().editorEvent(event, model, option, index)


def _draw_marked(
    painter: QPainter, rect: QRect, text: str, font: QFont, flags: Qt.TextFlag, hits: list[tuple[int, int]]
) -> None:
    """Draw ``text`` as ``drawText`` would in ``rect``, with each hit on a marker background."""
    back, ink = theme.mark()
    fmt = QTextCharFormat()
    fmt.setBackground(back)
    fmt.setForeground(ink)
    ranges = []
    for start, length in hits:
        r = QTextLayout.FormatRange()
        r.start, r.length, r.format = start, length, fmt
        ranges.append(r)
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAnywhere if flags == _WRAP_ANY else QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.setFormats(ranges)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(rect.width())
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    layout.draw(painter, QPointF(rect.topLeft()))
