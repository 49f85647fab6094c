"""Modules the window imports in a background thread right after its first paint.

The first paint imports only what Compose shows (see ``runtime.py``: services are built on first
use). What comes next would otherwise be imported on the GUI thread, about half a second during
which the window could not repaint. Importing it off the GUI thread leaves the window responsive
(the interpreter hands the GIL back to the GUI thread every millisecond:
``app.GUI_SWITCH_INTERVAL_S``), in two parts:

- :data:`FOR_START`: what :meth:`Runtime.start` builds (the receiver, the sandbox, the
  dispatcher and the other services, the provider clients). The window awaits it, then starts
  the services, which find their modules loaded.
- :data:`FOR_PAGES`: what a person's first actions need (``phonenumbers`` for the first typed
  number, Bulk send's file readers). Warmed after the services have started, not waited for.

No Qt module is listed: Qt types are created on the GUI thread only. Every name here is also
imported statically somewhere, so a frozen build has it; ``tests/test_startup_order.py``
checks that each one exists.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

FOR_START: tuple[str, ...] = (
    "httpx",
    "aiohttp",
    "aiohttp.web",
    "smsdesk.providers._aioclient",
    "smsdesk.providers.sandbox",  # and PureSMS's adapter, which the sandbox speaks
    "smsdesk.receiver.receiver",
    "smsdesk.sandbox",
    "smsdesk.services.dispatcher",
    "smsdesk.services.scheduler",
    "smsdesk.services.bulk_send",
    "smsdesk.services.review",
    "smsdesk.services.backup",
    "smsdesk.services.reception",
    "smsdesk.services.polling",
    "smsdesk.services.relay",
    "smsdesk.services.tunnel",
    "smsdesk.services.inbound",
    "smsdesk.services.webhook_intake",
    "smsdesk.services.autoreplies",
    "smsdesk.services.balance",
    "smsdesk.services.changewatch",
    "smsdesk.services.conversations",
    "smsdesk.services.optouts",
)
FOR_PAGES: tuple[str, ...] = (
    "phonenumbers",
    "phonenumbers.phonenumberutil",
    # Bulk send's file reading (its page would otherwise import them on the GUI thread: 90 ms)
    "charset_normalizer",
    "openpyxl",
    "smsdesk.services.imports",
    "smsdesk.services.imports.numbers",  # Compose's Send parses typed mobiles with its quick path
)
WARM: tuple[str, ...] = FOR_START + FOR_PAGES


def warm(names: tuple[str, ...] = WARM) -> None:
    """Import ``names`` (in a worker thread); a module that fails is left for its real import,
    which reports the error where it matters."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the real import says what went wrong
            log.debug("warming %s failed", name, exc_info=True)
