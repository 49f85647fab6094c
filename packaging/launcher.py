"""The frozen build's one entry script, behind both executables of the bundle.

PyInstaller builds two executables from one analysis (``smsdesk``: console CLI, and
``smsdesk-gui``: windowed) so they share one folder of libraries; the executable's own
name decides which composition root runs. ``python packaging/launcher.py`` runs the CLI.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def _wants_gui(executable: str) -> bool:
    stem = os.path.splitext(os.path.basename(executable))[0].lower()
    return stem.endswith("-gui")


def main() -> int:
    # First of all: in the frozen build a worker process (a big .vcf is read by several,
    # spawned) starts this same executable, and must run its task, not a second smsdesk.
    multiprocessing.freeze_support()
    if _wants_gui(sys.executable if getattr(sys, "frozen", False) else sys.argv[0]):
        # A windowed build on Windows/macOS has no console: give stray prints a harmless target.
        for name in ("stdout", "stderr"):
            if getattr(sys, name) is None:
                setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        from smsdesk.app import main as gui_main

        return gui_main(sys.argv[1:])
    from smsdesk.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
