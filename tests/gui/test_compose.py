"""Compose offscreen: type, press Send, watch the status cell become Delivered."""

from __future__ import annotations

from PySide6.QtCore import Qt

from smsdesk.ui.models.sent_messages_model import STATUS_COL
from smsdesk.ui.views.compose_view import ComposeView
from tests.support.typing import focus, press, replace_text, type_text


def _status(view: ComposeView, row: int = 0) -> str:
    return view.model.index(row, STATUS_COL).data() or ""


def test_type_send_and_see_delivered(gui, qtbot) -> None:
    view = gui.window.show_page("compose")
    assert isinstance(view, ComposeView)
    type_text(view.to, "07911 123456")
    type_text(view.body, "Your order is ready to collect")
    gui.wait_until(lambda: "1 recipient" in view.to_status.text())
    assert view.counter.text() == "30 characters · 1 text message · cost unknown"  # the sandbox has no price
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1)
    gui.wait_until(lambda: _status(view) == "Delivered")
    assert view.model.index(0, 1).data() == "07911 123456"  # as people write it; +447911123456 is stored
    assert view.body.toPlainText() == ""


def test_ctrl_enter_sends(gui, qtbot) -> None:
    view = gui.window.show_page("compose")
    type_text(view.to, "+44 7911 123457")
    type_text(view.body, "Reminder: dentist at 10")
    gui.wait_until(lambda: "✓" in view.to_status.text())
    press(view.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    gui.wait_until(lambda: view.model.rowCount() == 1 and _status(view) == "Delivered")


def test_invalid_number_is_inline_and_writes_nothing(gui, qtbot) -> None:
    view = gui.window.show_page("compose")
    type_text(view.to, "07911 123456, 12345")
    type_text(view.body, "Hello")
    gui.wait_until(lambda: "✗" in view.to_status.text())
    assert "12345" in view.to_status.text()
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.settle(0.3)
    assert "Fix the recipients" in view.feedback.text()
    assert gui.rt.sending.messages.recent(10) == []


def test_counter_names_characters_forcing_ucs2(gui) -> None:
    view = gui.window.show_page("compose")
    type_text(view.body, "Thanks “Anna” 😀")
    assert view.counter.text() == (
        "15 characters · 1 text message · special characters: “, ”, 😀 (uses 70-character parts) · cost unknown"
    )
    assert "UCS-2" in view.counter.toolTip()  # the technical word stays in the tooltip
    replace_text(view.body, "x" * 161)
    assert view.counter.text() == "161 characters · 2 text messages · cost unknown"
    assert "GSM-7" in view.counter.toolTip() and "2 parts" in view.counter.toolTip()


def test_provider_refusal_shows_reason(gui, qtbot) -> None:
    gui.rt.sandbox.server.config.rate_failed = 1.0
    view = gui.window.show_page("compose")
    type_text(view.to, "07911 123458")
    type_text(view.body, "This one will fail")
    gui.wait_until(lambda: "✓" in view.to_status.text())
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1 and _status(view) == "Failed")
    assert "SANDBOX-UNREACHABLE" in (view.model.index(0, 5).data() or "")


def test_a_send_the_provider_refuses_shows_the_providers_reason(gui, qtbot) -> None:

    gui.rt.sandbox.server.config.rate_400 = 1.0  # the sandbox answers the send with HTTP 400
    view = gui.window.show_page("compose")
    type_text(view.to, "07911 123459")
    type_text(view.body, "Refused at the door")
    gui.wait_until(lambda: "✓" in view.to_status.text())
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1 and _status(view) in ("Rejected", "Failed"))
    error = view.model.index(0, 5).data() or ""
    assert "SANDBOX-REFUSED" in error and "sender ID" in error, error
    assert gui.rt.sandbox.server.sent == []  # refused: nothing was accepted


def test_the_cost_of_a_message_shows_under_it_once_the_account_has_a_price(gui) -> None:
    rt = gui.rt
    acct = rt.accounts.by_name("Sandbox")
    view = gui.window.show_page("compose")
    type_text(view.to, "07911 123456, 07911 123457")
    type_text(view.body, "x" * 161)  # two parts
    gui.wait_until(lambda: view.counter.text() == "161 characters · 2 text messages · cost unknown")
    gui.run(rt.accounts.update(acct, {**acct.settings, "price_per_segment": "0.04", "currency": "GBP"}))
    gui.wait_until(lambda: view.counter.text().endswith("· about £0.16 for 2 people"))
    press(view.body, Qt.Key.Key_Backspace)
    assert view.counter.text() == "160 characters · 1 text message · about £0.08 for 2 people"


def test_a_message_typed_and_not_sent_comes_back_at_the_next_start(gui, qtbot) -> None:
    """Nothing typed is lost: closing the window keeps Compose's message on this computer, the
    next window puts it back and says so, and once sent it is gone for good."""
    from smsdesk.app import build_window

    view = gui.window.show_page("compose")
    type_text(view.to, "07911 123458")
    type_text(view.body, "Your glasses are ready")
    gui.window.close()
    kept = gui.rt.paths.home / "unsent-message.json"
    assert kept.exists()

    window, ctx = build_window(gui.rt)
    try:
        again = window.page("compose")
        assert isinstance(again, ComposeView)
        assert again.to.text() == "07911 123458" and again.body.toPlainText() == "Your glasses are ready"
        assert again.feedback.text().endswith("was not sent; it is back here.")
        window.show()
        focus(again.body)
        press(again.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        gui.wait_until(lambda: again.feedback.text().startswith("Queued 1 message"))
        assert not kept.exists()
        window.close()  # the boxes are empty: nothing to keep
        assert not kept.exists()
    finally:
        ctx.bridge.close()


def test_the_account_box_is_filled_right_after_the_first_paint_and_typing_waits_for_nothing(gui, qtbot) -> None:
    """smsdesk-gui's start (app.main): the window is painted with the Account box still empty
    (reading it imports the accounts service), the keyboard already in To; the box is filled
    once the paint is on screen, and what was typed meanwhile stays."""
    from smsdesk.app import build_window, paint_first
    from tests.gui.conftest import drain

    window, ctx = build_window(gui.rt, services_later=True)  # as app.main builds it
    try:
        window.focus_compose()
        paint_first(window)
        view = window.pages["compose"]
        assert isinstance(view, ComposeView)
        assert view.account.count() == 0 and view.to.hasFocus()
        type_text(view.to, "07911 123456")
        window.painted()
        assert view.account.currentText() == "Sandbox  (Sandbox)"
        assert view.sender_id.text() == "smsdesk"  # the account's sender, as after any start
        assert view.to.text() == "07911 123456"
        type_text(view.body, "Hi")
        assert view.counter.text() == "2 characters · 1 text message · cost unknown"
    finally:
        window.close()
        ctx.bridge.close()
        window.deleteLater()
        drain(gui.loop)
