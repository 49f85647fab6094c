"""Chart widgets: hover tooltips, keyboard reading, live theme, and an empty state in words.

Each widget paints a :class:`~smsdesk.ui.charts.chart.Chart` into itself. The point under the
pointer shows a tooltip; with keyboard focus, Left/Right move between categories (Up/Down
between series) and the same words go to a tooltip, the accessible description (read by
screen readers) and ``sig_point_focused`` (for a status label).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from smsdesk.ui.charts.chart import Chart
from smsdesk.ui.charts.colors import ChartColors
from smsdesk.ui.charts.data import ChartData, Unit, ValueFormat, by_hour
from smsdesk.ui.charts.layout import ChartKind, Geometry, Point, hit

_MOVES = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}
_EMPTY = ChartData((), ())


class ChartWidget(QWidget):
    """A chart of ``data`` that a person can point at and read with the keyboard.

    Signals:
        sig_point_focused(category, series, text): the keyboard moved to a point.
        sig_point_activated(category, series): a point was clicked or Enter pressed on it.
    """

    sig_point_focused = Signal(int, int, str)
    sig_point_activated = Signal(int, int)

    kind = ChartKind.BARS

    def __init__(self, data: ChartData | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = Chart(_EMPTY, self.kind)
        self.hover: Point | None = None
        self.current: Point | None = None
        self._geo: Geometry | None = None
        self._colors: ChartColors | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.set_data(data or _EMPTY)

    # -- data -------------------------------------------------------------------------------

    @property
    def data(self) -> ChartData:
        return self.chart.data

    def set_data(self, data: ChartData) -> None:
        """Show ``data`` (the keyboard position and hover start again)."""
        self.chart.data = self._adapt(data)
        self.hover = self.current = None
        self._geo = None
        self.setAccessibleName(self.chart.data.title or "Chart")
        self.setAccessibleDescription(self.chart.data.summary())
        if self.underMouse() or self.hasFocus():  # the tooltip shown may be about old data
            QToolTip.hideText()
        self.update()

    def _adapt(self, data: ChartData) -> ChartData:
        return data

    def geometry_now(self) -> Geometry:
        """The layout for the widget's current size (what was painted last)."""
        if self._geo is None:
            self._geo = self.chart.layout(QRectF(self.rect()), self.font(), self)
        return self._geo

    def point_at(self, pos: QPoint | QPointF) -> Point | None:
        """The point (category, series) under ``pos`` in widget coordinates, if any."""
        return hit(self.geometry_now(), self.data, QPointF(pos))

    def current_text(self) -> str:
        """What the keyboard position says (the accessible description while focused)."""
        if self.current is None:
            return self.data.summary()
        return self.data.point_text(*self.current)

    # -- size -------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        line = QFontMetrics(self.font()).height()
        return QSize(line * 34, line * 15)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        # Small enough for two charts side by side at 1024 px wide: labels thin out and the
        # legend wraps rather than the chart asking for more room.
        line = QFontMetrics(self.font()).height()
        return QSize(line * 16, line * 12)

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        if self._colors is None:
            self._colors = ChartColors.from_palette(self.palette())
        painter = QPainter(self)
        try:
            self.chart.paint(
                painter,
                QRectF(self.rect()),
                font=self.font(),
                hover=self.hover,
                focus=self.current if self.hasFocus() else None,
                geometry=self.geometry_now(),
                colors=self._colors,
            )
            if self.hasFocus() and self.current is None:
                # Tabbed in, no point chosen yet: show where the keyboard is.
                painter.setPen(QPen(self._colors.focus, 1))
                painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        finally:
            painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        self._geo = None
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        # The theme switches by replacing the application palette: recolour at once.
        kind = event.type()
        if kind in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._colors = None
            self.update()
        elif kind == QEvent.Type.FontChange:
            self._geo = None
            self.updateGeometry()
            self.update()
        super().changeEvent(event)

    # -- pointer ----------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            point = self.point_at(event.pos())
            if point is None:
                QToolTip.hideText()
                event.ignore()
            else:
                self._show_tip(point, event.globalPos())
            return True
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        point = self.point_at(event.position())
        if point != self.hover:
            self.hover = point
            self.update()
            if point is not None and QToolTip.isVisible():  # follow the pointer along the bars
                self._show_tip(point, event.globalPosition().toPoint())
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if self.hover is not None:
            self.hover = None
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        point = self.point_at(event.position())
        if point is not None and event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._move_to(point, tip=False)
            self.sig_point_activated.emit(point[0], point[1])
        super().mousePressEvent(event)

    def _show_tip(self, point: Point, global_pos: QPoint) -> None:
        area = self.geometry_now().anchor(*point).toAlignedRect()
        QToolTip.showText(global_pos, self.data.point_text(*point), self, area)

    # -- keyboard ---------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        count, series = len(self.data.categories), len(self.data.series)
        key = Qt.Key(event.key())
        if self.data.is_empty or not series:
            super().keyPressEvent(event)
            return
        i, j = self.current if self.current is not None else (-1, 0)
        if key in _MOVES:
            if self.current is None:  # the first press lands on the first or the last point
                i = 0 if _MOVES[key] > 0 else count - 1
            else:
                i = max(0, min(count - 1, i + _MOVES[key]))
        elif key == Qt.Key.Key_Home:
            i = 0
        elif key == Qt.Key.Key_End:
            i = count - 1
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.current is not None:
            # Up climbs a stack (later series are drawn above earlier ones).
            j = max(0, min(series - 1, j + (1 if key == Qt.Key.Key_Up else -1)))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.current is not None:
            self.sig_point_activated.emit(i, j)
            return
        else:
            super().keyPressEvent(event)
            return
        self._move_to((max(0, i), j), tip=True)

    def _move_to(self, point: Point, *, tip: bool) -> None:
        self.current = point
        text = self.data.point_text(*point)
        self.setAccessibleDescription(text)  # Qt tells assistive technology it changed
        if tip:
            area = self.geometry_now().anchor(*point).toAlignedRect()
            QToolTip.showText(self.mapToGlobal(area.topRight()), text, self, area)
        self.update()
        self.sig_point_focused.emit(point[0], point[1], text)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt API
        self.setAccessibleDescription(self.current_text())
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt API
        QToolTip.hideText()
        self.update()
        super().focusOutEvent(event)


class StackedBarChart(ChartWidget):
    """Bars whose series stack (e.g. messages per day: delivered, failed, pending)."""

    def _adapt(self, data: ChartData) -> ChartData:
        return data if data.stacked else dataclasses.replace(data, stacked=True)


class LineChart(ChartWidget):
    """A line per series (e.g. cost per day, replies per day); unknown values break the line."""

    kind = ChartKind.LINE


class HourOfDayChart(ChartWidget):
    """Bars for the 24 hours of the day (e.g. when replies arrive), hour 0 first."""

    def _adapt(self, data: ChartData) -> ChartData:
        if data.categories and len(data.categories) != 24:
            raise ValueError(f"an hour-of-day chart needs 24 values, one per hour; got {len(data.categories)}")
        return data

    def set_hours(
        self,
        values: list[float],
        name: str = "Replies",
        fmt: ValueFormat | None = None,
        **options: object,
    ) -> None:
        """Show one series of 24 values (hour 0 first)."""
        self.set_data(by_hour({name: values}, fmt=fmt or ValueFormat(Unit.COUNT), **options))
