"""Settings -> Accounts offscreen: add a real-provider account, Test it, send through it, remove it.

The accounts speak each provider's wire format to the running sandbox (its base URL, filled by
"Use the built-in sandbox" where a person would use it), so Test makes a real authenticated
call over loopback HTTP and sends reach Delivered through each provider's own receipt path.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from smsdesk.ui.models.sent_messages_model import STATUS_COL
from smsdesk.ui.views.accounts_view import AccountsView
from smsdesk.ui.views.compose_view import ComposeView
from tests.support.typing import focus, press, replace_text, type_text


def _accounts_page(gui) -> AccountsView:
    settings = gui.window.show_page("settings")
    settings.show_tab("accounts")
    view = settings.by_key["accounts"]
    assert isinstance(view, AccountsView)
    return view


def _fill(view: AccountsView, name: str, base_url: str, key: str) -> None:
    view.new_account()
    view.provider.setCurrentIndex(view.provider.findData("puresms"))
    replace_text(view.name, name)
    replace_text(view.inputs["base_url"], base_url)
    replace_text(view.inputs["sender"], "MyShop")
    replace_text(view.inputs["api_key"], key)
    replace_text(view.inputs["webhook_secret"], "whsec-test")


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

    [msg] = gui.run(gui.rt.sending.send(Draft(account.id, ["07911 123456"], "via the Shop account")))
    gui.wait_until(lambda: gui.rt.sending.messages.get(msg.id).status == Status.SENT)
    assert gui.rt.sandbox.server.sent[-1].sender == "MyShop"
    # Its receipts are posted (to the sandbox's own webhook: Shop uses the sandbox's key) before
    # the test ends: one cut off at teardown leaves the receiver's socket open.
    gui.wait_until(lambda: gui.rt.sandbox.server.idle)

    view.confirm_remove()
    box = gui.wait_until(
        lambda: next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
    )
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


# ---- every provider against the built-in sandbox ---------------------------------------------------
def _compose_send(gui, qtbot, account_id: int, text: str) -> ComposeView:
    compose = gui.window.show_page("compose")
    assert isinstance(compose, ComposeView)
    gui.wait_until(lambda: compose.account.findData(account_id) >= 0)
    compose.account.setCurrentIndex(compose.account.findData(account_id))
    type_text(compose.to, "07911 123456")
    type_text(compose.body, text)
    gui.wait_until(lambda: "✓" in compose.to_status.text())
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    return compose


@pytest.mark.parametrize("provider", ["puresms", "mobivate", "send2", "channel"])
def test_each_provider_can_be_pointed_at_the_sandbox_tested_and_sent_through(
    gui, qtbot, memory_keyring, provider: str
) -> None:
    gui.rt.polling.first_delay = 0.2  # Send-2 reports delivery by polling only
    cfg = gui.rt.sandbox.server.config
    view = _accounts_page(gui)
    view.new_account()
    view.provider.setCurrentIndex(view.provider.findData(provider))
    assert view.sandbox_button.isVisible()
    replace_text(view.name, f"Demo {provider}")
    if provider != "send2":
        replace_text(view.inputs["sender"], "MyShop")
    qtbot.mouseClick(view.sandbox_button, Qt.MouseButton.LeftButton)
    path = "" if provider == "puresms" else f"/{provider}"  # PureSMS's format is at the root
    assert view.inputs["base_url"].text() == gui.rt.sandbox.url + path
    key = view.inputs["api_key"].text()  # a key of this account's own, issued by the sandbox
    assert key.startswith("sbx_") and key != cfg.api_key
    assert "Save, then Test" in view.result.text()
    if provider == "send2":
        assert view.inputs["sender"].text().isdigit()  # Send-2 sender IDs are numbers
    else:
        assert view.inputs["sender"].text() == "MyShop"  # a person's own sender ID is kept
    if provider == "channel":
        assert view.inputs["url"].text() == "/send" and view.inputs["jwt_secret"].text()

    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: f"Saved 'Demo {provider}'" in view.result.text())
    account = gui.rt.accounts.by_name(f"Demo {provider}")
    assert key in memory_keyring.store.values()  # the key went to the keyring ...
    for path in gui.rt.paths.home.rglob("*"):  # ... and nowhere on disk
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert "Uses the built-in sandbox" in view.sandbox_note.text()

    qtbot.mouseClick(view.test_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.result.text().startswith(("✓", "✗")))
    assert view.result.text().startswith("✓"), view.result.text()

    compose = _compose_send(gui, qtbot, account.id, f"Hello through {provider}")
    gui.wait_until(lambda: compose.model.rowCount() == 1)
    gui.wait_until(lambda: compose.model.index(0, STATUS_COL).data() == "Delivered", timeout=20)
    [msg] = gui.rt.sending.messages.recent(5, account_id=account.id)
    assert msg.status == Status.DELIVERED
    sent = gui.rt.sandbox.server.sent[-1]
    assert (sent.wire, sent.content) == (provider, f"Hello through {provider}")
    # (PureSMS included: its receipts come to this account's own webhook, signed with its secret.)


def test_channel_reports_are_signed_with_the_accounts_own_jwt_secret(gui, qtbot, memory_keyring) -> None:
    cfg = gui.rt.sandbox.server.config
    cfg.channel_jwt_secret = "the-sandbox-wide-secret"  # must not be what signs this account's reports
    view = _accounts_page(gui)
    view.new_account()
    view.provider.setCurrentIndex(view.provider.findData("channel"))
    replace_text(view.name, "Signed")
    replace_text(view.inputs["sender"], "MyShop")
    replace_text(view.inputs["jwt_secret"], "my-own-jwt-secret-of-at-least-32-bytes")
    qtbot.mouseClick(view.sandbox_button, Qt.MouseButton.LeftButton)
    assert view.inputs["jwt_secret"].text() == "my-own-jwt-secret-of-at-least-32-bytes"  # a typed secret is kept
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Saved 'Signed'" in view.result.text())
    account = gui.rt.accounts.by_name("Signed")
    compose = _compose_send(gui, qtbot, account.id, "Signed report please")
    gui.wait_until(lambda: compose.model.rowCount() == 1)
    gui.wait_until(lambda: compose.model.index(0, STATUS_COL).data() == "Delivered", timeout=20)


def test_the_sandbox_button_is_hidden_when_no_sandbox_runs(gui, qtbot) -> None:
    view = _accounts_page(gui)
    link = gui.rt.accounts.sandbox
    gui.rt.accounts.attach_sandbox(None)
    try:
        view.new_account()
        view.provider.setCurrentIndex(view.provider.findData("mobivate"))
        assert not view.sandbox_button.isVisible()
        view.use_sandbox()  # e.g. a shortcut: explained, nothing filled
        assert "sandbox is not running" in view.result.text() and view.inputs["api_key"].text() == ""
    finally:
        gui.rt.accounts.attach_sandbox(link)


# ---- balance -------------------------------------------------------------------------------------------
def _add_send2(gui, qtbot, view: AccountsView, name: str, key: str | None = None) -> None:
    view.new_account()
    view.provider.setCurrentIndex(view.provider.findData("send2"))
    replace_text(view.name, name)
    qtbot.mouseClick(view.sandbox_button, Qt.MouseButton.LeftButton)
    if key is not None:
        replace_text(view.inputs["api_key"], key)
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: f"Saved '{name}'" in view.result.text())


def test_selecting_a_send2_account_shows_its_balance(gui, qtbot, memory_keyring) -> None:
    gui.rt.sandbox.server.wires["send2"].balance = 4321
    view = _accounts_page(gui)
    _add_send2(gui, qtbot, view, "Kenya")
    gui.wait_until(lambda: view.balance.text() == "Balance: 4,321 units")
    assert view.balance.isVisible()
    view.list.setCurrentRow(0)  # the Sandbox account has no balance call
    gui.wait_until(lambda: view.current is not None and view.current.name == "Sandbox")
    assert not view.balance.isVisible()


def test_a_balance_that_cannot_be_read_says_why_and_what_to_do(gui, qtbot, memory_keyring) -> None:
    view = _accounts_page(gui)
    _add_send2(gui, qtbot, view, "Wrong key", key="not-the-key")
    gui.wait_until(lambda: view.balance.text().startswith("Balance unavailable"))
    assert "Unauthenticated" in view.balance.text() and "press Test" in view.balance.text()


def test_a_key_the_sandbox_did_not_issue_is_refused_and_a_replaced_one_stops_working(gui) -> None:
    rt = gui.rt
    cfg = rt.sandbox.server.config
    values = rt.accounts.sandbox_values("mobivate")
    account = gui.run(rt.accounts.add("Demo", "mobivate", {**values, "sender": "Bistro"}))
    assert cfg.key_ok(values["api_key"])
    assert not cfg.key_ok("not-the-key") and not cfg.bearer_ok("Bearer wrong")
    # A second press of the button and Save: the old key is no longer accepted.
    again = rt.accounts.sandbox_values("mobivate")
    gui.run(rt.accounts.update(account, {"api_key": again["api_key"]}))
    assert cfg.key_ok(again["api_key"]) and not cfg.key_ok(values["api_key"])
    gui.run(rt.accounts.remove(rt.accounts.get(account.id)))
    assert not cfg.key_ok(again["api_key"])


def test_prices_by_country_are_typed_into_the_small_table_and_used(gui, qtbot) -> None:
    view = _accounts_page(gui)
    view.list.setCurrentRow(0)
    gui.wait_until(lambda: view.current is not None and view.current.name == "Sandbox")
    replace_text(view.inputs["price_per_segment"], "0.04")
    replace_text(view.inputs["currency"], "GBP")
    qtbot.mouseClick(view.form.advanced.toggle, Qt.MouseButton.LeftButton)  # the table is under Advanced
    table = view.inputs["prices_by_country"].table
    assert table.isVisible()
    for column, text in enumerate(("ke", "0.80")):
        table.setCurrentCell(0, column)
        focus(table)
        type_text(table, text)
        press(table, Qt.Key.Key_Return)
    assert table.rowCount() == 2  # a new empty row to add the next country
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Saved 'Sandbox'" in view.result.text())
    settings = gui.rt.accounts.by_name("Sandbox").settings
    assert settings["prices_by_country"] == "KE=0.80"

    compose = gui.window.show_page("compose")
    type_text(compose.to, "+254 722 000000, 07911 123456")
    type_text(compose.body, "Hello")
    gui.wait_until(lambda: compose.counter.text().endswith("about £0.84 for 2 people"))  # 0.80 + 0.04


def test_a_price_table_that_does_not_read_is_refused_with_the_reason(gui, qtbot) -> None:
    view = _accounts_page(gui)
    view.list.setCurrentRow(0)
    gui.wait_until(lambda: view.current is not None and view.current.name == "Sandbox")
    qtbot.mouseClick(view.form.advanced.toggle, Qt.MouseButton.LeftButton)
    table = view.inputs["prices_by_country"].table
    for column, text in enumerate(("KE", "cheap")):
        table.setCurrentCell(0, column)
        focus(table)
        type_text(table, text)
        press(table, Qt.Key.Key_Return)
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "The price for KE, 'cheap', is not a number." in view.result.text())
    assert "prices_by_country" not in gui.rt.accounts.by_name("Sandbox").settings


def test_a_balance_below_the_warning_level_is_announced(gui, qtbot, memory_keyring) -> None:
    gui.rt.sandbox.server.wires["send2"].balance = 4321
    view = _accounts_page(gui)
    view.new_account()
    view.provider.setCurrentIndex(view.provider.findData("send2"))
    replace_text(view.name, "Kenya")
    qtbot.mouseClick(view.sandbox_button, Qt.MouseButton.LeftButton)
    replace_text(view.inputs["low_balance"], "5000")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Saved 'Kenya'" in view.result.text())
    gui.wait_until(
        lambda: view.balance.text() == "Balance: 4,321 units: below your warning level of 5,000, top it up soon"
    )
    gui.run(gui.rt.balances.check_all())  # what the watch does every few minutes and after sends
    notice = gui.window.balance_notice
    gui.wait_until(notice.isVisible)
    assert notice.text() == (
        "Kenya's balance is 4,321 units, below your warning level of 5,000: top it up with Send-2 before sends "
        "start to fail."
    )
    gui.rt.sandbox.server.wires["send2"].balance = 9000  # topped up
    gui.run(gui.rt.balances.check_all())
    gui.wait_until(lambda: not notice.isVisible())


def test_sends_ask_for_a_balance_check_only_when_an_account_has_a_warning_level(gui, qtbot, memory_keyring) -> None:
    from smsdesk.domain.events import Changes

    watch = gui.rt.balances
    watch._kick.clear()
    watch.on_changes(Changes(message_ids={1}))
    assert not watch._kick.is_set()  # nobody asked for warnings: sends cost no balance call
    view = _accounts_page(gui)
    _add_send2(gui, qtbot, view, "Kenya")
    gui.run(gui.rt.accounts.update(gui.rt.accounts.by_name("Kenya"), {"low_balance": "100"}))
    watch.on_changes(Changes(message_ids={2}))
    assert watch._kick.is_set()
