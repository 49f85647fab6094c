"""The chart module the Reports page builds on: pointing, keyboard reading, themes, empty state,
thinned labels, printing resolution and the table of the same numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPainter, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from smsdesk.ui import theme
from smsdesk.ui.charts import (
    Chart,
    ChartData,
    ChartTableModel,
    HourOfDayChart,
    LineChart,
    StackedBarChart,
    Tone,
    Unit,
    ValueFormat,
    ValueRole,
    by_day,
    by_hour,
)
from smsdesk.ui.charts.scale import nice_ticks
from tests.support.painted_text import TextRecorder

DELIVERED = [40, 52, 0, 61, 45, 38, 12]
FAILED = [2, 5, 0, 7, 1, 0, 3]
PENDING = [0, 0, 0, 0, 0, 4, 9]
TONES = {"Delivered": Tone.POSITIVE, "Failed": Tone.NEGATIVE, "Pending": Tone.PENDING}
DAY_LABEL = re.compile(r"^\d{1,2} [A-Z][a-z]{2}$")


def days(n: int) -> list[date]:
    return [date(2026, 3, 1) + timedelta(d) for d in range(n)]


def messages_week() -> ChartData:
    series = {"Delivered": DELIVERED, "Failed": FAILED, "Pending": PENDING}
    return by_day(days(7), series, tones=TONES, stacked=True, title="Messages per day")


def messages_90_days() -> ChartData:
    series = {
        "Delivered": [20 + (d * 37) % 90 for d in range(90)],
        "Failed": [d % 4 for d in range(90)],
    }
    return by_day(days(90), series, tones=TONES, stacked=True, title="Messages per day")


def painted(chart: Chart, width: int, height: int, dpi: int = 96) -> TextRecorder:
    recorder = TextRecorder(width, height, dpi)
    painter = QPainter(recorder)
    chart.paint(painter, QRectF(0, 0, width, height), theme.build_palette("light"))
    painter.end()
    return recorder


def shown(qtbot: Any, widget: Any, width: int = 700, height: int = 320) -> Any:
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tooltip_at(widget: Any, pos: QPoint) -> str:
    """Point at ``pos`` as a person does: move there, then let Qt ask for the tooltip."""
    QTest.mouseMove(widget, pos)
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos)))
    return QToolTip.text() if QToolTip.isVisible() else ""


@pytest.fixture(autouse=True)
def _plain_look(qapp: Any) -> Iterator[None]:
    qapp.setPalette(theme.build_palette("light"))
    yield
    QToolTip.hideText()
    qapp.setPalette(qapp.style().standardPalette())


def test_pointing_at_a_bar_shows_its_day_series_and_value(qtbot: Any) -> None:
    chart = shown(qtbot, StackedBarChart(messages_week()))
    failed_on_wednesday = chart.geometry_now().bars[(3, 1)].center().toPoint()
    assert tooltip_at(chart, failed_on_wednesday) == "Wed 4 Mar 2026: Failed 7 of 68"

    delivered_on_monday = chart.geometry_now().bars[(1, 0)].center().toPoint()
    assert tooltip_at(chart, delivered_on_monday) == "Mon 2 Mar 2026: Delivered 52 of 57"

    # An hour with no replies has no bar: pointing anywhere in its column still reads it.
    hours = [0] * 24
    hours[9], hours[14] = 12, 30
    by_hours = shown(qtbot, HourOfDayChart(by_hour({"Replies": hours})))
    column = by_hours.geometry_now().column(3)
    assert tooltip_at(by_hours, column.center().toPoint()) == "03:00\u201304:00: Replies 0"
    column = by_hours.geometry_now().column(14)
    assert tooltip_at(by_hours, column.center().toPoint()) == "14:00\u201315:00: Replies 30"


def test_a_line_point_tooltip_says_unknown_cost_in_words(qtbot: Any) -> None:
    cost = by_day(
        days(5),
        {"Cost": [1.5, None, 2.25, 0.5, 3]},
        fmt=ValueFormat(Unit.MONEY, "£", unknown="cost unknown"),
    )
    chart = shown(qtbot, LineChart(cost))
    geo = chart.geometry_now()
    assert tooltip_at(chart, geo.points[(2, 0)].toPoint()) == "Tue 3 Mar 2026: Cost £2.25"
    assert tooltip_at(chart, geo.column(1).center().toPoint()) == "Mon 2 Mar 2026: Cost cost unknown"


def _near(a: QColor, b: QColor, tolerance: int = 40) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tolerance


def _count_near(image: QImage, colour: QColor, area: QRectF, stride: int = 1) -> int:
    """Pixels close to ``colour`` in ``area``, sampling every ``stride``-th row and column."""
    r = area.toRect()
    return sum(
        _near(QColor(image.pixel(x, y)), colour)
        for x in range(r.left(), r.right(), stride)
        for y in range(r.top(), r.bottom(), stride)
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_painted_chart_uses_the_theme_background_and_text_colours(scheme: str) -> None:
    palette = theme.build_palette(scheme)
    background, text = (
        palette.color(QPalette.ColorRole.Base),
        palette.color(QPalette.ColorRole.Text),
    )
    image = Chart(messages_week()).to_image(700, 320, palette=palette)
    assert QColor(image.pixel(3, 3)) == background
    assert QColor(image.pixel(699, 319)) == background
    title = QRectF(0, 0, 160, 30)  # "Messages per day", top left
    assert _count_near(image, text, title) > 40


def test_a_chart_on_screen_recolours_when_the_theme_changes(qtbot: Any, qapp: Any) -> None:
    chart = shown(qtbot, StackedBarChart(messages_week()))
    light = theme.build_palette("light").color(QPalette.ColorRole.Base)
    dark = theme.build_palette("dark").color(QPalette.ColorRole.Base)
    assert QColor(chart.grab().toImage().pixel(3, 3)) == light
    qapp.setPalette(theme.build_palette("dark"))
    qtbot.waitUntil(lambda: QColor(chart.grab().toImage().pixel(3, 3)) == dark)
    qapp.setPalette(theme.build_palette("light"))
    qtbot.waitUntil(lambda: QColor(chart.grab().toImage().pixel(3, 3)) == light)


def test_a_period_without_messages_says_so_instead_of_drawing_empty_axes(qtbot: Any) -> None:
    words = "No messages were sent in this period."
    for data in (
        ChartData((), (), title="Messages per day", empty_text=words),
        by_day(
            days(7),
            {"Delivered": [0] * 7, "Failed": [0] * 7},
            title="Messages per day",
            empty_text=words,
        ),
    ):
        chart = shown(qtbot, StackedBarChart(data))
        recorder = TextRecorder(chart.width(), chart.height())
        painter = QPainter(recorder)
        chart.render(painter, QPoint(0, 0))
        painter.end()
        assert recorder.words == ["Messages per day", words]  # no tick or day labels
        assert chart.accessibleDescription() == words


def test_day_labels_thin_out_by_weeks_over_90_days_and_never_overlap() -> None:
    texts = [t for t in painted(Chart(messages_90_days()), 800, 300).texts if DAY_LABEL.match(t.text)]
    assert [t.text for t in texts[:4]] == ["1 Mar", "8 Mar", "15 Mar", "22 Mar"]
    assert 8 <= len(texts) <= 13
    for left, right in zip(texts, texts[1:], strict=False):
        assert left.rect.right() + 4 < right.rect.left(), f"{left.text!r} touches {right.text!r}"

    # A week fits every day's label.
    week = [t.text for t in painted(Chart(messages_week()), 800, 300).texts if DAY_LABEL.match(t.text)]
    assert week == ["1 Mar", "2 Mar", "3 Mar", "4 Mar", "5 Mar", "6 Mar", "7 Mar"]


def test_value_axis_ticks_are_round_numbers() -> None:
    texts = painted(Chart(messages_week()), 700, 320).words
    ticks = [int(t) for t in texts if t.isdigit()]
    assert ticks[0] == 0 and ticks[-1] >= 68  # the tallest stack fits under the top tick
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() in (5, 10, 20, 25)
    assert nice_ticks(0, 0.37, 5).values[-1] == pytest.approx(0.4)
    assert nice_ticks(0, 3, 5, whole=True).step == 1  # never "0.5 messages"
    money = ValueFormat(Unit.MONEY, "£")
    assert [money.format_tick(v, 2.5) for v in (0, 2.5, 5)] == ["£0.00", "£2.50", "£5.00"]
    assert [money.format_tick(v, 5) for v in (0, 5, 10)] == ["£0", "£5", "£10"]
    assert ValueFormat().format_tick(25_000, 5_000) == "25k"


def test_arrow_keys_move_between_points_and_describe_each(qtbot: Any) -> None:
    chart = shown(qtbot, StackedBarChart(messages_week()))
    chart.setFocus()
    qtbot.waitUntil(chart.hasFocus)
    assert "Use the left and right arrow keys" in chart.accessibleDescription()

    QTest.keyClick(chart, Qt.Key.Key_Right)
    assert chart.accessibleDescription() == "Sun 1 Mar 2026: Delivered 40 of 42"
    assert QToolTip.text() == chart.accessibleDescription()
    QTest.keyClick(chart, Qt.Key.Key_Right)
    assert chart.accessibleDescription() == "Mon 2 Mar 2026: Delivered 52 of 57"
    QTest.keyClick(chart, Qt.Key.Key_Up)
    assert chart.accessibleDescription() == "Mon 2 Mar 2026: Failed 5 of 57"
    QTest.keyClick(chart, Qt.Key.Key_End)
    assert chart.accessibleDescription() == "Sat 7 Mar 2026: Failed 3 of 24"
    with qtbot.waitSignal(chart.sig_point_focused) as moved:
        QTest.keyClick(chart, Qt.Key.Key_Left)
    assert moved.args == [5, 1, "Fri 6 Mar 2026: Failed 0 of 42"]
    assert chart.accessibleDescription() == "Fri 6 Mar 2026: Failed 0 of 42"
    QTest.keyClick(chart, Qt.Key.Key_Right)
    QTest.keyClick(chart, Qt.Key.Key_Right)  # already at the last day: stays there
    assert chart.accessibleDescription() == "Sat 7 Mar 2026: Failed 3 of 24"


def test_paint_at_300_dpi_keeps_the_layout_of_the_screen(tmp_path: Any) -> None:
    chart = Chart(messages_90_days())
    screen = painted(chart, 800, 300, dpi=96).texts
    printed = painted(chart, 2500, 938, dpi=300).texts  # the same 8.3 x 3.1 inches
    assert [t.text for t in printed] == [t.text for t in screen]  # same labels, thinned alike
    scale = 300 / 96
    for a, b in zip(screen, printed, strict=True):
        assert abs(b.rect.left() / scale - a.rect.left()) < 3, a.text
        assert abs(b.rect.top() / scale - a.rect.top()) < 3, a.text

    palette = theme.build_palette("light")
    image = chart.to_image(2500, 938, dpi=300, palette=palette)
    assert round(image.dotsPerMeterX() * 0.0254) == 300
    delivered = QColor("#1e8a4c")
    assert _count_near(image, delivered, QRectF(0, 0, 2500, 938), stride=6) > 1_500  # bars, full size


def test_the_table_model_holds_the_same_numbers_as_the_chart() -> None:
    model = ChartTableModel(messages_week(), "Day")
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Day", "Delivered", "Failed", "Pending", "Total"]
    assert model.rowCount() == 7
    for row in range(7):
        expected = [
            DELIVERED[row],
            FAILED[row],
            PENDING[row],
            DELIVERED[row] + FAILED[row] + PENDING[row],
        ]
        assert [model.data(model.index(row, c), ValueRole) for c in range(1, 5)] == expected
        assert [model.data(model.index(row, c)) for c in range(1, 5)] == [str(v) for v in expected]
    assert model.data(model.index(3, 0)) == "Wed 4 Mar 2026"

    cost = by_day(
        days(3),
        {"Cost": [1250.5, None, 0.25]},
        fmt=ValueFormat(Unit.MONEY, "£", unknown="cost unknown"),
    )
    model.set_data(cost)
    assert [model.data(model.index(r, 1)) for r in range(3)] == [
        "£1,250.50",
        "cost unknown",
        "£0.25",
    ]
    assert [model.data(model.index(r, 1), ValueRole) for r in range(3)] == [1250.5, None, 0.25]
    assert model.columnCount() == 2  # one series: no total


def test_charts_fit_small_and_large_windows_without_widening_them(qtbot: Any) -> None:
    for widget in (
        StackedBarChart(messages_90_days()),
        HourOfDayChart(by_hour({"Replies": list(range(24))})),
    ):
        qtbot.addWidget(widget)
        small, hint = widget.minimumSizeHint(), widget.sizeHint()
        assert small.width() <= 320 and small.height() <= 200  # two side by side fit in 1024 x 700
        assert hint.width() <= 960 and hint.height() <= 540
