"""What the frozen build must contain although no plain ``import`` statement names it.

Shared by ``packaging/smsdesk.spec`` (which PyInstaller executes) and
``tests/test_packaging.py`` (which checks the lists against the source tree without
building). Stdlib only, no smsdesk import: the spec runs in PyInstaller's interpreter.

Why each group is here:

- keyring picks its backend at run time from entry points and imports backends by name;
  the frozen app would otherwise fall back to ``fail.Keyring`` and refuse to store API keys.
- the SecretService backend talks D-Bus through secretstorage -> jeepney (Linux).
- smsdesk's providers and sandbox formats are listed one by one, on purpose: the registry
  imports them by name (``registry.MODULES``), and this list keeps a new adapter from silently
  missing in the installed app. So are the record modules ``smsdesk.storage.records`` loads by
  name. ``tests/test_packaging.py`` fails when a module under ``smsdesk/providers``,
  ``smsdesk/sandbox`` or ``smsdesk/storage/records`` is not listed here.
- phonenumbers lazy-loads one metadata module per region (``collect_submodules`` in the spec);
  its geocoder and carrier databases (~45 MB of source) are left out because smsdesk never
  uses them (the test checks that no smsdesk module imports them).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

KEYRING = [
    "keyring.backends",
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
    "keyring.backends.libsecret",
    "keyring.backends.macOS",
    "keyring.backends.macOS.api",
    "keyring.backends.Windows",
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyring.backends.chainer",
]
SECRET_SERVICE = ["secretstorage", "jeepney", "jeepney.io.blocking"]
WINDOWS_ONLY = ["win32ctypes.core", "win32ctypes.pywin32.win32cred"]

SMSDESK_PROVIDERS = [
    "smsdesk.providers",
    "smsdesk.providers._aioclient",  # imported inside make_client (start-up time)
    "smsdesk.providers._http",
    "smsdesk.providers.base",
    "smsdesk.providers.channel",
    "smsdesk.providers.mobivate",
    "smsdesk.providers.mobivate_wire",
    "smsdesk.providers.puresms",
    "smsdesk.providers.registry",
    "smsdesk.providers.sandbox",
    "smsdesk.providers.send2",
    "smsdesk.providers.spec",
]
SMSDESK_SANDBOX = [
    "smsdesk.sandbox",
    "smsdesk.sandbox.channel",
    "smsdesk.sandbox.config",
    "smsdesk.sandbox.mobivate",
    "smsdesk.sandbox.puresms",
    "smsdesk.sandbox.send2",
    "smsdesk.sandbox.server",
]
# The record modules storage/records/__init__.py loads by name when a record is first asked for.
SMSDESK_RECORDS = [
    "smsdesk.storage.records",
    "smsdesk.storage.records.address_book",
    "smsdesk.storage.records.conversations",
    "smsdesk.storage.records.events",
    "smsdesk.storage.records.outbox",
    "smsdesk.storage.records.runs",
]
# The two composition roots the launcher picks between, and the lazily imported views.
SMSDESK_ROOTS = ["smsdesk.app", "smsdesk.cli", "smsdesk.ui.views.about_dialog"]

RUNTIME = [
    "qasync",
    "aiohttp",
    "httpx_aiohttp",  # imported inside a function (providers/_http.py)
    "sniffio",  # without it httpcore retries a failing import on every request
    "anyio._backends._asyncio",
    "jwt",
    "openpyxl",  # imported inside a function (bulk import of .xlsx)
    "openpyxl.cell._writer",
    "platformdirs",
    "phonenumbers",
    "phonenumbers.timezone",  # domain/phone.py imports it inside a function
]

# Packages whose submodules are all collected (the spec calls collect_submodules on them).
COLLECT_ALL_SUBMODULES = ["phonenumbers", "keyring.backends"]

# Left out of the bundle; smsdesk must not import these (checked by tests/test_packaging.py).
EXCLUDES = [
    "tkinter",
    "phonenumbers.geocoder",
    "phonenumbers.geodata",
    "phonenumbers.carrier",
    "phonenumbers.carrierdata",
    "pytest",
    "pytestqt",
    "PyInstaller",
]

# Distributions whose metadata the bundle keeps: keyring finds its backends through entry
# points, and the About dialog lists every dependency with its licence from this metadata.
METADATA_ROOT = "smsdesk"


def hidden_imports(platform: str = sys.platform) -> list[str]:
    """Every module the spec names explicitly for ``platform``."""
    names = KEYRING + SECRET_SERVICE + SMSDESK_PROVIDERS + SMSDESK_SANDBOX + SMSDESK_RECORDS + SMSDESK_ROOTS + RUNTIME
    if platform == "win32":
        names += WINDOWS_ONLY
    return names


def package_modules(package_dir: Path, package: str) -> list[str]:
    """Dotted names of every module in ``package_dir`` (recursively), e.g. for the coverage test."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found.append(".".join(parts))
    return found


def read_version(root: Path) -> str:
    """``__version__`` from ``smsdesk/__init__.py`` (the one place it is written)."""
    text = (root / "smsdesk" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if not match:
        raise ValueError("no __version__ in smsdesk/__init__.py")
    return match.group(1)
