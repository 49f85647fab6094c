"""Garbage collection only on the GUI thread.

Python's cyclic collector runs on whichever thread happens to allocate when a threshold is
crossed: here, often the database writer, the webhook receiver or the sandbox thread. When it
frees a Qt object that still owns a running timer from there, Qt cannot stop the timer
("Timers cannot be stopped from another thread") and later delivers a timer event to freed
memory: a segfault, minutes after the fact. The usual PyQt/PySide remedy: switch automatic
collection off while the GUI runs and collect from a main-thread timer, generation by
generation, with the interpreter's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500
_holds = 0  # while > 0 (a big table being read or checked), nothing is collected
_was_enabled = True  # automatic collection before the first hold (off where GuiThreadGc runs)


def hold() -> None:
    """No collection until :func:`release`, neither automatic nor the timer's: a table being read
    sits in the young generation (a million objects for 100,000 rows: 50 ms and more to walk,
    on the GUI thread or, from a reader thread, holding the GIL). Holds nest."""
    global _holds, _was_enabled
    if _holds == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _holds += 1


def release() -> None:
    """Undo one :func:`hold`; after the last, what survived is frozen out of later collections
    (a read table holds no reference cycles) and collection resumes as it was."""
    global _holds
    _holds = max(0, _holds - 1)
    if _holds == 0:
        gc.freeze()  # no collect first: walking the fresh table is the cost being avoided
        if _was_enabled:
            gc.enable()


class GuiThreadGc(QObject):
    """Install once per QApplication; :meth:`stop` restores automatic collection."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        if _holds:
            return
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            gen = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
            gc.collect(gen)

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
