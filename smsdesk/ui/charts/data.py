"""What a chart shows: labelled categories, one or more named series, and how values read.

Plain Python (no Qt) so the Reports page can build chart data in a service-shaped function and
the table model, the widgets and a PDF export all read the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Steps at which category labels may be thinned: weeks for days, divisors of 24 for hours.
DAY_LABEL_STEPS: tuple[int, ...] = (1, 2, 7, 14, 28, 56, 91, 182, 364)
HOUR_LABEL_STEPS: tuple[int, ...] = (1, 2, 3, 4, 6, 12)
DEFAULT_LABEL_STEPS: tuple[int, ...] = (1, 2, 3, 4, 5, 10, 20, 50, 100)


class Tone(StrEnum):
    """What a series means, so its colour says it too (delivered green, failed red...)."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    PENDING = "pending"


class Unit(StrEnum):
    COUNT = "count"
    MONEY = "money"
    PERCENT = "percent"


@dataclass(frozen=True)
class ValueFormat:
    """How values of a chart read, on the axis, in tooltips and in the table.

    Args:
        unit: ``count`` (whole numbers), ``money`` or ``percent`` (values in percent: 97.5 is 97.5%).
        currency: the symbol or code money is shown with (``£``, ``$``, ``CHF``).
        decimals: digits after the point in tooltips and tables; by default 0 for counts,
            2 for money and 1 for percentages.
        unknown: the words for a missing value (``None``), e.g. ``cost unknown``.
    """

    unit: Unit = Unit.COUNT
    currency: str = ""
    decimals: int | None = None
    unknown: str = "unknown"

    @property
    def places(self) -> int:
        if self.decimals is not None:
            return self.decimals
        return {Unit.COUNT: 0, Unit.MONEY: 2, Unit.PERCENT: 1}[self.unit]

    def format(self, value: float | None) -> str:
        """A value as a person reads it: ``1,234``, ``£12.50``, ``97.5%``; ``None`` as unknown."""
        if value is None:
            return self.unknown
        return self._with_unit(value, self.places)

    def format_tick(self, value: float, step: float) -> str:
        """An axis tick: only as many decimals as the tick step needs (``£0``, ``£2.50``)."""
        suffix = ""
        for size, letter in ((1e6, "M"), (1e3, "k")):
            if step >= 5 * size:  # 5k, 10k, 15k: long numbers would crowd the plot out
                value, step, suffix = value / size, step / size, letter
                break
        places = 0
        while places < 6 and abs(step * 10**places - round(step * 10**places)) > 1e-9:
            places += 1
        if self.unit is Unit.MONEY and not suffix and places:
            places = max(places, 2)  # £2.50, not £2.5
        text = self._with_unit(value, places)
        return text.replace("%", suffix + "%") if self.unit is Unit.PERCENT else text + suffix

    def _with_unit(self, value: float, places: int) -> str:
        if abs(value) < 0.5 * 10**-places:
            value = 0.0  # never "-0"
        number = f"{abs(value):,.{places}f}"
        sign = "-" if value < 0 else ""
        if self.unit is Unit.PERCENT:
            return f"{sign}{number}%"
        if self.unit is Unit.MONEY and self.currency:
            # A code (CHF) needs a space; a symbol (£, $) sits against the number.
            gap = " " if self.currency[-1].isalpha() else ""
            return f"{sign}{self.currency}{gap}{number}"
        return f"{sign}{number}"


@dataclass(frozen=True)
class Category:
    """One position on the category axis: ``label`` on the axis, ``long_label`` in tooltips."""

    label: str
    long_label: str = ""

    @property
    def title(self) -> str:
        return self.long_label or self.label


@dataclass(frozen=True)
class Series:
    """A named row of values, one per category; ``None`` is a missing (unknown) value."""

    name: str
    values: tuple[float | None, ...]
    tone: Tone | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(None if v is None else float(v) for v in self.values))
        for v in self.values:
            if v is not None and not math.isfinite(v):
                raise ValueError(f"series {self.name!r} holds {v}, which cannot be drawn")


@dataclass(frozen=True)
class ChartData:
    """Categories, the series over them, and how their values read.

    Args:
        categories: the category axis, in order (days, weeks, hours).
        series: one or more series, each with a value per category.
        fmt: how values read (one unit and one currency per chart: never mix currencies).
        stacked: bars of the series stack on each other (delivered + failed + pending).
        title: drawn above the chart when set (a page with its own heading leaves it empty).
        empty_text: said instead of drawing empty axes when there is nothing to show.
        label_steps: the steps at which category labels may be thinned out when they collide.
        span: what the categories cover, in words, for the spoken summary (by default
            "first to last category").
    """

    categories: tuple[Category, ...]
    series: tuple[Series, ...]
    fmt: ValueFormat = field(default_factory=ValueFormat)
    stacked: bool = False
    title: str = ""
    empty_text: str = "Nothing to show for this period."
    label_steps: tuple[int, ...] = DEFAULT_LABEL_STEPS
    span: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "series", tuple(self.series))
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(self.categories)} categories")

    @classmethod
    def build(
        cls,
        labels: Iterable[str | Category],
        series: Mapping[str, Sequence[float | None]],
        *,
        tones: Mapping[str, Tone] | None = None,
        **options: object,
    ) -> ChartData:
        """Chart data from labels and ``{series name: values}`` (the order of the mapping is kept)."""
        cats = tuple(c if isinstance(c, Category) else Category(c) for c in labels)
        tones = tones or {}
        rows = tuple(Series(name, tuple(values), tones.get(name)) for name, values in series.items())
        return cls(cats, rows, **options)  # type: ignore[arg-type]  # options: the dataclass's keyword fields

    @property
    def is_empty(self) -> bool:
        """Nothing to draw: no categories, no series, or every value missing or zero."""
        return not any(v for s in self.series for v in s.values)

    def value(self, category: int, series: int) -> float | None:
        return self.series[series].values[category]

    def total(self, category: int) -> float | None:
        """The sum over the series at ``category`` (``None`` when every value is missing)."""
        known = [v for s in self.series if (v := s.values[category]) is not None]
        return sum(known) if known else None

    def value_range(self) -> tuple[float, float]:
        """The lowest and highest value the value axis must hold (stacks summed), 0 included."""
        if self.stacked:
            highs = [self.total(i) or 0.0 for i in range(len(self.categories))]
            lows = [0.0]
        else:
            highs = [v for s in self.series for v in s.values if v is not None]
            lows = highs
        return min([0.0, *lows]), max([0.0, *highs])

    def point_text(self, category: int, series: int) -> str:
        """What a tooltip and a screen reader say for one point: category, series and value."""
        value = self.fmt.format(self.value(category, series))
        text = f"{self.categories[category].title}: {self.series[series].name} {value}"
        if self.stacked and len(self.series) > 1:
            text += f" of {self.fmt.format(self.total(category))}"
        return text

    def summary(self) -> str:
        """One sentence saying what the chart holds, for its accessible description."""
        if self.is_empty:
            return self.empty_text
        names = ", ".join(s.name for s in self.series)
        first, last = self.categories[0].title, self.categories[-1].title
        span = self.span or (first if len(self.categories) == 1 else f"{first} to {last}")
        return f"{self.title or 'Chart'}: {names}, {span}. Use the left and right arrow keys to read each value."


def day_category(day: date) -> Category:
    """``3 Mar`` on the axis, ``Tue 3 Mar 2026`` in tooltips (the app's English date style)."""
    month = _MONTHS[day.month - 1]
    return Category(f"{day.day} {month}", f"{_DAYS[day.weekday()]} {day.day} {month} {day.year}")


def hour_category(hour: int) -> Category:
    """``09`` on the axis, ``09:00-10:00`` in tooltips."""
    return Category(f"{hour:02d}", f"{hour:02d}:00\u2013{(hour + 1) % 24:02d}:00")


def by_day(days: Sequence[date], series: Mapping[str, Sequence[float | None]], **options: object) -> ChartData:
    """Chart data over days, with labels thinned out by weeks when they collide."""
    options.setdefault("label_steps", DAY_LABEL_STEPS)
    return ChartData.build([day_category(d) for d in days], series, **options)  # type: ignore[arg-type]  # as in build()


def by_hour(series: Mapping[str, Sequence[float | None]], **options: object) -> ChartData:
    """Chart data over the 24 hours of the day (each series holds 24 values, hour 0 first)."""
    options.setdefault("label_steps", HOUR_LABEL_STEPS)
    options.setdefault("span", "each hour of the day")
    return ChartData.build([hour_category(h) for h in range(24)], series, **options)  # type: ignore[arg-type]  # as in build()
