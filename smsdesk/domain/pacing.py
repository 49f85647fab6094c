"""Pacing for long loops in worker threads, so that the GUI thread keeps the interpreter.

CPython runs one thread's Python code at a time (the GIL). The GUI thread needs it many times
for one repaint (each model ``data()`` call and Python slot Qt makes), and each time waits until
the running thread reaches a switch point. A worker thread that loops without a pause over a
100,000-row file therefore turns one repaint into dozens of waits: stalls of 40-90 ms in
``bench/ui_stall.py``, while the loop itself only needed the CPU.

A loop that may run long in a worker thread ticks a :class:`Pacer` once per item. When the
process asked for pacing (the desktop app does, for its lifetime: ``set_pace``; the command line
does not), a pacer that has run ``run_s`` sleeps ``rest_s``, and the GUI thread has the
interpreter to itself meanwhile. Unpaced, a tick is a counter increment.
"""

from __future__ import annotations

import time

_pace: tuple[float, float] = (0.0, 0.0)  # (run_s, rest_s); run_s 0 means no pacing


def set_pace(run_s: float, rest_s: float) -> None:
    """Pace every :class:`Pacer` made from now on (``run_s`` 0 turns pacing off)."""
    global _pace
    _pace = (run_s, rest_s)


class Pacer:
    """Ticks of one loop in one thread; see the module docstring."""

    __slots__ = ("_every", "_n", "_rest", "_run", "_since")

    def __init__(self, every: int = 32) -> None:
        """``every``: ticks between two looks at the clock (a power of two); 1 for a loop that
        ticks once per chunk of items rather than once per item."""
        self._run, self._rest = _pace
        self._every = every - 1
        self._n = 0
        self._since = time.perf_counter()

    def tick(self) -> None:
        self._n += 1
        if self._run and not self._n & self._every:
            now = time.perf_counter()
            if now - self._since >= self._run:
                time.sleep(self._rest)
                self._since = time.perf_counter()
