"""The asyncio/Qt boundary: the only module that knows about qasync.

- :func:`create_loop` makes the qasync loop over the QApplication.
- :func:`spawn` is the only way a view starts async work: it keeps a reference to the task
  (so it is not garbage collected mid-flight) and routes failures to one error reporter.
- :class:`BusBridge` turns service ``Changes`` into a Qt signal on the GUI thread.

Never spin a nested Qt loop (``QDialog.exec()``, ``QMessageBox.exec()``) inside a coroutine:
while other tasks are ready, asyncio raises "Cannot enter into task" and the qasync loop hangs
for good. Use ``open()`` and signals, and await futures.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal  # before qasync, which binds to the Qt imported first
from PySide6.QtWidgets import QApplication

from smsdesk.domain.errors import SmsdeskError, StorageError
from smsdesk.domain.events import Changes
from smsdesk.services.bus import EventBus

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

ErrorReporter = Callable[[str, str], None]
_tasks: set[asyncio.Task[Any]] = set()
_reporter: ErrorReporter | None = None
_quiet: Callable[[BaseException], bool] | None = None


def create_loop(app: QApplication) -> asyncio.AbstractEventLoop:
    """The asyncio loop that runs inside Qt's (qasync's), set as the current loop.

    asyncio and qasync are imported here, not with this module: the window is built and
    painted first (``app.main``), and asyncio's 35 ms of imports come after."""
    import asyncio

    import qasync

    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return loop


def redraw_slot(fn: Callable[..., None]) -> Callable[..., None]:
    """For a slot that redraws from the database after a change: when the database does not
    answer (a workspace's server just went away, before the change watch has said so) the
    redraw is skipped, not raised into Qt's event loop; the catch-up once it is back redraws."""

    @functools.wraps(fn)
    def slot(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except StorageError as exc:
            log.info("a redraw skipped: %s", exc)

    return slot


def set_error_reporter(reporter: ErrorReporter | None, quiet: Callable[[BaseException], bool] | None = None) -> None:
    """Where task failures are shown (the main window installs a non-modal dialog); ``quiet``:
    failures already said another way (a banner while the database is out of reach)."""
    global _reporter, _quiet
    _reporter = reporter
    _quiet = quiet


def report_error(title: str, exc: BaseException) -> None:
    if isinstance(exc, SmsdeskError):
        text = str(exc)
    else:
        log.error("%s failed", title, exc_info=exc)
        text = f"Something went wrong: {type(exc).__name__}: {exc}"
    if _quiet is not None and _quiet(exc):
        log.info("%s failed: %s", title, text)
        return
    if _reporter is not None:
        _reporter(title, text)


def spawn(
    coro: Coroutine[Any, Any, Any],
    *,
    title: str = "smsdesk",
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> asyncio.Task[Any]:
    """Start ``coro`` on the GUI loop; results go to ``on_done``, failures to ``on_error`` or the reporter."""
    import asyncio

    task = asyncio.get_event_loop().create_task(coro)
    _tasks.add(task)

    def done(t: asyncio.Task[Any]) -> None:
        _tasks.discard(t)
        if t.cancelled():
            return
        exc = t.exception()
        if exc is not None:
            if on_error is not None:
                on_error(exc)
            else:
                report_error(title, exc)
            return
        if on_done is not None:
            try:
                on_done(t.result())
            except Exception as cb_exc:  # noqa: BLE001 - a view bug is shown, not swallowed
                report_error(title, cb_exc)

    task.add_done_callback(done)
    return task


def pending_tasks() -> int:
    return len(_tasks)


class BusBridge(QObject):
    """Carries ``Changes`` from the event bus into Qt (always on the GUI thread)."""

    sig_changed = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = bus.subscribe(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        self.sig_changed.emit(changes)

    def close(self) -> None:
        self._unsubscribe()
