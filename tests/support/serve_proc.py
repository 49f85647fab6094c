"""``smsdesk serve`` in a child process, read until it says it is serving (tests only)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO


def start_serve(home: Path, *args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``smsdesk serve ARGS`` on ``home``; returns it and its stderr lines up to the
    ``Serving;`` line (fewer if it died first: the caller's assertions show the lines)."""
    env = {**os.environ, "SMSDESK_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "smsdesk", "serve", *args],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    lines: list[str] = []
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (lines and lines[-1].startswith("Serving;")):
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line.rstrip())
    # Drain (and at EOF close) the rest: serve may log a lot, and a full pipe would block it;
    # a pipe left open is a ResourceWarning in whichever later test collects it.
    threading.Thread(target=_drain, args=(proc.stderr,), daemon=True).start()
    return proc, lines


def _drain(pipe: TextIO) -> None:
    with pipe:
        for _line in pipe:
            pass


def sandbox_url(lines: list[str]) -> str:
    """The sandbox's address from serve's start-up lines."""
    return next(ln.split(": ", 1)[1] for ln in lines if ln.startswith("Sandbox provider: "))
