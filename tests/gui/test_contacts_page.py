"""Contacts page offscreen: find by typing, add through the form, delete with undo, groups,
merge, message, import and export. Everything is typed and clicked as a person would, and
read back from what the page shows."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox

from smsdesk.domain.contacts import ContactDraft, DraftNumber
from smsdesk.ui.models.contacts_model import NAME_COL, NUMBER_COL
from smsdesk.ui.views.contacts.editor import ContactDialog
from smsdesk.ui.views.contacts.view import ContactsView
from tests.support.typing import focus, press, replace_text, type_text


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    yield
    gc.collect()


def _page(gui) -> ContactsView:
    press(gui.window.nav, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)  # the page's shortcut
    page = gui.window.pages.get("contacts")
    assert isinstance(page, ContactsView) and gui.window.stack.currentWidget() is page
    return page


def _add(gui, name: str, number: str, tags: tuple[str, ...] = ()) -> int:
    saved = gui.run(gui.rt.contacts.add(ContactDraft(name=name, numbers=(DraftNumber(number),), tags=tags)))
    return int(saved.contact_id)


def _names(page: ContactsView) -> list[str]:
    m = page.model
    return [m.index(r, NAME_COL).data() for r in range(m.rowCount())]


def _select(page: ContactsView, *names: str) -> None:
    page.table.clearSelection()
    for name in names:
        row = _names(page).index(name)
        rect = page.table.visualRect(page.model.index(row, NAME_COL))
        QTest.mouseClick(
            page.table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, rect.center()
        )


def _answer(gui, page: ContactsView, name: str, text: str) -> None:
    dialog = gui.wait_until(lambda: page.findChild(QInputDialog, name))
    edit = dialog.findChild(QLineEdit)
    type_text(edit, text)
    press(edit, Qt.Key.Key_Return)


def _yes(gui, page: ContactsView, name: str) -> None:
    box = gui.wait_until(lambda: page.findChild(QMessageBox, name))
    box.button(QMessageBox.StandardButton.Yes).click()


def test_find_a_contact_by_typing_part_of_a_name(gui) -> None:
    _add(gui, "Priya Patel", "07911 123456", ("VIP",))
    _add(gui, "Tom Hughes", "07912 345678")
    _add(gui, "Ann Lee", "07722 123456")
    page = _page(gui)
    assert _names(page) == ["Ann Lee", "Priya Patel", "Tom Hughes"]
    assert page.count.text() == "3 contacts"
    type_text(page.search, "pat")
    gui.wait_until(lambda: _names(page) == ["Priya Patel"])
    assert page.count.text() == "1 contact match"
    assert page.model.index(0, NUMBER_COL).data() == "07911 123456"  # as people write it
    press(page.search, Qt.Key.Key_Return)  # Enter: to the list, first match chosen
    assert page.pane.name.text() == "Priya Patel"
    assert "07911 123456" in page.pane.details.text() and "VIP" in page.pane.details.text()
    assert page.pane.opt_state.text() == "Can be texted."

    page.search.clear()  # a number works as well, written as people write it
    type_text(page.search, "345678")
    gui.wait_until(lambda: _names(page) == ["Tom Hughes"])
    page.search.clear()
    page.tag.setCurrentIndex(page.tag.findData("VIP"))
    gui.wait_until(lambda: _names(page) == ["Priya Patel"])


def test_add_a_contact_through_the_form_and_a_bad_number_loses_nothing(gui) -> None:
    page = _page(gui)
    press(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = gui.wait_until(lambda: page.findChild(ContactDialog))
    type_text(dialog.name, "Mrs Patel")
    type_text(dialog.numbers[0][0], "12")
    type_text(dialog.tags, "Saturday, VIP")
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: dialog.error.text())
    assert "digits" in dialog.error.text() or "number" in dialog.error.text()
    assert dialog.isVisible() and dialog.name.text() == "Mrs Patel" and dialog.tags.text() == "Saturday, VIP"

    replace_text(dialog.numbers[0][0], "07911 123456")
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: _names(page) == ["Mrs Patel"])
    gui.wait_until(lambda: page.findChild(ContactDialog) is None)  # closed once saved
    assert page.feedback.text() == "Mrs Patel added."
    assert page.pane.name.text() == "Mrs Patel"  # the new contact is chosen
    assert gui.rt.contacts.by_number("+447911123456").tags == ("Saturday", "VIP")

    # Typing the same number again merges into her, never a second contact for one number.
    focus(page.table)  # back in the main window (a click on the list)
    press(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = gui.wait_until(lambda: page.findChild(ContactDialog))
    type_text(dialog.numbers[0][0], "+44 7911 123456")
    type_text(dialog.tags, "Tuesday")
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "already in your contacts" in page.feedback.text())
    assert _names(page) == ["Mrs Patel"]


def test_delete_keeps_messages_and_undo_brings_the_contact_back(gui) -> None:
    _add(gui, "Ann Lee", "07722 123456")
    _add(gui, "Tom Hughes", "07912 345678")
    page = _page(gui)
    _select(page, "Ann Lee")
    press(page.table, Qt.Key.Key_Delete)
    gui.wait_until(lambda: _names(page) == ["Tom Hughes"])
    assert page.feedback.text() == "Deleted Ann Lee. Their messages stay in Conversations."
    assert page.undo_button.isVisible()
    QTest.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: _names(page) == ["Ann Lee", "Tom Hughes"])
    assert not page.undo_button.isVisible() and "Brought back 1 contact" in page.feedback.text()


def test_make_a_group_add_members_show_it_and_delete_it(gui) -> None:
    for name, number in (("Ann Lee", "07722 123456"), ("Tom Hughes", "07912 345678"), ("Priya Patel", "07911 123456")):
        _add(gui, name, number)
    page = _page(gui)
    QTest.mouseClick(page.groups_panel.new_button, Qt.MouseButton.LeftButton)
    _answer(gui, page, "ask_group_name", "Saturday team")
    gui.wait_until(lambda: page.groups_panel.current_name() == "Saturday team")
    gui.wait_until(lambda: _names(page) == [])
    assert page.count.text() == "0 contacts in 'Saturday team'"

    page.groups_panel.choose(None)
    gui.wait_until(lambda: len(_names(page)) == 3)
    _select(page, "Ann Lee", "Tom Hughes")
    QTest.mouseClick(page.group_add, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: page.group_add.menu_.isVisible())
    page.group_add.action("Saturday team")
    gui.wait_until(lambda: "Added 2 to 'Saturday team'" in page.feedback.text())
    gui.wait_until(lambda: any("Saturday team  (2)" in page.groups_panel.list.item(r).text() for r in range(2)))
    page.groups_panel.list.setCurrentRow(1)
    gui.wait_until(lambda: _names(page) == ["Ann Lee", "Tom Hughes"])

    QTest.mouseClick(page.groups_panel.message_button, Qt.MouseButton.LeftButton)
    compose = gui.window.pages["compose"]
    assert gui.window.stack.currentWidget() is compose and compose.to.text() == "@Saturday team"
    assert "Saturday team (2)" in compose.to_status.text()
    press(gui.window.nav, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)

    QTest.mouseClick(page.groups_panel.delete_button, Qt.MouseButton.LeftButton)
    _yes(gui, page, "confirm_delete_group")
    gui.wait_until(lambda: page.groups_panel.list.count() == 1)
    gui.wait_until(lambda: len(_names(page)) == 3)  # back to everyone: the members are still contacts
    assert "still in your contacts" in page.feedback.text()


def test_merge_two_contacts_that_are_one_person(gui) -> None:
    _add(gui, "Ann Lee", "07722 123456", ("VIP",))
    _add(gui, "A. Lee (work)", "020 7123 4567")
    page = _page(gui)
    _select(page, "A. Lee (work)", "Ann Lee")
    assert page.merge_button.isEnabled()
    QTest.mouseClick(page.merge_button, Qt.MouseButton.LeftButton)
    _yes(gui, page, "confirm_merge")
    gui.wait_until(lambda: len(_names(page)) == 1)
    merged = gui.rt.contacts.by_number("+442071234567")
    assert merged is not None and {n.number for n in merged.numbers} == {"+447722123456", "+442071234567"}


def test_message_button_opens_compose_addressed_to_the_contact(gui) -> None:
    _add(gui, "Ann Lee", "07722 123456")
    page = _page(gui)
    _select(page, "Ann Lee")
    QTest.mouseClick(page.pane.message_button, Qt.MouseButton.LeftButton)
    compose = gui.window.pages["compose"]
    assert gui.window.stack.currentWidget() is compose
    assert compose.to.text() == "07722 123456"
    assert QApplication.focusWidget() is compose.body


def test_a_big_list_reads_a_page_at_a_time_and_export_then_import_gives_the_same_contacts(gui, tmp_path: Path) -> None:
    source = tmp_path / "clients.csv"
    rows = ["Name,Phone,Tags"] + [f"Client {i:03d},07911 1{i:05d},regular" for i in range(450)]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page = _page(gui)
    page.import_from(source)
    gui.wait_until(lambda: page.count.text() == "450 contacts")
    assert page.feedback.text() == "Added 450, merged 0 into contacts you had."
    assert page.model.rowCount() == 100  # one page read, not 450 rows
    page.table.scrollToBottom()
    gui.wait_until(lambda: page.model.rowCount() >= 200)

    exported = tmp_path / "book.vcf"
    page.export_to(exported)
    assert not page.export_button.isEnabled()  # written in a worker thread meanwhile
    gui.wait_until(lambda: page.feedback.text() == "Saved 450 contacts to book.vcf.")
    assert page.export_button.isEnabled()
    before = {(c.name, c.number, c.tags) for c in gui.rt.contacts.contacts.stream(None, _asof())}
    ids = [c.id for c in gui.rt.contacts.contacts.stream(None, _asof())]
    gui.run(gui.rt.contacts.remove(ids))
    gui.wait_until(lambda: page.count.text() == "0 contacts")
    page.import_from(exported)
    gui.wait_until(lambda: page.count.text() == "450 contacts")
    after = {(c.name, c.number, c.tags) for c in gui.rt.contacts.contacts.stream(None, _asof())}
    assert after == before


def _asof():
    from smsdesk.services.contact_drafts import as_of

    return as_of()


def test_a_smart_group_for_appointments_tomorrow_stays_current(gui) -> None:
    from datetime import date, timedelta

    from smsdesk.domain.contacts import FieldKind
    from smsdesk.ui.views.contacts.smart_group_dialog import SmartGroupDialog

    gui.run(gui.rt.contacts.define_field("Appointment", FieldKind.DATE))
    tomorrow, later = date.today() + timedelta(days=1), date.today() + timedelta(days=5)
    for name, number, day in (("Ann Lee", "07722 123456", tomorrow), ("Tom Hughes", "07912 345678", later)):
        draft = ContactDraft(name=name, numbers=(DraftNumber(number),), fields={"Appointment": day.isoformat()})
        gui.run(gui.rt.contacts.add(draft))
    page = _page(gui)
    QTest.mouseClick(page.groups_panel.smart_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: page.findChild(SmartGroupDialog))
    type_text(dialog.name, "Appointments tomorrow")
    row = dialog.rows[0]
    focus(row.kind)
    for _ in range(4):  # down to "a date field is"
        press(row.kind, Qt.Key.Key_Down)
    assert row.kind.currentText() == "a date field is" and row.date_field.currentText() == "Appointment"
    focus(row.when)
    press(row.when, Qt.Key.Key_Down)  # "tomorrow"
    assert dialog.rule.text().startswith("Members: everyone whose Appointment is tomorrow")
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: page.groups_panel.current_name() == "Appointments tomorrow")
    gui.wait_until(lambda: _names(page) == ["Ann Lee"])
    assert page.feedback.text() == "Smart group 'Appointments tomorrow' made: 1 contact matches it now."

    # Tom's appointment moves to tomorrow: he is a member without anyone touching the group.
    tom = gui.rt.contacts.by_number("07912 345678")
    draft = tom.to_draft()
    gui.run(gui.rt.contacts.edit(tom.id, ContactDraft(**{**_fields(draft), "fields": {"Appointment": str(tomorrow)}})))
    gui.wait_until(lambda: _names(page) == ["Ann Lee", "Tom Hughes"])


def _fields(draft: ContactDraft) -> dict[str, object]:
    return {name: getattr(draft, name) for name in draft.__slots__}


def test_a_person_in_a_conversation_goes_into_a_group_and_out_again(gui) -> None:
    from smsdesk.services.send import Draft

    acc = gui.rt.accounts.by_name("Sandbox")
    gui.run(gui.rt.sending.send(Draft(acc.id, ["07911 123456"], "Your table is booked")))
    conv = gui.wait_until(lambda: gui.rt.conversations.find(acc.id, "+447911123456"))
    gui.wait_until(lambda: _all_final(gui))
    page = gui.window.show_page("conversations")
    page.open_conversation(conv.id)
    pane = page.thread_pane
    QTest.mouseClick(pane.group_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: pane.group_button.menu_.isVisible())
    pane.group_button.action("New group…")
    _answer(gui, pane, "ask_group_name", "Regulars")
    gui.wait_until(lambda: pane.feedback.text() == "Made 'Regulars' with this person in it.")
    group = gui.rt.groups.by_name("Regulars")
    assert group.size == 1  # the number became a contact and joined

    # The group they are in is ticked; choosing it takes them out (they stay a contact).
    QTest.mouseClick(pane.group_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: pane.group_button.menu_.isVisible())
    assert [a.text() for a in pane.group_button.menu_.actions() if a.isChecked()] == ["Regulars"]
    pane.group_button.action("Regulars")
    gui.wait_until(lambda: pane.feedback.text() == "Removed from 'Regulars'. They are still a contact.")
    assert gui.rt.groups.by_name("Regulars").size == 0
    assert gui.rt.contacts.by_number("+447911123456") is not None

    QTest.mouseClick(pane.group_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: pane.group_button.menu_.isVisible())
    assert not any(a.isChecked() for a in pane.group_button.menu_.actions())
    pane.group_button.action("Regulars")
    gui.wait_until(lambda: pane.feedback.text() == "Added to 'Regulars'.")
    assert gui.rt.groups.by_name("Regulars").size == 1


def _all_final(gui) -> bool:
    """Every message sent has its final status (its receipt is in): nothing is still on the wire
    when the test ends and the receiver stops."""
    return all(m.status.is_final for m in gui.rt.sending.recent_outgoing(50))


def test_an_export_that_cannot_be_written_says_why_and_can_be_tried_again(gui, tmp_path: Path) -> None:
    page = _page(gui)
    _add(gui, "Ann Lee", "07911 100001")
    page.export_to(tmp_path / "gone" / "book.csv")  # a folder removed since it was chosen
    gui.wait_until(lambda: page.feedback.text().startswith("Could not export:"))
    assert page.export_button.isEnabled()
    page.export_to(tmp_path / "book.csv")
    gui.wait_until(lambda: page.feedback.text() == "Saved 1 contact to book.csv.")
