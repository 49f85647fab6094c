"""Changes made by another process on the same database, published as change-sets here.

``smsdesk serve`` (the relay) and the GUI share one SQLite file, but change-sets travel on a
per-process bus: without this, the GUI would not show a reply, a receipt, an unread badge, a
notification or a webhook-log line the relay recorded until something reloaded.

Once a second :class:`ChangeWatch` reads ``PRAGMA data_version`` on its reader thread's
connection (no lock, no I/O); on a PostgreSQL workspace it wakes as soon as another desktop
or relay commits (``ChangeFeed.wait``: a notification). Only when it moved are a few index probes taken
(``ChangeFeed.marks``), and the difference becomes one ``Changes``: the ids of messages
that are new or changed status (replies also as ``inbound_ids``, so the notifier shows them),
and coarse flags for the small tables (accounts, opt-outs, contacts, schedules, bulk runs,
the webhook log). Above :data:`MAX_IDS` moved messages it publishes ``everything``.

``data_version`` also moves for this process's own commits. Reply ids registered by
``InboundService`` inside the writing transaction (before COMMIT) are subtracted, so a reply
is never notified twice, whichever runs first. Message ids this process published since the
last check are announced again (a cheap duplicate refresh, and the only safe choice: another
process may have moved the same message in the same second, for example the relay recording
the receipt of a message this GUI just sent), except in a burst of more than
:data:`OWN_BURST` of them (this process's own bulk run), where re-announcing would make every
check a large refresh.

Presence (another desktop's person viewing or typing in a conversation) is heard, not read:
each pass hands on what the feed heard since the last, as ``Changes.presence``.

Accounts changed by another process are announced like any change, and also to the listeners of
:meth:`ChangeWatch.on_foreign_accounts` (the accounts service drops its cached adapters). Who
receives and polls for the database (a relay) is :mod:`smsdesk.services.relay`'s business.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from smsdesk.domain.errors import StorageError
from smsdesk.domain.events import Changes
from smsdesk.services.bus import EventBus
from smsdesk.services.health import StoreHealth
from smsdesk.storage.api import ChangeFeed
from smsdesk.storage.records import Marks

log = logging.getLogger(__name__)

MAX_IDS = 5000
OWN_BURST = 200  # own message updates per check above which they are not announced again
QUICKEST = 0.05  # seconds between passes of a watch woken by notifications (PostgreSQL)


class ChangeWatch:
    """Runs on the app loop (:meth:`run`); :meth:`check` is one synchronous pass."""

    def __init__(
        self, changes: ChangeFeed, bus: EventBus, *, every: float = 1.0, health: StoreHealth | None = None
    ) -> None:
        self.changes = changes
        self.bus = bus
        self.health = health  # told when the database goes out of reach and comes back
        self.every = every
        self._version: int | None = None
        self._marks = Marks()
        self._lock = threading.Lock()
        self._local_replies: set[int] = set()
        self._published: set[int] = set()  # message ids on this process's bus since the last check
        self._echo: set[int] = set()  # ... of which these were our own last announcement
        self._published_accounts = False
        self._echo_accounts = False
        self._foreign_accounts: list[Callable[[], None]] = []
        self._stopping = False
        bus.subscribe(self._on_changes)

    # ---- wiring ------------------------------------------------------------------------
    def local_replies(self, ids: Iterable[int]) -> None:
        """Reply ids this process is committing (called on the writer thread, before COMMIT)."""
        with self._lock:
            self._local_replies.update(ids)

    def on_foreign_accounts(self, listener: Callable[[], None]) -> None:
        """Called when another process changed the accounts (cached adapters are stale)."""
        self._foreign_accounts.append(listener)

    def _on_changes(self, ch: Changes) -> None:
        self._published |= ch.message_ids
        self._published_accounts |= ch.accounts

    # ---- the loop ----------------------------------------------------------------------
    def prime(self) -> None:
        """Take the current state as seen (at start: nothing before it is news)."""
        self._version = self.changes.version()
        self._marks = self.changes.marks()

    async def run(self) -> None:
        """Check every :attr:`every` seconds until :meth:`stop`. The reads run in a thread of
        their own: during this process's own big writes a pass reads thousands of moved ids,
        ~20-35 ms that froze the window when it ran on the app loop."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsdesk-watch") as reader:
            if self._version is None:
                await loop.run_in_executor(reader, self.prime)
            # ``data_version`` is per connection: the first pass compares the marks, then the
            # reader thread's own connection is asked each time.
            self._version = None
            while not self._stopping:
                # PostgreSQL wakes the watch as soon as another process commits (at most
                # every QUICKEST seconds); SQLite cannot tell, so it polls every ``every``.
                if await loop.run_in_executor(reader, self.changes.wait, self.every):
                    await asyncio.sleep(QUICKEST)
                else:
                    await asyncio.sleep(self.every)
                try:
                    try:
                        seen = await loop.run_in_executor(reader, self._read)
                    except StorageError:  # a connection ended while idle is opened again: once more
                        seen = await loop.run_in_executor(reader, self._read)
                except StorageError as exc:
                    self._lost(exc)
                    continue
                except Exception:  # noqa: BLE001 - a bad pass must not end the watch
                    log.exception("watching the database for other processes' changes failed")
                    continue
                self._back()
                try:
                    if seen is not None:
                        self._apply(*seen)
                    self._presence()
                except Exception:  # noqa: BLE001 - a bad pass must not end the watch
                    log.exception("watching the database for other processes' changes failed")

    def stop(self) -> None:
        self._stopping = True

    def _lost(self, exc: StorageError) -> None:
        """A pass could not read the database: say so once (the next passes keep trying)."""
        if self.health is not None and self.health.failed(exc):
            self.bus.publish(Changes(connection=True))

    def _back(self) -> None:
        if self.health is not None and self.health.back():
            self.bus.publish(Changes(connection=True, everything=True))  # catch up on the outage

    def check(self) -> Changes | None:
        """One pass, here and now: publish what other processes committed since the last;
        returns it."""
        seen = self._read()
        self._presence()
        return None if seen is None else self._apply(*seen)

    def _presence(self) -> None:
        """Who is viewing or typing where, as other desktops said (nothing to read: heard)."""
        heard = self.changes.presence()
        if heard:
            self.bus.publish(Changes(presence=set(heard)))

    def _read(self) -> tuple[Marks, Marks, tuple[set[int], set[int]] | None, list[tuple[int, int, str]]] | None:
        """The reads of a pass (any one thread): (the marks before, the marks now, the moved
        message ids and the replies among them, None when too many moved; the new team
        activity lines); None when nothing was committed since."""
        version = self.changes.version()
        if version == self._version and (self.health is None or self.health.ok):
            return None  # (while out of reach, every pass reads: that is how it sees the way back)
        old, new = self._marks, self.changes.marks()
        found: tuple[set[int], set[int]] | None = (set(), set())
        if new.message != old.message or new.transition != old.transition:
            found = self.changes.moved(old.message, old.transition, MAX_IDS * 4)
        activity = self.changes.activity(old.activity, MAX_IDS) if new.activity != old.activity else []
        # Only once every read succeeded: a pass that failed (the database out of reach) is
        # read again whole next time.
        self._version, self._marks = version, new
        return old, new, found, activity

    def _apply(
        self,
        old: Marks,
        new: Marks,
        found: tuple[set[int], set[int]] | None,
        activity: list[tuple[int, int, str]] | None = None,
    ) -> Changes | None:
        """The rest of a pass, on the app loop: what this process announced itself is left out."""
        ch = Changes()
        if new.message != old.message or new.transition != old.transition:
            own = self._published - self._echo if len(self._published) > OWN_BURST else set()
            with self._lock:
                local = self._local_replies
                self._local_replies = {i for i in local if i > new.message}  # not committed yet
            if found is None:
                ch.everything = True
            else:
                ids, replies = found
                ch.message_ids = ids - own
                ch.inbound_ids = replies - local
                if len(ch.message_ids) > MAX_IDS:
                    ch.message_ids, ch.everything = set(), True
        for activity_id, conversation_id, kind in activity or ():
            ch.conversation_ids.add(conversation_id)
            if kind == "note":
                ch.note_ids.add(activity_id)
        self._published = set()
        self._echo = set(ch.message_ids)
        ch.webhooks = new.log != old.log or new.pending_events != old.pending_events
        ch.accounts = new.accounts != old.accounts
        ch.optouts = new.optouts != old.optouts
        ch.contacts = new.contacts != old.contacts
        ch.queue = new.schedules != old.schedules
        ch.bulk = new.bulk != old.bulk
        # Ours when this process announced an accounts change itself (not just echoed ours).
        foreign = ch.accounts and (not self._published_accounts or self._echo_accounts)
        self._published_accounts, self._echo_accounts = False, ch.accounts
        if foreign:
            for listener in list(self._foreign_accounts):
                listener()
        if ch:
            self.bus.publish(ch)
            return ch
        return None
