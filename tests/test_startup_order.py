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


# What the first paint (Compose) does not use, so must not wait for: the issue's "nothing a
# user does waits on a module that the page in front of them does not use".
NOT_BEFORE_THE_FIRST_PAINT = (
    "asyncio",  # with qasync, the event loop comes after the first paint
    "qasync",
    "ssl",
    "socket",  # the process list names this computer from os.uname (storage/liveness.host_name)
    "logging.handlers",  # the log file is attached after it too
    "phonenumbers",
    "aiohttp",
    "httpx",
    "keyring",
    "jwt",
    "openpyxl",
    "charset_normalizer",
    "vobject",
    "smsdesk.sandbox",
    "smsdesk.receiver.receiver",
    "smsdesk.providers.channel",
    "smsdesk.providers.mobivate",
    "smsdesk.providers.send2",
    "smsdesk.services.dispatcher",
    "smsdesk.services.scheduler",
    "smsdesk.services.bulk_send",
    "smsdesk.services.review",
    "smsdesk.services.polling",
    "smsdesk.services.tunnel",
    "smsdesk.services.relay",
    "smsdesk.services.reception",
    "smsdesk.services.inbound",
    "smsdesk.services.webhook_intake",
    "smsdesk.services.autoreplies",
    "smsdesk.services.reports",
    "smsdesk.services.imports",
    "smsdesk.services.contact_files",
    "smsdesk.services.recipients",  # the address book: when a person types a name or a group
    # Compose's Account box and its sent list are filled right after the first paint
    # (MainWindow.painted, services_ready): the accounts service, the providers' specs, sending.
    "smsdesk.services.accounts",
    "smsdesk.services.send",
    "smsdesk.providers.spec",
    "smsdesk.providers.sandbox",
    "smsdesk.providers.puresms",
    "smsdesk.storage.records.outbox",
    "smsdesk.domain.contacts",
    "smsdesk.storage.records.events",  # webhook and opt-out records (storage/records/__init__.py)
    "smsdesk.storage.records.address_book",
    "smsdesk.storage.records.conversations",
    "smsdesk.storage.records.runs",
    "secrets",  # a generated callback token: filled in after the first paint (Runtime.open(window=True))
    "smsdesk.ui.views.conversations_view",
    "smsdesk.ui.views.settings_view",
)

# A first start adds the Sandbox account, which the accounts service defines.
SEEDED_ON_A_FIRST_START = (
    "smsdesk.services.accounts",
    "smsdesk.providers.spec",
    "smsdesk.storage.records.outbox",
    "socket",
)

_FIRST_PAINT = """
import sys
from PySide6.QtWidgets import QApplication
import smsdesk.app as app
from smsdesk.runtime import Runtime
qt = QApplication(sys.argv[:1])
rt = Runtime.open(sys.argv[1], window=True)
window, _ctx = app.build_window(rt, services_later=True)  # as app.main builds it
window.focus_compose()
window.show()
qt.processEvents()
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("smsdesk",) + tuple(sys.argv[2:]))))
rt.close()
"""


def test_the_first_paint_imports_only_what_compose_uses(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    tops = sorted({name.split(".")[0] for name in NOT_BEFORE_THE_FIRST_PAINT} - {"smsdesk"})
    for start in range(2):  # a first start (creates the data folder), then an everyday one
        proc = subprocess.run(
            [sys.executable, "-c", _FIRST_PAINT, str(tmp_path / "home"), *tops],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        loaded = set(proc.stdout.split())
        assert "smsdesk.ui.views.compose_view" in loaded  # the check sees what was imported
        seeding = SEEDED_ON_A_FIRST_START if start == 0 else ()
        early = [name for name in NOT_BEFORE_THE_FIRST_PAINT if name in loaded and name not in seeding]
        assert not early, f"imported before the first paint, though Compose does not use them: {early}"


def test_every_module_warmed_after_the_first_paint_exists() -> None:
    from importlib.util import find_spec

    from smsdesk.warmup import WARM

    assert all(find_spec(name) is not None for name in WARM), [n for n in WARM if find_spec(n) is None]
