"""Numbers as people write them, and a contact's name wherever a number is shown: the Compose
sent list, the Scheduled list, the Conversations list and the thread header. What is stored
(and what the CLI's --json prints) stays +E.164."""

from __future__ import annotations

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import QPushButton

from smsdesk.ui.models.schedule_model import RECIPIENTS_COL
from smsdesk.ui.models.sent_messages_model import TO_COL
from smsdesk.ui.views.compose_view import ComposeView
from smsdesk.ui.views.conversations_view import ConversationsView
from smsdesk.ui.views.scheduled_view import ScheduledView
from smsdesk.ui.views.settings_view import SettingsView

ANN = "+447911123456"
KENYA = "+254722000000"
BOB = "+447911123457"


def _to_column(view: ComposeView) -> dict[str, str]:
    """What the To cells show, by the number stored behind each row."""
    out = {}
    for row in range(view.model.rowCount()):
        msg = view.model.message_at(row)
        out[msg.remote] = view.model.index(row, TO_COL).data()
    return out


def _send(gui, qtbot, view: ComposeView, to: str, text: str) -> None:
    view.to.setFocus()
    qtbot.keyClicks(view.to, to)
    view.body.setFocus()
    qtbot.keyClicks(view.body, text)
    gui.wait_until(lambda: "✓" in view.to_status.text())
    before = view.model.rowCount()
    qtbot.keyClick(view.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    gui.wait_until(lambda: view.model.rowCount() > before)


def test_sent_list_and_conversations_show_names_and_numbers_as_people_write_them(gui, qtbot) -> None:
    gui.run(gui.rt.contacts.set_name("07911 123456", "Ann Lee"))
    compose = gui.window.show_page("compose")
    assert isinstance(compose, ComposeView)
    compose.to.setFocus()
    qtbot.keyClicks(compose.to, "07911 123456, +254 722 000 000, 07911123457")
    gui.wait_until(lambda: "✓" in compose.to_status.text())
    assert "Ann Lee (07911 123456), +254 722 000000, 07911 123457" in compose.to_status.text()
    compose.body.setFocus()
    qtbot.keyClicks(compose.body, "Your order is ready")
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: compose.model.rowCount() == 3)

    assert _to_column(compose) == {ANN: "Ann Lee", KENYA: "+254 722 000000", BOB: "07911 123457"}
    ann_row = next(r for r in range(3) if compose.model.message_at(r).remote == ANN)
    assert compose.model.index(ann_row, TO_COL).data(Qt.ItemDataRole.ToolTipRole) == "Ann Lee (07911 123456)"
    assert {m.remote for m in gui.rt.sending.messages.recent(10)} == {ANN, KENYA, BOB}  # stored as +E.164

    # Naming a number shows at once in the sent list.
    gui.run(gui.rt.contacts.set_name(BOB, "Bob Marsh"))
    gui.wait_until(lambda: _to_column(compose)[BOB] == "Bob Marsh")

    page = gui.window.show_page("conversations")
    assert isinstance(page, ConversationsView)
    gui.wait_until(lambda: page.list_model.rowCount() == 3)
    shown = {page.list_model.conversation_at(r).remote: page.list_model.index(r).data() for r in range(3)}
    assert shown == {ANN: "Ann Lee", KENYA: "+254 722 000000", BOB: "Bob Marsh"}
    tips = {
        page.list_model.conversation_at(r).remote: page.list_model.index(r).data(Qt.ItemDataRole.ToolTipRole)
        for r in range(3)
    }
    assert tips[ANN].startswith("Ann Lee\n07911 123456 · Sandbox")
    assert tips[KENYA].startswith("+254 722 000000 · Sandbox")

    # The thread header: the name, and the number under it.
    for remote, title, subtitle in ((ANN, "Ann Lee", "07911 123456 · Sandbox"), (KENYA, "+254 722 000000", "Sandbox")):
        row = next(r for r in range(3) if page.list_model.conversation_at(r).remote == remote)
        rect = page.list.visualRect(page.list_model.index(row))
        qtbot.mouseClick(page.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        gui.wait_until(lambda t=title: page.title.text() == t)
        assert page.subtitle.text() == subtitle


def test_the_default_country_decides_which_numbers_are_national(gui, qtbot) -> None:
    compose = gui.window.show_page("compose")
    _send(gui, qtbot, compose, "+254 722 000 000, 07911 123457", "Hello")
    gui.wait_until(lambda: compose.model.rowCount() == 2)
    assert _to_column(compose) == {KENYA: "+254 722 000000", BOB: "07911 123457"}

    settings = gui.window.show_page("settings")
    assert isinstance(settings, SettingsView)
    settings.show_tab("general")
    general = settings.by_key["general"]
    region = general.region
    region.setFocus()
    qtbot.keyClicks(region, "KE")  # a combo box jumps to the item typed
    assert region.currentData() == "KE"
    qtbot.mouseClick(
        next(b for b in general.findChildren(QPushButton) if b.text() == "Save"), Qt.MouseButton.LeftButton
    )
    # Back on Compose (a hidden page catches up when it shows), the numbers follow the new country.
    qtbot.keyClick(gui.window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert gui.window.stack.currentWidget() is compose
    gui.wait_until(lambda: _to_column(compose) == {KENYA: "0722 000000", BOB: "+44 7911 123457"})


def test_scheduled_list_names_the_first_recipients(gui, qtbot) -> None:
    gui.run(gui.rt.contacts.set_name("07911 123456", "Ann Lee"))
    gui.rt.scheduler.default_zone = lambda: "Europe/London"
    view = gui.window.show_page("scheduled")
    assert isinstance(view, ScheduledView)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    dialog.to.setFocus()
    qtbot.keyClicks(dialog.to, "07911 123456, 07911 123457, 07911 123458, 07911 123459, +254 722 000 000")
    dialog.body.setFocus()
    qtbot.keyClicks(dialog.body, "Your table is booked for 7pm")
    dialog.when.setDateTime(QDateTime(QDate.currentDate().addDays(1), QTime(9, 0)))
    dialog.zone.setCurrentText("Europe/London")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1 and view.dialog is None)
    cell = view.model.index(0, RECIPIENTS_COL)
    assert cell.data() == "Ann Lee, 07911 123457 +3 more"
    assert cell.data(Qt.ItemDataRole.ToolTipRole) == (
        "Ann Lee (07911 123456)\n07911 123457\n07911 123458\n07911 123459\n+254 722 000000"
    )

    # Edited down to two recipients: both named, nothing more to count.
    view.select(view.model.item_at(0).id)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    dialog.to.setFocus()
    qtbot.keyClick(dialog.to, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.to, "+254 722 000 000, 07911 123456")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.index(0, RECIPIENTS_COL).data() == "+254 722 000000, Ann Lee")
