"""Startup: process start to first window shown, smsdesk beside a bare PySide6 window.

    python bench/run.py startup [--reps N] [--platform offscreen|xcb] [--timeout S] [--command PATH]

Each repetition starts a fresh process and takes the wall-clock time from just before
``Popen`` to the moment the first top-level window is *exposed* (Qt's Expose event with
``isExposed()``), which both processes print on stderr (smsdesk through its
``SMSDESK_REPORT_SHOWN`` hook in ``smsdesk/app.py``; the bare window through the same event
filter). Both hooks watch the window's own ``QWindow``: an application-wide filter would bring
every event of every widget into Python during the first show, ~25 ms in each process that
the measured programs do not otherwise pay. The two kinds alternate so drifts in machine load
hit both alike; the median of each is reported, with ``ratio`` = smsdesk / bare.

Demo mode is on, so the receiver and the sandbox start as a new user gets them, right after the
first paint: the window does not wait for them (``SMSDESK_RECEIVER not yet``).

smsdesk runs as ``smsdesk-gui --home TMP``: one untimed-for-the-ratio first start creates the
data directory and database (reported as ``first_start_s``); the timed runs reuse it, as a
person's second and later starts do. ``--command dist/smsdesk/smsdesk-gui``
times the frozen build (``python packaging/build.py --no-installer``) instead of the checkout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MARK = "SMSDESK_SHOWN "

BARE = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

class Shown(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Expose and isinstance(obj, QWindow) and obj.isExposed():
            print(f"SMSDESK_SHOWN {time.time():.6f}", file=sys.stderr, flush=True)
            obj.removeEventFilter(self)
            QTimer.singleShot(0, QApplication.instance().quit)
        return False

app = QApplication(sys.argv[:1])
shown = Shown()
w = QMainWindow()
w.setWindowTitle("bare")
w.setCentralWidget(QLabel("bare PySide6 window"))
w.resize(1000, 700)
w.winId()  # the hook sits on the window's QWindow, as smsdesk's does
w.windowHandle().installEventFilter(shown)
w.show()
sys.exit(app.exec())
"""


def _gui_command(home: Path, command: str | None = None) -> list[str]:
    if command:
        return [command, "--home", str(home)]
    script = Path(sys.executable).with_name("smsdesk-gui")
    if script.exists():
        return [str(script), "--home", str(home)]
    found = shutil.which("smsdesk-gui")
    if found:
        return [found, "--home", str(home)]
    return [sys.executable, "-m", "smsdesk.app", "--home", str(home)]


def _env(platform: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SMSDESK_HOME",)}
    env["QT_QPA_PLATFORM"] = platform
    env["SMSDESK_REPORT_SHOWN"] = "1"
    return env


def _compile_bytecode(env: dict[str, str]) -> None:
    """Compile the checkout's modules to bytecode, as installing smsdesk does (pip compiles a
    wheel's modules; the frozen build holds bytecode only). Otherwise, with
    ``PYTHONDONTWRITEBYTECODE`` set, every start compiled ~150 modules from source: ~100 ms
    that no installed copy pays."""
    code = "import compileall, os, smsdesk; compileall.compile_dir(os.path.dirname(smsdesk.__file__), quiet=1)"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


FOCUS = "SMSDESK_FOCUS "
READY = "SMSDESK_READY "  # "yes", or "no: why" (Compose in front, focus in To, counter live)
FOCUSED: list[str] = []  # where the keyboard was at each smsdesk first paint ("to": Compose's To box)


def time_to_shown(cmd: list[str], env: dict[str, str], timeout: float) -> float:
    """Seconds from just before the process starts to its first exposed window."""
    t0 = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stderr.splitlines():
        if line.startswith(FOCUS):
            FOCUSED.append(line[len(FOCUS) :].strip())
        if line.startswith(READY) and line[len(READY) :].strip() != "yes":
            # A window that shows but cannot take typing is not "started": the run fails.
            raise RuntimeError(f"{cmd[0]} showed a window that was not ready to type in ({line[len(READY) :]})")
    for line in proc.stderr.splitlines():
        if line.startswith(MARK):
            return float(line[len(MARK) :]) - t0
    tail = "\n".join(proc.stderr.splitlines()[-15:])
    raise RuntimeError(f"{cmd[0]} exited {proc.returncode} without showing a window:\n{tail}")


def main(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="bench/run.py startup", description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=7, help="timed repetitions of each (default 7)")
    p.add_argument(
        "--platform",
        default=os.environ.get("QT_QPA_PLATFORM") or "offscreen",
        help="Qt platform plugin (default offscreen; xcb needs a DISPLAY)",
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a start is a failure")
    p.add_argument("--command", default=None, help="the smsdesk-gui to time (default: this checkout's)")
    args = p.parse_args(argv)

    env = _env(args.platform)
    bare_cmd = [sys.executable, "-c", BARE]
    tmp = Path(tempfile.mkdtemp(prefix="smsdesk-bench-startup-"))
    try:
        gui_cmd = _gui_command(tmp / "home", args.command)
        if args.command is None:
            _compile_bytecode(env)
        first = time_to_shown(gui_cmd, env, args.timeout)  # creates the home and database
        time_to_shown(bare_cmd, env, args.timeout)  # warm the OS file cache for PySide6 alike
        smsdesk_runs: list[float] = []
        bare_runs: list[float] = []
        for _ in range(args.reps):
            bare_runs.append(time_to_shown(bare_cmd, env, args.timeout))
            smsdesk_runs.append(time_to_shown(gui_cmd, env, args.timeout))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    smsdesk_s = statistics.median(smsdesk_runs)
    bare_s = statistics.median(bare_runs)
    result = {
        "benchmark": "startup",
        "platform": args.platform,
        "command": gui_cmd[0],
        "python": sys.version.split()[0],
        "reps": args.reps,
        "smsdesk_s": round(smsdesk_s, 4),
        "focus_at_first_paint": sorted(set(FOCUSED)),
        "bare_s": round(bare_s, 4),
        "ratio": round(smsdesk_s / bare_s, 3),
        "first_start_s": round(first, 4),
        "smsdesk_runs_s": [round(x, 4) for x in smsdesk_runs],
        "bare_runs_s": [round(x, 4) for x in bare_runs],
    }
    for key in ("smsdesk_s", "bare_s", "ratio", "first_start_s"):
        print(f"{key:>14}: {result[key]}", file=sys.stderr)
    return result
