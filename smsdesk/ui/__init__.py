"""The PySide6 desktop UI. Owns every Qt import (with ``app.py``).

Must not import sqlite3, httpx or keyring: views talk to services (via :class:`UiContext`),
start async work only through :func:`smsdesk.ui.aio.spawn`, and refresh from ``Changes``
carried into Qt by :class:`smsdesk.ui.aio.BusBridge`.
"""
