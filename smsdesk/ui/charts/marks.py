"""The marks of a chart: bars (stacked or side by side) and lines with their markers.

Series differ by more than colour: stacked parts are split by a background-coloured gap and
edged in a darker shade of their fill; lines differ in dash and marker shape.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPaintEngine, QPainter, QPainterPath, QPen, QPolygonF

from smsdesk.ui.charts.colors import ChartColors, blend
from smsdesk.ui.charts.data import ChartData
from smsdesk.ui.charts.layout import Geometry, Point

# Line dashes per series (in pen widths) and marker shapes, so lines differ by more than colour.
_DASHES: tuple[list[float] | None, ...] = (None, [4.0, 2.5], [1.0, 2.0], [6.0, 2.0, 1.0, 2.0])
_MARKERS = ("circle", "square", "diamond", "triangle")


def outline(fill: QColor, colors: ChartColors) -> QColor:
    """The edge of a filled mark: its fill moved towards the text colour."""
    return blend(fill, colors.text, 0.3)


def draw_bars(data: ChartData, painter: QPainter, geo: Geometry, colors: ChartColors, hover: Point | None) -> None:
    unit, n = geo.unit, len(data.series)
    fills = [colors.series(j, s.tone) for j, s in enumerate(data.series)]
    edges = [QPen(outline(fill, colors), unit) for fill in fills]
    gap = QPen(colors.background, unit)
    for i in range(len(data.categories)):
        parts = [(j, geo.bars[(i, j)]) for j in range(n) if geo.bars[(i, j)].height() > 0]
        if not parts:
            continue
        width = parts[0][1].width()
        radius = min(3 * unit, width / 4)
        # Round the top of the whole stack (one clip), keep the bottom square on the axis.
        top = min(r.top() for _, r in parts)
        bottom = max(r.bottom() for _, r in parts)
        left, right = min(r.left() for _, r in parts), max(r.right() for _, r in parts)
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(left, top, right - left, bottom - top + radius), radius, radius)
        painter.save()
        painter.setClipPath(clip, Qt.ClipOperation.IntersectClip)
        outlined = width >= 5 * unit
        for j, r in parts:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fills[j])
            painter.drawRect(r)
            if outlined:  # a darker edge keeps a pale part (pending) visible on a white page
                painter.setPen(edges[j])
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(r.adjusted(unit / 2, unit / 2, -unit / 2, unit / 2))
        if data.stacked and width >= 3 * unit:
            # A gap of background colour between stacked parts tells them apart without colour.
            painter.setPen(gap)
            for _, r in parts[:-1]:
                painter.drawLine(QPointF(r.left(), r.top()), QPointF(r.right(), r.top()))
        painter.restore()
        if hover is not None and hover[0] == i and (i, hover[1]) in geo.bars:
            painter.setPen(QPen(colors.text, 1.5 * unit))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(geo.bars[(i, hover[1])])


def draw_lines(
    data: ChartData,
    painter: QPainter,
    geo: Geometry,
    colors: ChartColors,
    hover: Point | None,
    focus: Point | None,
) -> None:
    unit, count = geo.unit, len(data.categories)
    markers = geo.slot >= 14 * unit
    for j, series in enumerate(data.series):
        colour = colors.series(j, series.tone)
        runs: list[list[QPointF]] = [[]]
        for i in range(count):
            point = geo.points.get((i, j))
            if point is None:
                runs.append([])  # an unknown value breaks the line rather than drawing a 0
            else:
                runs[-1].append(point)
        runs = [r for r in runs if r]
        if len(data.series) == 1:
            _area(painter, geo, runs, colour)
        pen = line_pen(j, colour, unit)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for run in runs:
            if len(run) == 1:
                marker(painter, j, run[0], 3 * unit, colour, colors, unit)
            else:
                _polyline(painter, pen, run)
        for i in range(count):
            point = geo.points.get((i, j))
            if point is None:
                continue
            big = (i, j) in (hover, focus)
            if markers or big:
                marker(painter, j, point, (4.5 if big else 3) * unit, colour, colors, unit)


def _polyline(painter: QPainter, pen: QPen, run: list[QPointF]) -> None:
    """Draw a line through ``run`` segment by segment.

    Antialiased stroking of one long polyline costs ~10x its segments drawn one by one
    (measured: 7 ms against 0.6 ms for 90 points), and a hover repaints the whole chart.
    Round caps make the joins round; the dash offset carries a dashed pattern across joins.
    """
    if pen.style() != Qt.PenStyle.CustomDashLine:
        painter.setPen(pen)
        for a, b in zip(run, run[1:], strict=False):
            painter.drawLine(a, b)
        return
    offset, width = 0.0, max(pen.widthF(), 1e-6)
    for a, b in zip(run, run[1:], strict=False):
        pen.setDashOffset(offset)
        painter.setPen(pen)
        painter.drawLine(a, b)
        offset += math.hypot(b.x() - a.x(), b.y() - a.y()) / width


def _area(painter: QPainter, geo: Geometry, runs: list[list[QPointF]], colour: QColor) -> None:
    base = geo.y_of(max(0.0, geo.ticks.low)) if geo.ticks else geo.plot.bottom()
    gradient = QLinearGradient(0, geo.plot.top(), 0, base)
    top, bottom = QColor(colour), QColor(colour)
    top.setAlphaF(0.22)
    bottom.setAlphaF(0.02)
    gradient.setColorAt(0, top)
    gradient.setColorAt(1, bottom)
    painter.setPen(Qt.PenStyle.NoPen)
    engine = painter.paintEngine()
    if engine is not None and engine.type() == QPaintEngine.Type.Pdf:
        # Qt writes a gradient's transparency to PDF in a way viewers draw as solid colour:
        # a flat, lightly transparent fill reads the same on paper.
        flat = QColor(colour)
        flat.setAlphaF(0.12)
        painter.setBrush(flat)
    else:
        painter.setBrush(QBrush(gradient))
    for run in runs:
        if len(run) > 1:
            painter.drawPolygon(QPolygonF([QPointF(run[0].x(), base), *run, QPointF(run[-1].x(), base)]))


def line_pen(series: int, colour: QColor, unit: float) -> QPen:
    pen = QPen(colour, 2 * unit)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    dash = _DASHES[series % len(_DASHES)]
    if dash is not None:
        pen.setDashPattern(dash)
    return pen


def marker(
    painter: QPainter,
    series: int,
    at: QPointF,
    r: float,
    colour: QColor,
    colors: ChartColors,
    unit: float,
) -> None:
    painter.setPen(QPen(colour, 1.75 * unit))
    painter.setBrush(colors.background)
    shape = _MARKERS[series % len(_MARKERS)]
    x, y = at.x(), at.y()
    if shape == "circle":
        painter.drawEllipse(at, r, r)
    elif shape == "square":
        painter.drawRect(QRectF(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8))
    elif shape == "diamond":
        painter.drawPolygon(
            QPolygonF(
                [
                    QPointF(x, y - r * 1.2),
                    QPointF(x + r * 1.2, y),
                    QPointF(x, y + r * 1.2),
                    QPointF(x - r * 1.2, y),
                ]
            )
        )
    else:
        painter.drawPolygon(
            QPolygonF(
                [
                    QPointF(x, y - r * 1.2),
                    QPointF(x + r * 1.1, y + r * 0.8),
                    QPointF(x - r * 1.1, y + r * 0.8),
                ]
            )
        )
