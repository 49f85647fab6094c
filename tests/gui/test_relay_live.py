"""``smsdesk serve`` (a real subprocess) and the GUI on one database: what the relay records
shows in the open window without any refresh; the GUI leaves polling to the relay and says so."""

from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smsdesk.app import build_window
from smsdesk.runtime import Runtime
from smsdesk.ui.views.conversations_view import ConversationsView
from smsdesk.ui.views.settings_view import SettingsView
from smsdesk.ui.views.settings_webhooks import WebhooksSettingsView
from tests.gui.conftest import GuiHarness, drain, mark_running
from tests.support.serve_proc import sandbox_url, start_serve

ALICE = "+447911123456"


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture
def relay(_isolated_home: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, lines = start_serve(_isolated_home)
    try:
        yield proc, sandbox_url(lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def window(qapp: Any, qloop: asyncio.AbstractEventLoop, _isolated_home: Path, relay: Any) -> Iterator[GuiHarness]:
    rt = Runtime.open(str(_isolated_home))  # after serve: the same home, the same database
    qloop.run_until_complete(rt.start(sandbox=False))
    mark_running(qloop)
    win, ctx = build_window(rt)
    win.show()
    harness = GuiHarness(rt, win, ctx, qloop)
    try:
        yield harness
    finally:
        win.close()
        ctx.bridge.close()
        harness.run(rt.stop())
        rt.close()
        win.deleteLater()
        drain(qloop)


def test_a_reply_the_relay_receives_shows_in_the_open_window(window: GuiHarness, relay: Any) -> None:
    proc, sandbox_url = relay
    rt = window.rt
    page = window.window.show_page("conversations")
    assert isinstance(page, ConversationsView)
    assert page.list_model.rowCount() == 0
    # The GUI leaves receiving and polling to the relay, and says so.
    window.wait_until(lambda: rt.relay.other is not None)
    assert rt.relay.other.pid == proc.pid  # type: ignore[union-attr]
    settings = window.window.show_page("settings")
    assert isinstance(settings, SettingsView)
    settings.show_tab("webhooks")
    panel = settings.by_key["webhooks"]
    assert isinstance(panel, WebhooksSettingsView)
    assert panel.relay_note.isVisibleTo(panel)
    assert f"smsdesk serve (pid {proc.pid}) on this computer is receiving" in panel.relay_note.text()
    status = window.window.relay_label  # and the status bar says so on every page
    assert status.isVisibleTo(window.window) and f"pid {proc.pid}" in status.text()
    window.window.show_page("conversations")

    # A phone replies; the relay's sandbox calls the relay's receiver, signed; the relay stores it.
    r = httpx.post(f"{sandbox_url}/_sandbox/inbound", json={"from": ALICE, "body": "See you at 8"})
    assert r.status_code == 200
    window.wait_until(lambda: page.list_model.rowCount() == 1)  # no reload, no click
    top = page.list_model.conversation_at(0)
    assert top is not None and top.remote == ALICE and top.unread == 1 and top.last_body == "See you at 8"
    window.wait_until(
        lambda: window.window.notifier.history and window.window.notifier.history[-1][1] == "See you at 8"
    )
    assert window.window.notifier.unread == 1  # the badge
    # The relay's webhook log line, with what processing made of it.
    window.wait_until(lambda: panel.log.rowCount() == 1 and panel.log.item(0, 4).text() == "processed")
    assert panel.log.item(0, 2).text() == "accepted"

    # The relay stops: the note goes, and the GUI would poll again itself.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    window.wait_until(lambda: rt.relay.other is None and not panel.relay_note.isVisibleTo(panel))
    assert not status.isVisibleTo(window.window)
