"""Where every part of a chart goes in a rectangle: title, legend, axes, bars, points.

Computed without a painter (from fonts measured on the target device), so the widget can hit
test the pointer against the same geometry it painted, and a PDF page or an image gets the
same layout scaled to its resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFont, QFontMetricsF, QGuiApplication, QPaintDevice

from smsdesk.ui.charts.data import ChartData, Unit
from smsdesk.ui.charts.scale import Ticks, label_step, nice_ticks

# Sizes in screen pixels, scaled by the device's resolution (see device_unit).
PAD = 12.0
SWATCH = 10.0
LEGEND_GAP = 18.0
AXIS_GAP = 8.0
BAR_MAX = 56.0


Point = tuple[int, int]  # (category index, series index)


class ChartKind(StrEnum):
    BARS = "bars"  # stacked when the data says so, side by side otherwise
    LINE = "line"


@dataclass(frozen=True)
class Fonts:
    """The fonts a chart uses, derived from one base font (the widget's or the page's)."""

    base: QFont
    title: QFont
    axis: QFont
    empty: QFont

    @classmethod
    def from_base(cls, font: QFont) -> Fonts:
        base = QFont(font)
        if base.pointSizeF() <= 0:  # a pixel-sized font would not follow the device's resolution
            base.setPointSizeF(base.pixelSize() * 72 / 96)
        size = base.pointSizeF()
        title, axis, empty = QFont(base), QFont(base), QFont(base)
        title.setPointSizeF(size * 1.1)
        title.setWeight(QFont.Weight.DemiBold)
        axis.setPointSizeF(size * 0.92)
        empty.setPointSizeF(size * 1.1)
        return cls(base, title, axis, empty)


@dataclass(frozen=True)
class LegendItem:
    series: int
    swatch: QRectF
    text_rect: QRectF


@dataclass
class Geometry:
    """The laid-out chart: every rectangle in the painter's coordinates."""

    rect: QRectF
    unit: float  # device pixels per screen pixel
    fonts: Fonts
    title_rect: QRectF | None = None
    legend: list[LegendItem] = field(default_factory=list)
    plot: QRectF = field(default_factory=QRectF)
    ticks: Ticks | None = None
    tick_labels: list[tuple[float, str]] = field(default_factory=list)  # (y, text)
    y_label_right: float = 0.0
    slot: float = 0.0
    labels: list[tuple[int, QRectF]] = field(default_factory=list)  # shown category labels
    label_every: int = 1
    bars: dict[tuple[int, int], QRectF] = field(default_factory=dict)
    points: dict[tuple[int, int], QPointF] = field(default_factory=dict)
    empty: bool = False

    def y_of(self, value: float) -> float:
        assert self.ticks is not None
        span = self.ticks.high - self.ticks.low
        return self.plot.bottom() - (value - self.ticks.low) / span * self.plot.height()

    def column(self, category: int) -> QRectF:
        """The full-height band of one category (the hover and focus highlight)."""
        return QRectF(self.plot.left() + category * self.slot, self.plot.top(), self.slot, self.plot.height())

    def anchor(self, category: int, series: int) -> QRectF:
        """The small area a point occupies: its bar part, or a box around its line point."""
        if (category, series) in self.bars:
            return self.bars[(category, series)]
        point = self.points.get((category, series))
        if point is None:
            col = self.column(category)
            return QRectF(col.center().x() - 1, self.plot.bottom() - 1, 2, 2)
        r = 5 * self.unit
        return QRectF(point.x() - r, point.y() - r, 2 * r, 2 * r)


def device_unit(device: QPaintDevice) -> float:
    """Device pixels per screen pixel: 1 on screen, ~3 for a 300 DPI image or PDF page.

    Relative to the screen's logical DPI (96, or 72 on macOS) rather than a fixed 96, so a
    printed chart keeps the proportions between text and spacing the screen shows.
    """
    screen = QGuiApplication.primaryScreen()
    screen_dpi = screen.logicalDotsPerInchY() if screen is not None else 96.0
    return max(0.25, device.logicalDpiY() / (screen_dpi or 96.0))


def compute(data: ChartData, kind: ChartKind, rect: QRectF, font: QFont, device: QPaintDevice) -> Geometry:
    """Lay out ``data`` as a ``kind`` chart in ``rect``, measuring text on ``device``."""
    unit = device_unit(device)
    fonts = Fonts.from_base(font)
    geo = Geometry(rect=QRectF(rect), unit=unit, fonts=fonts, empty=data.is_empty)
    pad = PAD * unit
    inner = rect.adjusted(pad, pad * 0.75, -pad, -pad * 0.75)
    top = inner.top()
    if data.title:
        height = QFontMetricsF(fonts.title, device).height()
        geo.title_rect = QRectF(inner.left(), top, inner.width(), height)
        top += height + 6 * unit
    if geo.empty:
        geo.plot = QRectF(inner.left(), top, inner.width(), max(0.0, inner.bottom() - top))
        return geo
    top = _legend(geo, data, kind, inner, top, device) + 10 * unit

    axis_metrics = QFontMetricsF(fonts.axis, device)
    line = axis_metrics.height()
    bottom = inner.bottom() - line - AXIS_GAP * unit * 0.75
    height = max(1.0, bottom - top)
    max_ticks = max(2, min(6, int(height / (line * 2.2))))
    low, high = data.value_range()
    ticks = nice_ticks(low, high, max_ticks, whole=data.fmt.unit is Unit.COUNT)
    geo.ticks = ticks
    texts = [data.fmt.format_tick(v, ticks.step) for v in ticks.values]
    y_width = max(axis_metrics.horizontalAdvance(t) for t in texts)
    left = inner.left() + y_width + AXIS_GAP * unit
    geo.y_label_right = left - AXIS_GAP * unit
    geo.plot = QRectF(left, top, max(1.0, inner.right() - left), height)
    geo.tick_labels = [(geo.y_of(v), t) for v, t in zip(ticks.values, texts, strict=True)]

    count = len(data.categories)
    geo.slot = geo.plot.width() / count
    widest = max(axis_metrics.horizontalAdvance(c.label) for c in data.categories)
    geo.label_every = label_step(count, geo.slot, widest, 10 * unit, data.label_steps)
    for i in range(0, count, geo.label_every):
        width = axis_metrics.horizontalAdvance(data.categories[i].label)
        centre = geo.plot.left() + (i + 0.5) * geo.slot
        # Keep the first and last labels inside the chart rather than cut at its edge.
        x = min(max(centre - width / 2, inner.left()), inner.right() - width)
        geo.labels.append((i, QRectF(x, geo.plot.bottom() + AXIS_GAP * unit * 0.75, width, line)))

    if kind is ChartKind.LINE:
        _line_points(geo, data)
    else:
        _bars(geo, data)
    return geo


def _legend(geo: Geometry, data: ChartData, kind: ChartKind, inner: QRectF, top: float, device: QPaintDevice) -> float:
    """Place the legend items in rows that wrap at the chart's width; return the bottom."""
    metrics = QFontMetricsF(geo.fonts.base, device)
    unit, line = geo.unit, metrics.height()
    # A line's key is a short stroke with its marker, so the dash and marker shape show.
    swatch_w, swatch = (SWATCH * 2.2 if kind is ChartKind.LINE else SWATCH) * unit, SWATCH * unit
    x, y = inner.left(), top
    for j, series in enumerate(data.series):
        width = min(metrics.horizontalAdvance(series.name), max(0.0, inner.width() - swatch_w - 6 * unit))
        item = swatch_w + 6 * unit + width
        if x > inner.left() and x + item > inner.right():
            x, y = inner.left(), y + line + 4 * unit
        sw = QRectF(x, y + (line - swatch) / 2, swatch_w, swatch)
        geo.legend.append(LegendItem(j, sw, QRectF(sw.right() + 6 * unit, y, width, line)))
        x += item + LEGEND_GAP * unit
    return y + line


def _bars(geo: Geometry, data: ChartData) -> None:
    unit, slot, n = geo.unit, geo.slot, len(data.series)
    grouped = not data.stacked and n > 1
    # Bars leave a gap between categories while there is room for one; a dense chart
    # (90 days in a narrow pane) gives the bars all the room but a hairline.
    width = min(slot * (0.8 if grouped else 0.68), BAR_MAX * unit * (n if grouped else 1))
    if slot - width < 1.0:
        width = max(1.0, slot - min(1.0, slot * 0.25))
    base = geo.y_of(max(0.0, geo.ticks.low if geo.ticks else 0.0))
    for i in range(len(data.categories)):
        left = geo.plot.left() + i * slot + (slot - width) / 2
        stack = 0.0
        for j, series in enumerate(data.series):
            value = max(0.0, series.values[i] or 0.0)
            if grouped:
                sub = width / n
                top = geo.y_of(value)
                geo.bars[(i, j)] = QRectF(left + j * sub, top, sub, base - top)
            else:
                low, high = geo.y_of(stack), geo.y_of(stack + value)
                geo.bars[(i, j)] = QRectF(left, high, width, low - high)
                if data.stacked:
                    stack += value


def _line_points(geo: Geometry, data: ChartData) -> None:
    for i in range(len(data.categories)):
        x = geo.plot.left() + (i + 0.5) * geo.slot
        for j, series in enumerate(data.series):
            value = series.values[i]
            if value is not None:
                geo.points[(i, j)] = QPointF(x, geo.y_of(value))


def hit(geo: Geometry, data: ChartData, pos: QPointF) -> tuple[int, int] | None:
    """The point under ``pos`` (category, series): the column decides the category, then the
    bar part or line point nearest the pointer decides the series, so a short or zero bar
    can still be read by pointing anywhere in its column."""
    if geo.empty or geo.slot <= 0 or not data.series:
        return None
    plot = geo.plot
    margin = 6 * geo.unit
    if not (plot.left() <= pos.x() < plot.right() and plot.top() - margin <= pos.y() <= plot.bottom() + margin):
        return None
    i = min(len(data.categories) - 1, int((pos.x() - plot.left()) / geo.slot))
    candidates: list[tuple[float, int]] = []
    for j in range(len(data.series)):
        if (i, j) in geo.bars:
            bar = geo.bars[(i, j)]
            if bar.height() <= 0 and any(geo.bars[(i, k)].height() > 0 for k in range(len(data.series))):
                continue  # a zero part of a stack is not a place to point at
            dx = (
                0.0
                if bar.left() <= pos.x() <= bar.right()
                else min(abs(pos.x() - bar.left()), abs(pos.x() - bar.right()))
            )
            dy = (
                0.0
                if bar.top() <= pos.y() <= bar.bottom()
                else min(abs(pos.y() - bar.top()), abs(pos.y() - bar.bottom()))
            )
            candidates.append((dx * 4 + dy, j))
        elif (i, j) in geo.points:
            candidates.append((abs(geo.points[(i, j)].y() - pos.y()), j))
    if not candidates:
        return (i, 0)
    return (i, min(candidates)[1])
