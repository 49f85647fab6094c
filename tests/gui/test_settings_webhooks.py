"""Settings -> Webhooks offscreen: a line per account on how its receipts and replies arrive;
under Details, a tunnel stand-in comes up, URLs to copy, the delivery log."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import aiohttp
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from smsdesk.ui.views.settings_view import SettingsView
from smsdesk.ui.views.settings_webhooks import WebhooksSettingsView
from tests.support import hooks
from tests.support.typing import replace_text

FAKE = Path(__file__).resolve().parents[1] / "support" / "fake_tunnel.py"


def _panel(gui) -> WebhooksSettingsView:
    settings = gui.window.show_page("settings")
    assert isinstance(settings, SettingsView)
    settings.show_tab("webhooks")
    panel = settings.by_key["webhooks"]
    assert isinstance(panel, WebhooksSettingsView)
    return panel


def test_tunnel_up_gives_urls_to_copy_and_the_log_shows_rejections(gui, qtbot) -> None:
    rt = gui.rt
    rt.tunnel.backoff_start = 0.2
    sandbox = rt.sandbox
    mob = gui.run(
        rt.accounts.add(
            "Mobivate shop",
            "mobivate",
            {"api_key": sandbox.server.config.api_key, "sender": "Shop", "base_url": sandbox.url + "/mobivate"},
        )
    )
    pure = gui.run(
        rt.accounts.add("PureSMS", "puresms", {"api_key": "k", "sender": "Shop", "webhook_secret": hooks.SECRET})
    )
    panel = _panel(gui)
    assert not panel.local_url.isVisible()  # the receiver, tunnel and HTTP details wait under Details
    qtbot.mouseClick(panel.details.toggle, Qt.MouseButton.LeftButton)
    assert rt.receiver.url in panel.local_url.text() and panel.local_url.isVisible()
    assert "Off" in panel.state.text() and panel.public_url.text() == ""

    panel.kind.setCurrentIndex(panel.kind.findData("command"))
    assert panel.command.isVisible() and not panel.token.isVisible()
    replace_text(panel.command, " ".join(shlex.quote(a) for a in (sys.executable, str(FAKE), "--url", "{local}")))
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: panel.public_url.text().startswith("https://fake-"))
    assert "Up" in panel.state.text()
    assert rt.settings.tunnel_kind == "command"  # saved

    public = panel.public_url.text()
    rows = {panel.urls.item(r, 0).text(): r for r in range(panel.urls.rowCount())}
    mob_row, pure_row = rows["Mobivate shop"], rows["PureSMS"]
    assert panel.urls.item(mob_row, 1).text() == f"{public}/hooks/{mob.id}?token={mob.settings['webhook_token']}"
    # Mobivate on the sandbox: the sandbox calls in; the real PureSMS account: through the tunnel.
    assert panel.accounts.item(mob_row, 1).text().startswith("Demo: the built-in sandbox sends")
    host = public.split("//", 1)[1]
    assert panel.accounts.item(pure_row, 1).text().startswith(f"Through the tunnel at {host}: PureSMS calls")
    copy = panel.urls.cellWidget(mob_row, 2)
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == panel.urls.item(mob_row, 1).text()
    paste = panel.accounts.cellWidget(pure_row, 2)  # PureSMS needs its URL in its dashboard
    qtbot.mouseClick(paste, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == panel.urls.item(pure_row, 1).text()

    async def deliveries() -> None:
        url = f"{rt.receiver.url}/hooks/{pure.id}"
        body = hooks.receipt()
        async with aiohttp.ClientSession() as s:
            async with s.post(url, data=body, headers=hooks.signed_headers(body, secret="wrong")) as r:
                assert r.status == 401
            async with s.post(url, data=body, headers=hooks.signed_headers(body)) as r:
                assert r.status == 200

    gui.run(deliveries())
    gui.wait_until(lambda: panel.log.rowCount() == 2)
    newest, oldest = ([panel.log.item(r, c).text() for c in range(6)] for r in (0, 1))
    assert newest[1:4] == ["PureSMS", "accepted", "200"]
    assert oldest[1:4] == ["PureSMS", "rejected", "401"] and "signature mismatch" in oldest[5]

    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Off" in panel.state.text())
    assert panel.accounts.item(pure_row, 1).text().startswith("Not yet: PureSMS must reach smsdesk")


def test_the_log_shows_what_processing_made_of_each_delivery(gui, expect_warnings) -> None:
    rt = gui.rt
    pure = gui.run(
        rt.accounts.add("PureSMS", "puresms", {"api_key": "k", "sender": "Shop", "webhook_secret": hooks.SECRET})
    )
    panel = _panel(gui)
    # A reply, a receipt for a message smsdesk has not recorded (yet), and an authentic event
    # that makes the parser raise (eventType Infinity -> OverflowError).
    broken = b'{"id": "evt_inf", "eventType": Infinity, "data": {"messageId": "pm-9", "deliveryStatus": "Failed"}}'
    bodies = [hooks.reply("+447911123456", "See you at 8"), hooks.receipt("pm-unknown", "ref-unknown"), broken]

    async def deliveries() -> None:
        async with aiohttp.ClientSession() as s:
            for body in bodies:
                async with s.post(
                    f"{rt.receiver.url}/hooks/{pure.id}", data=body, headers=hooks.signed_headers(body)
                ) as r:
                    assert r.status == 200  # accepted: stored before processing

    gui.run(deliveries())
    gui.wait_until(lambda: panel.log.rowCount() == 3 and "processing…" not in _column(panel, 4))
    processing = _column(panel, 4)  # newest first
    assert [panel.log.item(r, 2).text() for r in range(3)] == ["accepted"] * 3
    assert processing[0].startswith("failed: OverflowError")
    assert processing[1] == "waiting for its message"
    assert processing[2] == "processed"


def test_the_reachable_warning_goes_by_address(gui) -> None:
    rt = gui.rt
    panel = _panel(gui)
    for host, warned in [
        ("127.0.0.2", False),
        ("::1", False),
        ("localhost", False),
        ("0.0.0.0", True),
        ("192.168.1.20", True),
    ]:
        rt.settings.receiver_host = host
        panel.refresh()
        assert ("reachable from other computers" in panel.local_url.text()) is warned, host


def _column(panel: WebhooksSettingsView, col: int) -> list[str]:
    return [panel.log.item(r, col).text() for r in range(panel.log.rowCount())]


def test_the_webhook_log_shows_local_time(monkeypatch) -> None:
    import time

    from smsdesk.ui.views.settings_webhooks import _local_time

    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    try:
        assert _local_time("2026-07-01T10:00:00.000+00:00") == "2026-07-01 11:00:00"  # BST
        assert _local_time("2026-12-01T10:00:00.000+00:00") == "2026-12-01 10:00:00"  # GMT
    finally:
        monkeypatch.undo()
        time.tzset()
