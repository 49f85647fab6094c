"""Painting a chart with QPainter into any rectangle of any device (widget, image, PDF page).

:class:`Chart` holds the data and the kind of chart and knows nothing of widgets, so a PDF
export draws exactly what the Reports page shows, at the printer's resolution.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPaintDevice,
    QPainter,
    QPalette,
    QPen,
)

from smsdesk.ui.charts.colors import ChartColors
from smsdesk.ui.charts.data import ChartData
from smsdesk.ui.charts.layout import ChartKind, Geometry, Point, compute
from smsdesk.ui.charts.marks import draw_bars, draw_lines, line_pen, marker, outline


class Chart:
    """A chart of ``data`` drawn as ``kind``; paint it with :meth:`paint`.

    Args:
        data: what to show (see :class:`~smsdesk.ui.charts.data.ChartData`).
        kind: bars (stacked when ``data.stacked``) or a line per series.
    """

    def __init__(self, data: ChartData, kind: ChartKind = ChartKind.BARS) -> None:
        self.data = data
        self.kind = ChartKind(kind)

    def layout(self, rect: QRectF, font: QFont, device: QPaintDevice) -> Geometry:
        """The geometry :meth:`paint` uses for ``rect`` on ``device`` (for hit testing)."""
        return compute(self.data, self.kind, rect, font, device)

    def paint(
        self,
        painter: QPainter,
        rect: QRectF,
        palette: QPalette | None = None,
        font: QFont | None = None,
        *,
        hover: Point | None = None,
        focus: Point | None = None,
        geometry: Geometry | None = None,
        colors: ChartColors | None = None,
    ) -> Geometry:
        """Draw the chart into ``rect`` and return its geometry.

        Args:
            painter: an active painter on any device; sizes follow the device's resolution,
                so a 300 DPI image or a PDF page gets the same proportions as the screen.
            rect: where to draw, in the painter's coordinates.
            palette: the colours (the application's palette when not given).
            font: the base font (the application's font when not given).
            hover: the point under the pointer, drawn emphasised.
            focus: the point the keyboard is on, drawn with a focus outline.
            geometry: a layout made earlier for the same rect and device (saves recomputing).
            colors: colours made earlier from the same palette.
        """
        colors = colors or ChartColors.from_palette(palette or QGuiApplication.palette())
        geo = geometry or compute(self.data, self.kind, QRectF(rect), font or QGuiApplication.font(), painter.device())
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            painter.fillRect(geo.rect, colors.background)
            self._title(painter, geo, colors)
            if geo.empty:
                self._empty(painter, geo, colors)
                return geo
            self._legend(painter, geo, colors)
            for band in {p[0] for p in (hover, focus) if p is not None}:
                painter.fillRect(geo.column(band), colors.hover)
            self._axes(painter, geo, colors)
            if self.kind is ChartKind.LINE:
                draw_lines(self.data, painter, geo, colors, hover, focus)
            else:
                draw_bars(self.data, painter, geo, colors, hover)
            if focus is not None:
                pen = QPen(colors.focus, 2 * geo.unit)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                r = geo.anchor(*focus).adjusted(-2 * geo.unit, -2 * geo.unit, 2 * geo.unit, 2 * geo.unit)
                painter.drawRoundedRect(r, 2 * geo.unit, 2 * geo.unit)
        finally:
            painter.restore()
        return geo

    def to_image(
        self,
        width: int,
        height: int,
        dpi: float = 96.0,
        palette: QPalette | None = None,
        font: QFont | None = None,
    ) -> QImage:
        """The chart as an image of ``width`` x ``height`` pixels at ``dpi`` (for exports)."""
        image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        dots = round(dpi / 0.0254)
        image.setDotsPerMeterX(dots)
        image.setDotsPerMeterY(dots)
        painter = QPainter(image)
        try:
            self.paint(painter, QRectF(0, 0, width, height), palette, font)
        finally:
            painter.end()
        return image

    # -- parts ------------------------------------------------------------------------------

    def _title(self, painter: QPainter, geo: Geometry, colors: ChartColors) -> None:
        if geo.title_rect is None:
            return
        painter.setFont(geo.fonts.title)
        painter.setPen(colors.text)
        metrics = QFontMetricsF(geo.fonts.title, painter.device())
        text = metrics.elidedText(self.data.title, Qt.TextElideMode.ElideRight, geo.title_rect.width())
        painter.drawText(geo.title_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    def _empty(self, painter: QPainter, geo: Geometry, colors: ChartColors) -> None:
        painter.setFont(geo.fonts.empty)
        painter.setPen(colors.muted)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(geo.plot, int(flags), self.data.empty_text)

    def _legend(self, painter: QPainter, geo: Geometry, colors: ChartColors) -> None:
        painter.setFont(geo.fonts.base)
        metrics = QFontMetricsF(geo.fonts.base, painter.device())
        for item in geo.legend:
            series = self.data.series[item.series]
            colour = colors.series(item.series, series.tone)
            if self.kind is ChartKind.LINE:
                y = item.swatch.center().y()
                painter.setPen(line_pen(item.series, colour, geo.unit))
                painter.drawLine(QPointF(item.swatch.left(), y), QPointF(item.swatch.right(), y))
                marker(
                    painter,
                    item.series,
                    item.swatch.center(),
                    3.5 * geo.unit,
                    colour,
                    colors,
                    geo.unit,
                )
            else:
                painter.setPen(QPen(outline(colour, colors), geo.unit))
                painter.setBrush(colour)
                r = item.swatch.adjusted(geo.unit / 2, geo.unit / 2, -geo.unit / 2, -geo.unit / 2)
                painter.drawRoundedRect(r, 2 * geo.unit, 2 * geo.unit)
            painter.setPen(colors.text)
            text = metrics.elidedText(series.name, Qt.TextElideMode.ElideRight, item.text_rect.width() + 1)
            painter.drawText(
                item.text_rect,
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                text,
            )

    def _axes(self, painter: QPainter, geo: Geometry, colors: ChartColors) -> None:
        plot, unit = geo.plot, geo.unit
        painter.setFont(geo.fonts.axis)
        line = QFontMetricsF(geo.fonts.axis, painter.device()).height()
        for y, text in geo.tick_labels:
            painter.setPen(QPen(colors.grid, unit))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(colors.muted)
            box = QRectF(geo.rect.left(), y - line / 2, geo.y_label_right - geo.rect.left(), line)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
        zero = geo.y_of(max(0.0, geo.ticks.low)) if geo.ticks else plot.bottom()
        painter.setPen(QPen(colors.axis, unit))
        painter.drawLine(QPointF(plot.left(), zero), QPointF(plot.right(), zero))
        painter.setPen(colors.muted)
        for i, box in geo.labels:
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), self.data.categories[i].label)
