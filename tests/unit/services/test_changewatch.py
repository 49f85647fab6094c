"""The cross-process change watch: what another process commits to the shared database is
announced here, including a change to a message this process itself just announced."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsdesk.domain.events import Changes
from smsdesk.domain.status import Status
from smsdesk.services.bus import EventBus
from smsdesk.services.changewatch import OWN_BURST, ChangeWatch
from smsdesk.storage import accounts as acc_store
from smsdesk.storage import messages as store
from smsdesk.storage.changes import ChangeRepository
from smsdesk.storage.db import Database
from smsdesk.storage.messages import NewOutgoing


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """The GUI's and the relay's connections to one file (as two processes have)."""
    gui, relay = Database(tmp_path / "db.sqlite3"), None
    try:
        relay = Database(tmp_path / "db.sqlite3")
        yield gui, relay
    finally:
        gui.close()
        if relay is not None:
            relay.close()


def _queue(db: Database, n: int) -> list[int]:
    acct = db.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    items = [NewOutgoing(acct, f"+4479111234{i:02d}", "Shop", "Hi", 1, "GSM-7") for i in range(n)]
    return db.write_sync(lambda c: store.insert_outgoing(c, items))


def test_a_relays_receipt_for_a_message_this_gui_just_announced_is_not_lost(two) -> None:
    gui, relay = two
    bus = EventBus()
    heard: list[Changes] = []
    bus.subscribe(heard.append)
    watch = ChangeWatch(ChangeRepository(gui), bus)
    [mid] = _queue(gui, 1)
    watch.prime()
    # The GUI sends it and announces that on its own bus ...
    gui.write_sync(lambda c: store.apply_status(c, mid, Status.SENT, "Accepted", None, "pm-1"))
    bus.publish(Changes(message_ids={mid}))
    # ... and within the same second the relay records its delivery receipt.
    relay.write_sync(lambda c: store.apply_status(c, mid, Status.DELIVERED, "Delivered"))
    ch = watch.check()
    assert ch is not None and mid in ch.message_ids


def test_this_processes_own_burst_is_not_announced_again(two) -> None:
    gui, _relay = two
    bus = EventBus()
    watch = ChangeWatch(ChangeRepository(gui), bus)
    ids = _queue(gui, OWN_BURST + 50)
    watch.prime()

    def sent(c):
        for i in ids:
            store.apply_status(c, i, Status.SENT, "Accepted")

    gui.write_sync(sent)
    bus.publish(Changes(message_ids=set(ids)))
    ch = watch.check()
    assert ch is None or not ch.message_ids  # a bulk run does not refresh everything twice a second


@pytest.mark.asyncio
async def test_the_running_watch_announces_another_process_and_reads_off_the_app_loop(two) -> None:
    """The watch's reads (thousands of moved ids during a big send) run in its own thread: on
    the app loop they froze the window for 20-35 ms at a time."""
    gui, relay = two
    bus = EventBus()
    heard: list[Changes] = []
    bus.subscribe(heard.append)
    feed = ChangeRepository(gui)
    readers: set[str] = set()
    moved = feed.moved

    def moved_here(*args: int) -> tuple[set[int], set[int]] | None:
        readers.add(threading.current_thread().name)
        return moved(*args)

    feed.moved = moved_here  # type: ignore[method-assign]
    watch = ChangeWatch(feed, bus, every=0.05)
    [mid] = _queue(gui, 1)
    task = asyncio.get_running_loop().create_task(watch.run())
    try:
        await asyncio.sleep(0.2)  # primed
        relay.write_sync(lambda c: store.apply_status(c, mid, Status.SENT, "Accepted", None, "pm-1"))
        for _ in range(100):
            if any(mid in ch.message_ids for ch in heard):
                break
            await asyncio.sleep(0.05)
        assert any(mid in ch.message_ids for ch in heard)
        assert readers and all(name.startswith("smsdesk-watch") for name in readers), readers
    finally:
        watch.stop()
        await task
