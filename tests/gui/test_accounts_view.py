"""Settings -> Accounts offscreen: add a real-provider account, Test it, send through it, remove it.

The account speaks PureSMS's wire format to the running sandbox (its base URL), so the Test
button makes a real authenticated call over loopback HTTP.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from smsdesk.ui.views.accounts_view import AccountsView


def _accounts_page(gui) -> AccountsView:
    settings = gui.window.show_page("settings")
    settings.show_tab("accounts")
    view = settings.by_key["accounts"]
    assert isinstance(view, AccountsView)
    return view


def _fill(view: AccountsView, name: str, base_url: str, key: str) -> None:
    view.new_account()
    view.provider.setCurrentIndex(view.provider.findData("puresms"))
    view.name.setText(name)
    view.inputs["base_url"].setText(base_url)
    view.inputs["sender"].setText("MyShop")
    view.inputs["api_key"].setText(key)
    view.inputs["webhook_secret"].setText("whsec-test")


def test_add_test_send_and_remove_an_account(gui, qtbot, memory_keyring) -> None:
    view = _accounts_page(gui)
    cfg = gui.rt.sandbox.server.config
    _fill(view, "Shop", gui.rt.sandbox.url, cfg.api_key)
    assert view.inputs["api_key"].echoMode() == view.inputs["api_key"].EchoMode.Password
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Saved 'Shop'" in view.result.text())
    account = gui.rt.accounts.by_name("Shop")
    # the key is in the keyring, not in the account's stored settings
    assert cfg.api_key in memory_keyring.store.values()
    assert cfg.api_key not in str(account.settings)
    assert view.webhook.text().endswith(f"/hooks/{account.id}")

    qtbot.mouseClick(view.test_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.result.text().startswith("✓"))

    [msg] = gui.run(gui.rt.sender.send(Draft(account.id, ["07911 123456"], "via the Shop account")))
    gui.wait_until(lambda: gui.rt.sender.messages.get(msg.id).status == Status.SENT)
    assert gui.rt.sandbox.server.sent[-1].sender == "MyShop"

    view.confirm_remove()
    box = gui.wait_until(lambda: next((w for w in QApplication.topLevelWidgets()
                                       if isinstance(w, QMessageBox) and w.isVisible()), None))
    box.button(QMessageBox.StandardButton.Yes).click()
    gui.wait_until(lambda: all(a.name != "Shop" for a in gui.rt.accounts.all()))
    assert cfg.api_key not in memory_keyring.store.values()


def test_wrong_key_shows_the_providers_words(gui, qtbot) -> None:
    view = _accounts_page(gui)
    _fill(view, "Wrong", gui.rt.sandbox.url, "not-the-key")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Saved 'Wrong'" in view.result.text())
    qtbot.mouseClick(view.test_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.result.text().startswith("✗"))
    assert "Invalid API key" in view.result.text()


def test_missing_required_key_is_explained(gui, qtbot) -> None:
    view = _accounts_page(gui)
    _fill(view, "NoKey", gui.rt.sandbox.url, "")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "api_key" in view.result.text())
    assert all(a.name != "NoKey" for a in gui.rt.accounts.all())


def test_without_a_keyring_the_secret_can_be_kept_for_this_session(gui, qtbot) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        view = _accounts_page(gui)
        _fill(view, "Session", gui.rt.sandbox.url, gui.rt.sandbox.server.config.api_key)
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
        box = gui.wait_until(lambda: view.findChild(QMessageBox, "keyring_dialog"))
        assert "keyring" in box.text().lower() and "session only" in box.text()
        box.button(QMessageBox.StandardButton.Yes).click()
        gui.wait_until(lambda: "Saved 'Session'" in view.result.text())
        account = gui.rt.accounts.by_name("Session")
        assert gui.rt.secrets.session_only and "session only" in view.result.text()
        assert gui.rt.accounts.secret(account, "api_key") == gui.rt.sandbox.server.config.api_key
    finally:
        keyring.set_keyring(previous)
