"""Whether this desktop can reach its database now, and the replies kept on this computer
while it cannot.

A team workspace lives on a server that can go away (a restart, a network cut, a laptop
leaving the office Wi-Fi). The change watch notices within seconds (:class:`StoreHealth`
``lost`` / ``back``); the window then shows "Workspace unreachable since 10:42, retrying",
and a reply written meanwhile is kept as an *offline draft*: a small JSON file in the data
folder (:class:`OfflineDrafts`), never sent behind the person's back and never lost. When
the database answers again each offline draft becomes the conversation's draft once more,
waiting in its reply box for the person to send. A window (or relay) that starts while the
workspace does not answer opens without it and tries again every few seconds (:func:`reach`).

Qt-free; the file is written whole or not at all, private to the login (``0600``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.config.privacy import replace_private_text
from smsdesk.domain.errors import LoginRefused, StorageError

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)


class OfflineDrafts:
    """Replies written while the database could not be reached, by conversation id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("the offline drafts in %s could not be read: %s", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        if not data:
            self.path.unlink(missing_ok=True)
            return
        replace_private_text(self.path, json.dumps(data, ensure_ascii=False, indent=1))

    def keep(self, conversation_id: int, text: str, reason: str) -> None:
        """Keep ``text`` as the conversation's reply (empty text forgets it)."""
        with self._lock:
            data = self._read()
            if text.strip():
                data[str(conversation_id)] = {"text": text, "reason": reason, "at": datetime.now().isoformat()}
            else:
                data.pop(str(conversation_id), None)
            self._write(data)

    def get(self, conversation_id: int) -> str | None:
        with self._lock:
            entry = self._read().get(str(conversation_id))
        return entry["text"] if entry else None

    def all(self) -> dict[int, str]:
        with self._lock:
            return {int(k): v["text"] for k, v in self._read().items()}

    def forget(self, conversation_id: int) -> None:
        self.keep(conversation_id, "", "")


class StoreHealth:
    """Since when (if at all) the database has been out of reach, and why."""

    def __init__(self, place: str, drafts: OfflineDrafts) -> None:
        self.place = place  # "Workspace smsdesk on db.example.com:5432" or "The database"
        self.drafts = drafts
        self.lost_since: datetime | None = None
        self.reason = ""
        self.refused = False  # the server answered and refused the login (see words())

    @property
    def ok(self) -> bool:
        return self.lost_since is None

    def lost(self, reason: str, refused: bool = False) -> bool:
        """The database could not be reached (``refused``: it refused the login); True when that
        is news: it had been reachable until now, or it now says no where it did not answer."""
        self.reason = reason
        news = self.lost_since is None or refused != self.refused
        self.refused = refused
        if self.lost_since is None:
            self.lost_since = datetime.now().astimezone()
        if news:
            log.warning("%s is %s: %s", self.place, "refusing the login" if refused else "unreachable", reason)
        return news

    def failed(self, exc: StorageError) -> bool:
        """:meth:`lost` for a storage error (a :class:`LoginRefused` is a refusal)."""
        return self.lost(str(exc), refused=isinstance(exc, LoginRefused))

    def back(self) -> bool:
        """The database answered; True when it had been out of reach."""
        if self.lost_since is None:
            return False
        log.warning("%s answers again (out of reach since %s)", self.place, self.lost_since.strftime("%H:%M:%S"))
        self.lost_since, self.reason, self.refused = None, "", False
        return True

    def words(self) -> str:
        """The banner's words while out of reach ("" when reachable)."""
        if self.lost_since is None:
            return ""
        if self.refused:  # said as the server said it: someone must act (the words say who)
            return f"{self.reason} smsdesk tries again every few seconds."
        return (
            f"{self.place} unreachable since {self.lost_since.strftime('%H:%M')}, retrying. "
            "Replies you write meanwhile are kept on this computer as drafts."
        )


#: How often a window that opened without its workspace tries to reach it again (seconds).
RETRY_EVERY_S = 5.0


async def reach(
    health: StoreHealth,
    attempt: Callable[[], None],
    announce: Callable[[], None],
    until: asyncio.Event,
    every: float | None = None,
) -> bool:
    """Run ``attempt`` (blocking: in a worker thread) until it succeeds, ``every`` seconds apart
    (:data:`RETRY_EVERY_S` unless given), or until ``until`` is set (then False). ``health``
    says why meanwhile; ``announce`` is called when it goes out of reach or comes back."""
    import asyncio

    loop = asyncio.get_running_loop()
    while not until.is_set():
        try:
            await loop.run_in_executor(None, attempt)
        except StorageError as exc:
            if health.failed(exc):
                announce()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), RETRY_EVERY_S if every is None else every)
            continue
        if health.back():
            announce()
        return True
    return False
