"""GUI fixtures: a qasync loop over pytest-qt's QApplication and a started app window.

Drive async work with ``gui.wait_until(predicate)``, which runs the qasync loop (and so Qt
events) until the predicate holds. Never call ``qtbot.wait*`` inside a coroutine
(a nested Qt loop inside a coroutine makes asyncio raise "Cannot enter into task" and
hangs the qasync loop).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QTimer

from smsdesk.app import build_window
from smsdesk.runtime import Runtime
from smsdesk.ui.context import UiContext
from smsdesk.ui.gc_policy import GuiThreadGc
from smsdesk.ui.main_window import MainWindow
from tests.support.wait import until


class _TestLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop, kept "running" between ``run_until_complete`` calls.

    qasync processes leftover Qt events after ``run_forever`` has cleared the running loop
    (and pytest-qt processes events between phases); a task stepped then finds no running
    loop. The app runs its loop for the whole session, so keeping it marked as running here
    reproduces the app's condition rather than hiding a bug."""

    def run_forever(self) -> None:
        try:
            super().run_forever()
        finally:
            asyncio.events._set_running_loop(self)


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    qapp.setQuitOnLastWindowClosed(False)
    loop = _TestLoop(qapp)
    asyncio.set_event_loop(loop)
    mark_running(loop)
    gc_policy = GuiThreadGc()  # as in the app: cycles are collected on the GUI thread only
    try:
        yield loop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        loop.close()
        gc_policy.stop()  # collects this test's Qt leftovers here, on the GUI thread


@dataclass
class GuiHarness:
    rt: Runtime
    window: MainWindow
    ctx: UiContext
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any) -> Any:
        try:
            return self.loop.run_until_complete(coro)
        finally:
            mark_running(self.loop)

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        return self.run(until(predicate, timeout))

    def settle(self, seconds: float = 0.05) -> None:
        self.run(asyncio.sleep(seconds))


def mark_running(loop: asyncio.AbstractEventLoop) -> None:
    """Between ``run_until_complete`` calls, qtbot still processes Qt events, and qasync
    then steps tasks; asyncio primitives need a running loop at that moment. In the real app
    the loop runs for the whole session, so this only restores the app's normal condition."""
    asyncio.events._set_running_loop(loop)


@pytest.fixture
def gui(qapp: Any, qloop: asyncio.AbstractEventLoop, _isolated_home: Path) -> Iterator[GuiHarness]:
    rt = Runtime.open(str(_isolated_home))
    rt.settings.extra["sandbox_reply_rate"] = 0.0
    rt.settings.extra["sandbox_stop_rate"] = 0.0
    qloop.run_until_complete(rt.start())
    mark_running(qloop)
    assert rt.sandbox is not None
    rt.sandbox.server.config.dispatch_delay = 0.05
    rt.sandbox.server.config.final_delay = 0.1
    window, ctx = build_window(rt)
    window.show()
    harness = GuiHarness(rt, window, ctx, qloop)
    try:
        yield harness
    finally:
        close_harness(harness)
        drain(qloop)


def close_harness(harness: GuiHarness) -> None:
    """Close a harness's window and stop its runtime, in the order that leaves nothing behind."""
    rt, window = harness.rt, harness.window
    # Receipts and replies the sandbox still has to post are let through first (a few
    # tenths of a second): one cut off by the shutdown leaves the receiver's socket open,
    # and its ResourceWarning at the next collection failed an unrelated teardown.
    with contextlib.suppress(AssertionError):
        harness.wait_until(lambda: rt.sandbox is None or rt.sandbox.server.idle, timeout=3)
    window.close()
    harness.ctx.bridge.close()
    harness.run(rt.stop())
    # The window's timers (a debounced check of the To box, a search) stop before the
    # database closes: one firing after would read a closed database. (Deleting the
    # window here instead made a later test crash in Qt's event processing.)
    for timer in window.findChildren(QTimer):
        timer.stop()
    rt.close()
    window.deleteLater()


def drain(loop: asyncio.AbstractEventLoop) -> None:
    """Finish every task left on this loop, so none is stepped later by Qt event processing
    (pytest-qt processes events between tests) when no asyncio loop is running."""
    for _ in range(3):
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if not pending:
            return
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        mark_running(loop)
