"""The PySide6 desktop UI. Owns every Qt import (with ``app.py`` and ``cli``).

Views and models are built with a :class:`~smsdesk.ui.context.UiContext`: the services they
may call (:class:`~smsdesk.ui.context.UiServices`) and the bridge that carries ``Changes`` into
Qt (:class:`smsdesk.ui.aio.BusBridge`). They start async work only through
:func:`smsdesk.ui.aio.spawn`.

Must not import ``smsdesk.runtime`` (how the process is put together is the composition root's
business), ``smsdesk.storage``, sqlite3, httpx or keyring: rows, HTTP and secrets are reached
through services (``tests/test_layers.py`` checks it).
"""
