"""Compose offscreen: type, press Send, watch the status cell become Delivered."""

from __future__ import annotations

from PySide6.QtCore import Qt

from smsdesk.ui.models.sent_messages_model import STATUS_COL
from smsdesk.ui.views.compose_view import ComposeView


def _status(view: ComposeView, row: int = 0) -> str:
    return view.model.index(row, STATUS_COL).data() or ""


def test_type_send_and_see_delivered(gui, qtbot) -> None:
    view = gui.window.show_page("compose")
    assert isinstance(view, ComposeView)
    qtbot.keyClicks(view.to, "07911 123456")
    qtbot.keyClicks(view.body, "Your order is ready to collect")
    gui.wait_until(lambda: "1 recipient" in view.to_status.text())
    assert "GSM-7" in view.counter.text() and "1 segment" in view.counter.text()
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1)
    gui.wait_until(lambda: _status(view) == "Delivered")
    assert view.model.index(0, 1).data() == "07911 123456"  # as people write it; +447911123456 is stored
    assert view.body.toPlainText() == ""


def test_ctrl_enter_sends(gui, qtbot) -> None:
    view = gui.window.show_page("compose")
    view.to.setText("+44 7911 123457")
    view.body.setPlainText("Reminder: dentist at 10")
    gui.wait_until(lambda: "✓" in view.to_status.text())
    view.body.setFocus()
    qtbot.keyClick(view.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    gui.wait_until(lambda: view.model.rowCount() == 1 and _status(view) == "Delivered")


def test_invalid_number_is_inline_and_writes_nothing(gui, qtbot) -> None:
    view = gui.window.show_page("compose")
    view.to.setText("07911 123456, 12345")
    view.body.setPlainText("Hello")
    gui.wait_until(lambda: "✗" in view.to_status.text())
    assert "12345" in view.to_status.text()
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.settle(0.3)
    assert "Fix the recipients" in view.feedback.text()
    assert gui.rt.sender.messages.recent(10) == []


def test_counter_names_characters_forcing_ucs2(gui) -> None:
    view = gui.window.show_page("compose")
    view.body.setPlainText("Thanks “Anna” 😀")
    assert "UCS-2" in view.counter.text()
    assert "“" in view.ucs2.text() and "😀" in view.ucs2.text()
    view.body.setPlainText("x" * 161)
    assert "GSM-7 · 2 segments" in view.counter.text()


def test_provider_refusal_shows_reason(gui, qtbot) -> None:
    gui.rt.sandbox.server.config.rate_failed = 1.0
    view = gui.window.show_page("compose")
    view.to.setText("07911 123458")
    view.body.setPlainText("This one will fail")
    gui.wait_until(lambda: "✓" in view.to_status.text())
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1 and _status(view) == "Failed")
    assert "SANDBOX-UNREACHABLE" in (view.model.index(0, 5).data() or "")


def test_a_send_the_provider_refuses_shows_the_providers_reason(gui, qtbot) -> None:

    gui.rt.sandbox.server.config.rate_400 = 1.0  # the sandbox answers the send with HTTP 400
    view = gui.window.show_page("compose")
    view.to.setText("07911 123459")
    view.body.setPlainText("Refused at the door")
    gui.wait_until(lambda: "✓" in view.to_status.text())
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1 and _status(view) in ("Rejected", "Failed"))
    error = view.model.index(0, 5).data() or ""
    assert "SANDBOX-REFUSED" in error and "sender ID" in error, error
    assert gui.rt.sandbox.server.sent == []  # refused: nothing was accepted
