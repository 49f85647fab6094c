"""Compose asks before many messages go out, offers to skip opted-out numbers, and empties the
To box after a send. Typed with real key events, answered by keyboard and mouse."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from smsdesk.storage import optouts as opt_store
from smsdesk.ui.views.compose_view import ComposeView
from smsdesk.ui.views.general_settings_view import GeneralSettingsView
from smsdesk.ui.views.settings_view import SettingsView

FIVE = "07911 123450, 07911 123451, 07911 123452, 07911 123453, 07911 123454"


def _compose(gui) -> ComposeView:
    view = gui.window.show_page("compose")
    assert isinstance(view, ComposeView)
    return view


def _type(qtbot, gui, view: ComposeView, to: str, text: str) -> None:
    view.to.setFocus()
    qtbot.keyClicks(view.to, to)
    view.body.setFocus()
    qtbot.keyClicks(view.body, text)
    gui.wait_until(lambda: "✓" in view.to_status.text() or "✗" in view.to_status.text())


def _ctrl_enter(qtbot, view: ComposeView) -> None:
    qtbot.keyClick(view.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def _back_to_window(gui) -> None:
    # A desktop's window manager activates the main window again when the question closes;
    # the offscreen platform leaves no window active, and Ctrl+Enter needs an active window.
    gui.window.activateWindow()
    gui.wait_until(gui.window.isActiveWindow)


def _confirmation(gui, view: ComposeView) -> QMessageBox:
    return gui.wait_until(lambda: (box := view.findChild(QMessageBox, "confirm_send")) and box.isVisible() and box)


def test_ctrl_enter_to_five_asks_with_count_segments_and_cost_then_empties_to(gui, qtbot) -> None:
    sandbox = gui.rt.accounts.by_name("Sandbox")
    gui.run(gui.rt.accounts.update(sandbox, {"price_per_segment": "0.04"}))
    view = _compose(gui)
    _type(qtbot, gui, view, FIVE, "Your appointment is tomorrow. " * 6)  # 180 characters: 2 segments
    _ctrl_enter(qtbot, view)
    box = _confirmation(gui, view)
    assert box.text() == "Send this message to 5 recipients?"
    assert "5 messages · 2 segments each, 10 in all\nEstimated cost 0.40 (0.04 per segment)." in box.informativeText()
    assert gui.rt.sending.messages.recent(10) == []  # nothing is written while it asks
    _ctrl_enter(qtbot, view)  # a second Ctrl+Enter does not open a second question
    assert len([b for b in view.findChildren(QMessageBox, "confirm_send") if b.isVisible()]) == 1

    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter: the default button, "Send 5 messages"
    gui.wait_until(lambda: view.model.rowCount() == 5)
    assert view.to.text() == ""  # the numbers are in the sent list now, not in To
    assert "Queued 5 messages" in view.feedback.text()

    # Send again with a new text: there is nobody to send it to, so nothing goes twice.
    _back_to_window(gui)
    view.body.setFocus()
    qtbot.keyClicks(view.body, "Sorry, one more thing")
    _ctrl_enter(qtbot, view)
    gui.settle(0.3)
    assert (
        view.findChild(QMessageBox, "confirm_send") is None
        or not view.findChild(QMessageBox, "confirm_send").isVisible()
    )
    assert "Fix the recipients" in view.feedback.text()
    assert len(gui.rt.sending.messages.recent(20)) == 5


def test_cancel_sends_nothing_and_an_account_without_price_says_cost_unknown(gui, qtbot) -> None:
    view = _compose(gui)
    _type(qtbot, gui, view, FIVE, "Closed on Monday")
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    box = _confirmation(gui, view)
    info = box.informativeText()
    assert "5 messages · 1 segment each, 5 in all\nCost unknown: this account has no price per segment" in info
    assert "0.00" not in info
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    gui.wait_until(lambda: view.feedback.text() == "Not sent.")
    gui.settle(0.2)
    assert gui.rt.sending.messages.recent(10) == []
    assert view.to.text() == FIVE and view.body.toPlainText() == "Closed on Monday"  # kept to edit


def test_fewer_recipients_than_the_threshold_send_at_once(gui, qtbot) -> None:
    view = _compose(gui)
    _type(qtbot, gui, view, "07911 123450, 07911 123451", "See you soon")
    _ctrl_enter(qtbot, view)
    gui.wait_until(lambda: view.model.rowCount() == 2)
    assert view.findChild(QMessageBox, "confirm_send") is None
    assert view.to.text() == ""


def test_the_threshold_is_a_general_setting(gui, qtbot) -> None:
    settings = gui.window.show_page("settings")
    assert isinstance(settings, SettingsView)
    settings.show_tab("general")
    general = settings.by_key["general"]
    assert isinstance(general, GeneralSettingsView)
    spin = general.confirm
    assert spin.value() == 5
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, "2")
    save = next(b for b in general.findChildren(QPushButton) if b.text() == "Save")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert gui.rt.settings.confirm_send_threshold == 2
    assert "confirm_send_threshold = 2" in gui.rt.paths.settings.read_text(encoding="utf-8")

    view = _compose(gui)
    _type(qtbot, gui, view, "07911 123450, 07911 123451", "See you soon")
    _ctrl_enter(qtbot, view)
    box = _confirmation(gui, view)
    assert box.text() == "Send this message to 2 recipients?"
    qtbot.mouseClick(box.cancel_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.feedback.text() == "Not sent.")


def test_opted_out_numbers_are_skipped_by_name_and_reason_and_the_rest_sent(gui, qtbot) -> None:
    gui.run(gui.rt.contacts.set_name("07911 123452", "Ann Lee"))
    gui.rt.store.db.write_sync(lambda c: opt_store.add(c, "+447911123451", "reply"))
    gui.rt.store.db.write_sync(lambda c: opt_store.add(c, "+447911123452", "manual"))
    view = _compose(gui)
    _type(qtbot, gui, view, "07911 123450, 07911 123451, 07911 123452", "Sale starts Friday")
    gui.wait_until(lambda: "will be skipped" in view.to_status.text())
    assert "07911 123451" in view.to_status.text() and "Ann Lee (07911 123452)" in view.to_status.text()
    _ctrl_enter(qtbot, view)  # below the threshold, yet it asks: two numbers will be left out
    box = _confirmation(gui, view)
    assert box.text() == "2 numbers you typed opted out. Send to the other 1 recipient and skip them?"
    info = box.informativeText()
    assert "• 07911 123451: replied STOP on " in info
    assert "• Ann Lee (07911 123452): added to the opt-out list by hand on " in info
    assert box.send_button.text() == "Send to 1"
    qtbot.mouseClick(box.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1)
    gui.settle(0.2)
    assert [m.remote for m in gui.rt.sending.messages.recent(10)] == ["+447911123450"]
    assert "Skipped 2 opted-out numbers" in view.feedback.text()


def test_when_every_typed_number_opted_out_send_says_so(gui, qtbot) -> None:
    gui.rt.store.db.write_sync(lambda c: opt_store.add(c, "+447911123451", "reply"))
    view = _compose(gui)
    _type(qtbot, gui, view, "07911 123451", "Hello")
    assert "07911 123451 has opted out (replied STOP on " in view.to_status.text()
    _ctrl_enter(qtbot, view)
    gui.settle(0.2)
    assert view.findChild(QMessageBox, "confirm_send") is None
    assert "Fix the recipients" in view.feedback.text()
    assert gui.rt.sending.messages.recent(10) == []


def test_a_send_over_the_monthly_limit_asks_with_the_reason(gui, qtbot) -> None:
    sandbox = gui.rt.accounts.by_name("Sandbox")
    limited = {"price_per_segment": "0.10", "currency": "GBP", "monthly_limit": "0.05"}
    gui.run(gui.rt.accounts.update(sandbox, limited))
    view = _compose(gui)
    _type(qtbot, gui, view, "07911 123456", "Your table is ready")
    _ctrl_enter(qtbot, view)
    box = _confirmation(gui, view)  # one recipient, yet it asks
    assert box.informativeText().startswith(
        "Over the spending limit: This would take Sandbox's spending this month to £0.10, over its monthly "
        "limit of £0.05 (£0.00 spent so far)."
    )
    send = next(b for b in box.findChildren(QPushButton) if b.objectName() == "confirm_send_button")
    assert send.text() == "Send 1 message anyway"
    qtbot.mouseClick(send, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1)
    gui.wait_until(lambda: all(m.status.is_final for m in gui.rt.sending.messages.recent(10)))
