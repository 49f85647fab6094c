"""Charts painted with QPainter, themed like the rest of the app (no Qt Charts, no Qt Quick).

Owns chart data (:mod:`.data`), axis scales (:mod:`.scale`), colours from the palette
(:mod:`.colors`), layout and hit testing (:mod:`.layout`), painting into any device
(:mod:`.chart`: widgets, images, PDF pages), the widgets (:mod:`.widget`) and a table model of
the same numbers (:mod:`.table`). Imports only PySide6 QtCore/QtGui/QtWidgets: nothing from the
rest of smsdesk, so it can be loaded when a page that shows charts opens.
"""

from __future__ import annotations

from smsdesk.ui.charts.chart import Chart
from smsdesk.ui.charts.colors import ChartColors
from smsdesk.ui.charts.data import (
    Category,
    ChartData,
    Series,
    Tone,
    Unit,
    ValueFormat,
    by_day,
    by_hour,
)
from smsdesk.ui.charts.layout import ChartKind, Geometry
from smsdesk.ui.charts.table import ChartTableModel, ValueRole
from smsdesk.ui.charts.widget import ChartWidget, HourOfDayChart, LineChart, StackedBarChart

__all__ = [
    "Category",
    "Chart",
    "ChartColors",
    "ChartData",
    "ChartKind",
    "ChartTableModel",
    "ChartWidget",
    "Geometry",
    "HourOfDayChart",
    "LineChart",
    "Series",
    "StackedBarChart",
    "Tone",
    "Unit",
    "ValueFormat",
    "ValueRole",
    "by_day",
    "by_hour",
]
