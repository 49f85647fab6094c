"""Saved templates offscreen: made on the Templates page by typing, previewed for a contact,
duplicated and deleted; inserted as a quick reply (filled in for that person) and in Compose
(a text with merge fields goes through Bulk send, personalised)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from smsdesk.domain.contacts import ContactDraft, DraftNumber
from smsdesk.services.bulk_send_flow import Step
from smsdesk.services.send import Draft
from smsdesk.ui.views.templates_view import TemplatesView
from smsdesk.ui.widgets.template_picker import TemplatePicker
from tests.support.typing import focus, press, type_text

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    yield
    gc.collect()


def _ann(gui) -> None:
    draft = ContactDraft(name="Ann Lee", given_name="Ann", numbers=(DraftNumber("07911 123456"),))
    gui.run(gui.rt.contacts.add(draft))


def _page(gui) -> TemplatesView:
    press(gui.window.nav, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)
    page = gui.window.pages.get("templates")
    assert isinstance(page, TemplatesView) and gui.window.stack.currentWidget() is page
    return page


def test_make_preview_duplicate_and_delete_a_template(gui) -> None:
    _ann(gui)
    page = _page(gui)
    type_text(page.name, "Reminder\t")
    type_text(page.category, "Appointments\t")
    type_text(page.body, "Hi {{first_name|there}}, see you tomorrow 💇")
    assert page.counter.text()  # the same counter as Compose
    press(page.body, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    gui.wait_until(lambda: page.names() == ["Reminder"])
    assert page.feedback.text() == "Saved 'Reminder'."
    assert gui.rt.templates.by_name("Reminder").body == "Hi {{first_name|there}}, see you tomorrow 💇"

    type_text(page.preview_for, "ann")
    gui.wait_until(lambda: page.preview.text() == "Ann Lee gets: Hi Ann, see you tomorrow 💇")

    QTest.mouseClick(page.duplicate_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: page.names() == ["Reminder", "Reminder (copy)"])
    QTest.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    box = gui.wait_until(lambda: page.findChild(QMessageBox, "confirm_delete_template"))
    assert "Reminder (copy)" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    gui.wait_until(lambda: page.names() == ["Reminder"])
    assert page.feedback.text() == "Deleted 'Reminder (copy)'."


def test_a_template_naming_a_field_nobody_has_is_flagged_in_the_preview(gui) -> None:
    _ann(gui)
    page = _page(gui)
    type_text(page.body, "Your table is at {{table}}")
    type_text(page.preview_for, "ann")
    gui.wait_until(lambda: page.preview.text().startswith("Ann Lee has no table"))


def test_a_quick_reply_is_filled_in_for_the_person_and_sent(gui) -> None:
    _ann(gui)
    gui.run(gui.rt.templates.add("Thanks", "Quick replies", "Thanks {{first_name|there}}, see you soon"))
    gui.run(gui.rt.templates.add("Running late", "Quick replies", "Running 10 minutes late, sorry!"))
    acc = gui.rt.accounts.by_name("Sandbox")
    gui.run(gui.rt.sending.send(Draft(acc.id, ["07911 123456"], "Your table is booked")))
    conv = gui.wait_until(lambda: gui.rt.conversations.find(acc.id, "+447911123456"))
    page = gui.window.show_page("conversations")
    page.open_conversation(conv.id)
    focus(page.reply)
    press(page.reply, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    picker = gui.wait_until(lambda: page.findChild(TemplatePicker))
    assert picker.names() == ["Running late", "Thanks"]
    type_text(picker.search, "thank")
    assert picker.names() == ["Thanks"]
    press(picker.search, Qt.Key.Key_Return)
    assert page.reply.toPlainText() == "Thanks Ann, see you soon"
    focus(page.reply)  # offscreen, the window is not made active again when the picker closes
    press(page.reply, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    gui.wait_until(lambda: any(s.content == "Thanks Ann, see you soon" for s in gui.rt.sandbox.server.sent))
    gui.wait_until(lambda: _all_final(gui))  # its receipt is in: nothing on the wire at the end


def test_a_template_in_compose_is_personalised_through_bulk_send(gui) -> None:
    _ann(gui)
    gui.run(gui.rt.templates.add("Reminder", "", "Hi {{first_name|there}}, see you tomorrow"))
    compose = gui.window.show_page("compose")
    type_text(compose.to, "Ann Lee")
    focus(compose.body)
    press(compose.body, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    picker = gui.wait_until(lambda: compose.findChild(TemplatePicker))
    press(picker.search, Qt.Key.Key_Return)
    assert compose.body.toPlainText() == "Hi {{first_name|there}}, see you tomorrow"
    focus(compose.body)
    press(compose.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    w = gui.window.pages["bulk"].wizard
    gui.wait_until(lambda: w.currentId() == Step.VALIDATION and not w.busy)
    w.next()
    msg = w.page(Step.MESSAGE)
    gui.wait_until(lambda: w.currentId() == Step.MESSAGE and msg.model.rowCount() == 1 and not w.busy)
    assert msg.model.index(0, 2).data() == "Hi Ann, see you tomorrow"


def _all_final(gui) -> bool:
    """Every message sent has its final status (its receipt is in): nothing is still on the wire
    when the test ends and the receiver stops."""
    return all(m.status.is_final for m in gui.rt.sending.recent_outgoing(50))


def test_a_template_is_inserted_in_the_bulk_wizards_message_step(gui) -> None:
    gui.run(gui.rt.templates.add("Greeting", "", "Hallo {{first_name|du}}, bis morgen"))
    view = gui.window.show_page("bulk")
    w = view.wizard
    file_page = w.page(Step.FILE)
    type_text(file_page.path, str(DATA / "csv/semicolon_cp1252.csv"))
    QTest.mouseClick(file_page.load_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.state.table is not None and not w.busy)
    for step in (Step.MAPPING, Step.VALIDATION, Step.MESSAGE):
        gui.wait_until(lambda: w.button(w.WizardButton.NextButton).isEnabled())
        w.next()
        gui.wait_until(lambda step=step: w.currentId() == step)
    msg = w.page(Step.MESSAGE)
    QTest.mouseClick(msg.template_button, Qt.MouseButton.LeftButton)
    picker = gui.wait_until(lambda: msg.findChild(TemplatePicker))
    assert picker.names() == ["Greeting"]
    press(picker.search, Qt.Key.Key_Return)
    assert msg.template.toPlainText() == "Hallo {{first_name|du}}, bis morgen"
    gui.wait_until(lambda: msg.model.rowCount() == 3 and not w.busy, timeout=10)
    assert msg.model.index(0, 2).data() == "Hallo Jürgen, bis morgen"
