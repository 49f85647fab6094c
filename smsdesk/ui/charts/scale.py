"""Round numbers for the value axis and how many category labels fit without colliding."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_NICE = (1.0, 2.0, 2.5, 5.0)


@dataclass(frozen=True)
class Ticks:
    """Value-axis ticks: ``low`` to ``high`` by ``step`` (``low`` and ``high`` are ticks)."""

    low: float
    high: float
    step: float

    @property
    def values(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [self.low + i * self.step for i in range(count + 1)]


def _steps(raw: float, whole: bool) -> Iterator[float]:
    """Round steps >= ``raw`` in increasing order: 1, 2, 2.5, 5 times a power of ten."""
    if whole:
        raw = max(raw, 1.0)  # counts: no "0.5 messages"
    power = 10.0 ** math.floor(math.log10(raw))
    while True:
        for factor in _NICE:
            step = factor * power
            if step >= raw * (1 - 1e-9) and (not whole or step.is_integer()):
                yield step
        power *= 10


def nice_ticks(low: float, high: float, max_ticks: int = 5, *, whole: bool = False) -> Ticks:
    """Round ticks that cover ``low`` .. ``high`` in at most ``max_ticks`` gaps.

    Args:
        low: the lowest value to cover (usually 0).
        high: the highest value to cover; an axis with nothing above ``low`` still gets one
            step so a zero line can be read.
        max_ticks: the most gaps between ticks that fit.
        whole: counts: every tick is a whole number.
    """
    if high <= low:
        high = low + 1.0
    max_ticks = max(1, max_ticks)
    for step in _steps((high - low) / max_ticks, whole):
        lo = math.floor(low / step + 1e-9) * step
        hi = math.ceil(high / step - 1e-9) * step
        if round((hi - lo) / step) <= max_ticks:
            return Ticks(lo, hi, step)
    raise AssertionError("unreachable: steps grow without bound")


def label_step(count: int, slot: float, widest: float, gap: float, steps: Sequence[int]) -> int:
    """Show every n-th of ``count`` category labels so that none overlaps its neighbour.

    Args:
        count: the number of categories.
        slot: the width each category gets on the axis.
        widest: the width of the widest label.
        gap: the least space between two labels.
        steps: the allowed steps, smallest first (weeks for days, divisors of 24 for hours);
            beyond the last, a multiple of it.
    """
    if count <= 1 or slot <= 0:
        return 1
    need = math.ceil((widest + gap) / slot - 1e-9)
    for step in steps:
        if step >= need:
            return step
    last = steps[-1] if steps else 1
    return max(1, last * math.ceil(need / last))
