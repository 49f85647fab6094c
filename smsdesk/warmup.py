"""Modules the window imports in a background thread right after its first paint.

The first paint imports only what Compose shows (see ``runtime.py``: services are built on first
use). What comes next (the receiver, the sandbox, the dispatcher and the other services
:meth:`Runtime.start` builds, ``phonenumbers`` for the first typed number, the provider
clients) would otherwise be imported on the GUI thread, 150-250 ms during which the window
could not repaint. Importing them here, off the GUI thread, leaves the window responsive (the
interpreter hands the GIL back to the GUI thread every millisecond: ``app.GUI_SWITCH_INTERVAL_S``),
and ``Runtime.start`` then finds them loaded.

No Qt module is listed: Qt types are created on the GUI thread only. Every name here is also
imported statically somewhere, so a frozen build has it; ``tests/test_startup_imports.py``
checks that each one imports.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

WARM: tuple[str, ...] = (
    "phonenumbers",
    "phonenumbers.phonenumberutil",
    "httpx",
    "aiohttp",
    "aiohttp.web",
    "smsdesk.providers._aioclient",
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
    # Bulk send's file reading (its page would otherwise import them on the GUI thread: 55 ms)
    "charset_normalizer",
    "openpyxl",
    "smsdesk.services.imports",
)


def warm(names: tuple[str, ...] = WARM) -> None:
    """Import ``names`` (in a worker thread); a module that fails is left for its real import,
    which reports the error where it matters."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the real import says what went wrong
            log.debug("warming %s failed", name, exc_info=True)
