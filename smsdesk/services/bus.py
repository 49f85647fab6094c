"""The event bus: services publish ``Changes``; listeners (the Qt bridge, the CLI) subscribe.

Publishing is thread-safe and coalescing: changes published in a burst (from any thread) are
merged and delivered once, on the owner loop, on its next turn. A flood of ten thousand
receipts therefore costs the GUI a handful of refreshes, not ten thousand.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from smsdesk.domain.events import Changes

if TYPE_CHECKING:  # imported with the loop (after the window's first paint), not with the bus
    import asyncio

log = logging.getLogger(__name__)
Listener = Callable[[Changes], None]


class EventBus:
    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._listeners: list[Listener] = []
        self._pending: Changes | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop listeners run on (the GUI's qasync loop, or the CLI's asyncio loop)."""
        self._loop = loop

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, changes: Changes) -> None:
        if not changes:
            return
        with self._lock:
            first = self._pending is None
            if self._pending is None:
                self._pending = Changes()
            self._pending.merge(changes)
        if not first:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            self._flush()
            return
        import asyncio  # bound to a loop: asyncio is loaded

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_soon(self._flush)
        else:
            loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._lock:
            changes, self._pending = self._pending, None
        if changes is None:
            return
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # noqa: BLE001 - one broken view must not starve the others
                log.exception("event listener failed")
