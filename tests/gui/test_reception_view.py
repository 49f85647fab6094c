"""Settings -> Webhooks tells the truth: one line per account on how its receipts and replies
reach smsdesk now, from the reception service; receiver, tunnel and HTTP details wait in a
closed "Details" section."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel

from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from smsdesk.ui.views.settings_view import SettingsView
from smsdesk.ui.views.settings_webhooks import WebhooksSettingsView


def _panel(gui) -> WebhooksSettingsView:
    settings = gui.window.show_page("settings")
    assert isinstance(settings, SettingsView)
    settings.show_tab("webhooks")
    panel = settings.by_key["webhooks"]
    assert isinstance(panel, WebhooksSettingsView)
    return panel


def _on_screen(panel: WebhooksSettingsView) -> str:
    parts = [w.text() for w in panel.findChildren(QLabel) if w.isVisible()]
    parts += [w.title() for w in panel.findChildren(QGroupBox) if w.isVisible()]
    parts += [w.text() for w in panel.findChildren(QAbstractButton) if w.isVisible()]
    for table in (panel.accounts, panel.urls, panel.log):
        if table.isVisible():
            parts += [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
            parts += [
                table.item(r, c).text()
                for r in range(table.rowCount())
                for c in range(table.columnCount())
                if table.item(r, c) is not None
            ]
    return "\n".join(parts)


def test_each_account_says_how_its_receipts_and_replies_arrive_now(gui, qtbot) -> None:
    rt = gui.rt
    salon = gui.run(rt.accounts.add("Salon", "puresms", {**rt.accounts.sandbox_values("puresms"), "sender": "Salon"}))
    gui.run(rt.accounts.add("Shop", "puresms", {"api_key": "k", "sender": "Shop", "webhook_secret": "s"}))
    [msg] = gui.run(rt.sending.send(Draft(salon.id, ["+447911123456"], "Your colour is booked")))
    gui.wait_until(lambda: rt.sending.messages.get(msg.id).status == Status.DELIVERED)  # its receipt came in
    panel = _panel(gui)
    lines = {
        panel.accounts.item(r, 0).text(): panel.accounts.item(r, 1).text() for r in range(panel.accounts.rowCount())
    }
    # PureSMS pointed at the built-in sandbox: its receipts arrive, so no "needs a tunnel".
    assert (
        lines["Salon"] == "Demo: the built-in sandbox sends receipts and replies straight to smsdesk on this computer."
    )
    assert lines["Shop"].startswith("Not yet: PureSMS must reach smsdesk from the internet.")
    assert "start a tunnel" in lines["Shop"]
    for account in rt.accounts.all():  # every line is the service's answer, word for word
        assert lines[account.name] == rt.receiving.reception(account).text
    row = next(r for r in range(panel.accounts.rowCount()) if panel.accounts.item(r, 0).text() == "Shop")
    assert panel.accounts.cellWidget(row, 2).text() == "Copy URL"  # its URL must go in the dashboard

    # Receiver and tunnel addresses and HTTP codes are details: closed until asked for.
    words = _on_screen(panel)
    assert rt.receiver.url not in words and "HTTP" not in words and "Tunnel" not in words
    assert not panel.local_url.isVisible() and not panel.log_box.isVisible()
    qtbot.mouseClick(panel.details.toggle, Qt.MouseButton.LeftButton)
    assert panel.local_url.isVisible() and rt.receiver.url in panel.local_url.text()
    assert panel.sandbox_url.text() == rt.sandbox.url and panel.log_box.isVisible()
    gui.wait_until(lambda: panel.log.isVisible() and panel.log.rowCount() >= 1)
    assert "HTTP" in _on_screen(panel)
