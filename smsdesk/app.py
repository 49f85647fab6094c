"""``smsdesk-gui``: the desktop app's composition root.

Opens the runtime (data directory, database, services), shows the window at once, then
starts the receiver, sandbox and dispatcher on the qasync loop. A damaged or newer database
is explained in a dialog and nothing is touched.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtGui import QIcon, QWindow
from PySide6.QtWidgets import (  # before qasync: it binds to the Qt imported first
    QApplication,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
)


def _skip_feature_scan() -> None:
    """Switch off PySide6's ``__feature__`` scan of every module imported after it.

    PySide6's import hook reads each new module's source (``inspect.getsource``) to see
    whether it says ``from __feature__ import ...``; smsdesk never does (a test checks), so
    the answer is always no. Measured: ~26 ms of the start before the window, and more at
    each later import (aiohttp, openpyxl). Private API of PySide6 6.x, hence the guard; a
    frozen build has no source to read and loses nothing either way.
    """
    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and hasattr(feature, "_mod_uses_pyside"):
        setattr(feature, "_mod_uses_pyside", lambda _module: False)  # noqa: B010 - a private name, on purpose


_skip_feature_scan()  # before smsdesk's own modules are imported below

from smsdesk import APP_NAME, __version__, resources, warmup  # noqa: E402
from smsdesk.domain import pacing  # noqa: E402
from smsdesk.domain.errors import SmsdeskError  # noqa: E402
from smsdesk.runtime import Runtime  # noqa: E402
from smsdesk.ui import aio, theme  # noqa: E402
from smsdesk.ui.context import SettingsFile, StartupFacts, UiContext, UiServices  # noqa: E402
from smsdesk.ui.gc_policy import GuiThreadGc  # noqa: E402
from smsdesk.ui.main_window import MainWindow  # noqa: E402

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="smsdesk-gui", description="smsdesk desktop app")
    p.add_argument("--home", metavar="DIR", help="data directory (overrides SMSDESK_HOME)")
    p.add_argument("--no-demo", action="store_true", help="do not start the built-in sandbox provider")
    p.add_argument("--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def app_icon() -> QIcon:
    """The app icon from resources/ (an empty icon, and a log line, if the install lacks it)."""
    try:
        return QIcon(str(resources.path("icons/smsdesk.svg")))
    except resources.ResourceNotFound as exc:
        log.warning("%s", exc)
        return QIcon()


# The GIL switch interval for the life of the GUI process. Python's default (5 ms) lets a worker thread
# (the database writer, the receiver, a file being read) keep the GIL for 5 ms each time the
# GUI thread asks for it, and with several such threads the GUI thread waited 100 ms and more
# to run one slot during a 100,000-row import (bench/ui_stall.py: the longest stall fell from
# about 100-135 ms to about 30-50 ms at 1 ms). Throughput costs are within noise.
GUI_SWITCH_INTERVAL_S = 0.001
# Long loops in worker threads (a file being read, 10,000 messages being written) rest this
# long after running that long (smsdesk.domain.pacing): while they rest the GUI thread has the
# interpreter, where otherwise each of a repaint's many Python calls waited for a switch.
# bench/ui_stall: 2 ms / 2 ms keeps the longest stall under a frame (16 ms) while a 100,000-row
# file is read and a 10,000-message run is sent; the run takes ~15% longer (its writes rest too).
PACE_RUN_S, PACE_REST_S = 0.002, 0.002


def gui_thread_first(app: QApplication) -> GuiThreadGc:
    """The GUI thread's share of the interpreter: garbage collected only there (gc_policy)
    and the GIL handed back to it within a millisecond. Returns the GC policy to stop."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    pacing.set_pace(PACE_RUN_S, PACE_REST_S)
    return GuiThreadGc(app)


def ui_services(rt: Runtime) -> UiServices:
    """The services the window may use: the only place the UI meets the runtime (each is built
    there when a view first asks for it)."""
    return UiServices(rt, SettingsFile(rt.settings, rt.save_settings), StartupFacts(rt.paths.home, rt.restore_error))


def build_window(rt: Runtime, services_later: bool = False) -> tuple[MainWindow, UiContext]:
    """The main window over ``rt``. ``services_later``: the runtime starts after the window's
    first paint, and :func:`run` tells the window when it has (else it reads them at once)."""
    ctx = UiContext(ui_services(rt), aio.BusBridge(rt.bus))
    window = MainWindow(ctx)
    if not services_later:
        window.services_ready()
    return window, ctx


async def run(rt: Runtime, window: MainWindow, quit_after: float | None, demo: bool) -> None:
    """The app's life on the event loop, which starts once the window is painted (``main``): a
    person can already type in Compose while the receiver, the sandbox and the dispatcher come
    up (a send queued meanwhile waits in the outbox and goes once the dispatcher runs)."""
    import asyncio

    closed = asyncio.Event()
    app = QApplication.instance()
    assert app is not None
    app.aboutToQuit.connect(closed.set)
    window.sig_closed.connect(closed.set)
    if quit_after is not None:
        asyncio.get_running_loop().call_later(quit_after, window.close)
    if window.isVisible() and await _until_open(rt, closed):  # not closed already (or meanwhile)
        loop = asyncio.get_running_loop()
        # Left by Runtime.open(window=True): it loads each account's provider module and may
        # write, so it runs off the GUI thread too (it publishes nothing).
        await loop.run_in_executor(None, rt.accounts.fill_generated_fields)
        if rt.workspace_url:
            # A team workspace: relays (smsdesk serve) receive, poll and send with the keys in
            # their keyrings; this desktop writes to the outbox and watches the workspace.
            await rt.start(sandbox=False, receiver=False, dispatcher=False, polling=False, tunnel=False)
        else:
            await rt.start(sandbox=demo and rt.settings.demo_mode)
        window.services_ready()
        loop.run_in_executor(None, warmup.warm, warmup.FOR_PAGES)  # not waited for
        # The worker processes a big import's check runs in: spawned now, while the window is
        # idle, rather than when a file has just been read and its pages are being filled.
        loop.run_in_executor(None, rt.cpu_pool.warm)
        await closed.wait()
    await rt.stop()


async def _until_open(rt: Runtime, closed: asyncio.Event) -> bool:
    """Import what the services need (in a worker thread: the window stays responsive), and on
    a workspace that did not answer at start-up wait for it, while the window shows a banner
    and keeps what is typed. False when the window closed first."""
    import asyncio

    await asyncio.get_running_loop().run_in_executor(None, warmup.warm, warmup.FOR_START)
    return await rt.finish_open(until=closed) and not closed.is_set()


def paint_first(window: MainWindow, limit_s: float = 0.5) -> None:
    """Show ``window`` and let Qt expose and paint it, before the asyncio loop exists.

    The first paint needs no event loop of ours, and asyncio with qasync is 35 ms of imports:
    they come after. Key presses wait in Qt's queue meanwhile (none is lost). Gives up after
    ``limit_s`` on a platform that never exposes the window.
    """
    window.show()
    handle = window.windowHandle()
    if handle is None or handle.isExposed():
        return
    waiting = QEventLoop()

    class _Exposed(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Expose and handle.isExposed():
                QTimer.singleShot(0, waiting.quit)  # after the paint that follows the expose
            return False

    # On the window's own QWindow, not the application: an application-wide filter would bring
    # every event of every widget into Python during the first show (and with them ~100 of
    # PySide6's lazily created enum types: 10-20 ms before the first paint).
    watcher = _Exposed()
    handle.installEventFilter(watcher)
    QTimer.singleShot(int(limit_s * 1000), waiting.quit)
    waiting.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    handle.removeEventFilter(watcher)


class _ReportShown(QObject):
    """bench/startup.py hook (``SMSDESK_REPORT_SHOWN=1``): on the first expose of a window, print
    ``SMSDESK_SHOWN <unix time>``, where the keyboard focus is and whether the receiver is up
    yet on stderr, and close the window, so the process ends."""

    def __init__(self, window: MainWindow, rt: Runtime) -> None:
        super().__init__(window)
        self._window = window
        self._rt = rt

    def _ready(self, focus: QWidget | None) -> str:
        """``yes`` when Compose is in front, the keyboard in its To box and the counter follows a
        typed character (tried on the message box, then undone); else what is missing."""
        compose = self._window.pages.get("compose")
        if compose is None or self._window.stack.currentWidget() is not compose:
            return "no: Compose is not the page in front"
        if focus is None or focus is not getattr(compose, "to", None):
            return "no: the keyboard is not in the To box"
        body, counter = getattr(compose, "body", None), getattr(compose, "counter", None)
        if not isinstance(body, QPlainTextEdit) or not isinstance(counter, QLabel):
            return "no: Compose has no message box or counter"
        before = counter.text()
        body.insertPlainText("x")
        live = counter.text() != before
        body.clear()
        return "yes" if live else "no: the counter did not follow a typed character"

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Expose and isinstance(obj, QWindow) and obj.isExposed():
            obj.removeEventFilter(self)
            print(f"SMSDESK_SHOWN {time.time():.6f}", file=sys.stderr, flush=True)
            focus = QApplication.focusWidget()
            # Ready to type: where the keyboard goes at the first paint (Compose's To box).
            print(f"SMSDESK_FOCUS {focus.objectName() if focus else '-'}", file=sys.stderr, flush=True)
            print(f"SMSDESK_READY {self._ready(focus)}", file=sys.stderr, flush=True)
            # Nothing waited for the receiver: it starts after this first paint.
            receiving = "up" if self._rt.status.receiver_url else "not yet"
            print(f"SMSDESK_RECEIVER {receiving}", file=sys.stderr, flush=True)
            QTimer.singleShot(0, self._window.close)
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    _logging()
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # Fusion from the start, chosen by Qt itself: setting it from Python wraps the style
        # object and builds its enums, ~10 ms before the first paint (see theme.FUSION_SET).
        app = QApplication([*sys.argv[:1], "-style", "fusion"])
        app.setProperty(theme.FUSION_SET, True)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("smsdesk")
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    # Wayland compositors and docks match the window to smsdesk.desktop (and its icon) by this.
    app.setDesktopFileName(APP_NAME)
    app.setWindowIcon(app_icon())
    # The loop must outlive the window: we stop the runtime (flushing writes) before quitting.
    app.setQuitOnLastWindowClosed(False)

    try:
        # A team workspace that does not answer, or refuses the login, opens the window all the
        # same: a banner says why, and smsdesk tries again (Runtime.finish_open).
        rt = Runtime.open(args.home, role="the smsdesk window", window=True, wait_for_store=True)
    except SmsdeskError as exc:
        print(f"smsdesk: error: {exc}", file=sys.stderr)
        # Before the event loop exists, a modal dialog is safe (no coroutine is running);
        # without a screen (offscreen, CI) nobody could close it, so stderr must do.
        if app.platformName() not in ("offscreen", "minimal"):
            QMessageBox.critical(None, "smsdesk cannot start", str(exc))
        return 1
    gc_policy = gui_thread_first(app)
    window, ctx = build_window(rt, services_later=True)
    # Title "smsdesk" equals the display name, so Qt adds no " — smsdesk" suffix to it; on a
    # team workspace the title names it (every desktop of the team shares what is shown).
    window.setWindowTitle(f"Team workspace {rt.workspace_name}" if rt.workspace_name else APP_NAME)
    if os.environ.get("SMSDESK_REPORT_SHOWN"):
        window.winId()  # creates the window's QWindow, which the first Expose goes to
        window.windowHandle().installEventFilter(_ReportShown(window, rt))
    if rt.restored is not None or rt.restore_error:
        window.show_settings("data")
    else:
        window.focus_compose()  # the first thing to type is who the message goes to
    paint_first(window)
    window.painted()  # Compose's Account box, before any key press waiting in Qt's queue is handled
    # What comes next is imported after the first paint: the log file's handler, then asyncio
    # and qasync. Until here, log lines went to stderr only.
    _log_to_file(rt.paths.logs / "smsdesk.log")
    loop = aio.create_loop(app)
    try:
        try:
            loop.run_until_complete(run(rt, window, args.quit_after, not args.no_demo))
        finally:  # what leaving qasync's ``with loop:`` does
            loop.stop()
            loop.close()
    finally:
        rt.close()
        gc_policy.stop()
    if ctx.restart.requested:
        _start_again()
    return 0


def _start_again() -> None:
    """Settings -> Data staged a restore: start smsdesk again, now that this process has closed
    the database (the new one puts the backup in place before opening it)."""
    import subprocess

    command = (
        [sys.executable, *sys.argv[1:]]
        if getattr(sys, "frozen", False)
        else [sys.executable, "-m", "smsdesk.app", *sys.argv[1:]]
    )
    try:
        subprocess.Popen(command, start_new_session=True, close_fds=True)  # noqa: S603 - our own program
    except OSError as exc:
        log.error("could not start smsdesk again (%s); start it yourself to finish the restore", exc)


def _log_to_file(path: Path) -> None:
    """A windowed build has no stderr: keep a rotating log in the data folder (no secrets)."""
    from smsdesk.config.logfile import PrivateRotatingFileHandler

    handler = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)


if __name__ == "__main__":
    raise SystemExit(main())
