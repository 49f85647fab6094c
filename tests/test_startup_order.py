"""The window comes first: at its first paint the cursor is in Compose's To box and nothing
has waited for the receiver, the sandbox or the dispatcher (they start right after). Also,
smsdesk never uses PySide6's ``__feature__`` switches, so the app may turn off PySide6's scan
of every imported module's source for them."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_first_paint_has_the_cursor_in_to_and_waits_for_no_service(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SMSDESK_REPORT_SHOWN="1", PYTHONPATH=str(ROOT))
    for _start in range(2):  # the first start creates the data folder; the second is an everyday start
        proc = subprocess.run(
            [sys.executable, "-c", "import sys, smsdesk.app; sys.exit(smsdesk.app.main(sys.argv[1:]))",
             "--home", str(tmp_path / "home")],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        lines = proc.stderr.splitlines()
        assert any(line.startswith("SMSDESK_SHOWN ") for line in lines), proc.stderr[-2000:]
        assert "SMSDESK_FOCUS to" in lines
        assert "SMSDESK_READY yes" in lines  # Compose in front, the counter follows typing
        assert "SMSDESK_RECEIVER not yet" in lines


def test_no_module_uses_pyside_feature_switches() -> None:
    for path in sorted((ROOT / "smsdesk").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "__feature__", f"{path}: from __feature__ import ..."
            if isinstance(node, ast.Import):
                assert all(a.name != "__feature__" for a in node.names), f"{path}: import __feature__"


def test_the_feature_scan_is_off_once_the_app_is_imported() -> None:
    code = (
        "import sys, smsdesk.app; f = sys.modules.get('shibokensupport.feature');"
        "print('off' if f is None or f._mod_uses_pyside(sys.modules['smsdesk.app']) is False else 'on')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "off"
