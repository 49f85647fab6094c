"""A first start in demo mode says what this is: messages go to a simulated provider and reach
no phone, with a button to connect a real provider and one to dismiss (remembered). The
status bar says it in words; the addresses are in its tooltip."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from smsdesk.app import build_window
from smsdesk.config.settings import Settings
from smsdesk.ui.views.accounts_view import AccountsView
from smsdesk.ui.views.settings_view import SettingsView
from tests.gui.conftest import drain


def test_demo_mode_says_messages_reach_no_phone_and_offers_a_real_provider(gui, qtbot) -> None:
    window = gui.window
    notice = window.demo_notice
    assert notice.isVisible()
    words = notice.findChild(QLabel, "demo_notice_text").text()
    assert "simulated provider" in words and "reach no phone" in words

    qtbot.mouseClick(window.connect_button, Qt.MouseButton.LeftButton)
    settings = window.stack.currentWidget()
    assert isinstance(settings, SettingsView)
    accounts = settings.tabs.currentWidget()
    assert isinstance(accounts, AccountsView)
    assert accounts.current is None and accounts.provider.isEnabled()  # a new account's form
    assert accounts.provider.currentData() != "sandbox" and accounts.name.text() == ""

    qtbot.mouseClick(window.dismiss_button, Qt.MouseButton.LeftButton)
    assert not notice.isVisible()
    assert Settings.load(gui.rt.paths.settings).demo_notice_dismissed  # remembered
    again, ctx = build_window(gui.rt)  # the next start, on the same settings
    again.show()
    try:
        assert not again.demo_notice.isVisible()
        assert again.state_label.text().startswith("Demo mode")  # the status bar still says it
    finally:
        again.close()
        ctx.bridge.close()
        again.deleteLater()
        drain(gui.loop)


def test_the_status_bar_speaks_plainly_and_keeps_addresses_in_its_tooltip(gui, qtbot) -> None:
    rt, window = gui.rt, gui.window
    label = window.state_label
    assert label.text() == "Demo mode · receiving replies"
    tip = label.toolTip()
    assert rt.receiver.url in tip and rt.sandbox.url in tip  # the addresses, for whoever needs them
    assert "http" not in label.text()

    # A real provider that cannot reach smsdesk yet: the line says so and leads to the answer.
    gui.run(rt.accounts.add("Shop", "puresms", {"api_key": "k", "sender": "Shop", "webhook_secret": "s"}))
    gui.wait_until(lambda: "replies not set up for Shop" in label.text())
    assert "Shop: Not yet: PureSMS must reach smsdesk" in label.toolTip()
    # A long name is counted instead: a status line never widens the window.
    width = window.width()
    gui.run(
        rt.accounts.add(
            "Hair & Beauty by Jo, Main Street branch",
            "puresms",
            {"api_key": "k", "sender": "Jo", "webhook_secret": "s"},
        )
    )
    gui.wait_until(lambda: "replies not set up for 2 accounts" in label.text())
    assert window.width() == width
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(label.width() - 12, label.height() // 2))
    settings = window.stack.currentWidget()
    assert isinstance(settings, SettingsView) and settings.tabs.currentWidget() is settings.by_key["webhooks"]
