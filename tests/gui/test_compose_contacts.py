"""Compose with the address book: names and groups typed in To, completed as you type; a
name that matches nobody is said; a group goes to Bulk send, personalised, and is delivered
in the sandbox without typing one phone number."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from smsdesk.domain.contacts import ContactDraft, DraftNumber
from smsdesk.domain.status import Status
from smsdesk.services.bulk_send_flow import Step
from smsdesk.ui.views.bulk_send.view import BulkSendView
from smsdesk.ui.views.compose_view import ComposeView
from tests.support.completion import pick
from tests.support.typing import press, type_text


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    yield
    gc.collect()


def _add(gui, name: str, number: str, given: str = "") -> int:
    draft = ContactDraft(name=name, given_name=given, numbers=(DraftNumber(number),))
    return int(gui.run(gui.rt.contacts.add(draft)).contact_id)


def _compose(gui) -> ComposeView:
    page = gui.window.show_page("compose")
    assert isinstance(page, ComposeView)
    return page


def _pick(gui, page: ComposeView, shown: str) -> None:
    pick(gui, page.to_completer, shown)


def test_a_name_completes_and_the_message_goes_to_that_contact(gui) -> None:
    _add(gui, "Priya Patel", "07911 123456")
    _add(gui, "Tom Hughes", "07912 345678")
    page = _compose(gui)
    type_text(page.to, "pri")
    assert page.to_completer.suggestions == ["Priya Patel · 07911 123456"]
    _pick(gui, page, "Priya Patel · 07911 123456")
    assert page.to.text() == "Priya Patel, "
    gui.wait_until(lambda: page.to_status.text().startswith("✓ 1 recipient"))
    assert "Priya Patel (07911 123456)" in page.to_status.text()
    type_text(page.body, "See you at 2pm")
    press(page.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    gui.wait_until(lambda: any(r.recipient == "+447911123456" for r in gui.rt.sandbox.server.sent))
    assert [r.recipient for r in gui.rt.sandbox.server.sent] == ["+447911123456"]
    gui.wait_until(lambda: [m.status for m in gui.rt.sending.recent_outgoing(5)] == [Status.DELIVERED])


def test_a_name_that_matches_nobody_is_said(gui) -> None:
    _add(gui, "Priya Patel", "07911 123456")
    page = _compose(gui)
    type_text(page.to, "Bob")
    gui.wait_until(lambda: page.to_status.text().startswith("✗"))
    assert page.to_status.text() == "✗ No contact is called 'Bob'."
    assert not page.to_completer.suggestions
    type_text(page.body, "hello")
    press(page.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert page.feedback.text() == "Fix the recipients first."
    gui.settle(0.2)
    assert gui.rt.sandbox.server.sent == []


def test_a_group_goes_through_bulk_send_personalised_and_is_delivered(gui) -> None:
    ids = [_add(gui, "Priya Patel", "07911 123456", "Priya"), _add(gui, "Tom Hughes", "07912 345678", "Tom")]
    _add(gui, "Ann Lee", "07722 123456")  # not in the group
    gid = gui.run(gui.rt.groups.create("Saturday team"))
    gui.run(gui.rt.groups.add_members(gid, ids))
    page = _compose(gui)
    type_text(page.to, "@sat")
    _pick(gui, page, "Group: Saturday team (2 people)")
    assert page.to.text() == "@Saturday team, "
    gui.wait_until(lambda: "Saturday team (2)" in page.to_status.text())
    type_text(page.body, "Hi {{first_name|there}}, see you tomorrow")
    press(page.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    bulk = gui.window.pages["bulk"]
    assert isinstance(bulk, BulkSendView) and gui.window.stack.currentWidget() is bulk
    w = bulk.wizard
    check = w.page(Step.VALIDATION)
    gui.wait_until(lambda: w.currentId() == Step.VALIDATION and check.report is not None and not w.busy)
    assert "2 rows: 2 accepted, 0 rejected" in check.summary.text()
    w.next()
    msg = w.page(Step.MESSAGE)
    gui.wait_until(lambda: w.currentId() == Step.MESSAGE and msg.model.rowCount() == 2 and not w.busy)
    assert msg.template.toPlainText() == "Hi {{first_name|there}}, see you tomorrow"  # carried from Compose
    previews = {msg.model.index(r, 2).data() for r in range(2)}
    assert previews == {"Hi Priya, see you tomorrow", "Hi Tom, see you tomorrow"}
    w.next()
    gui.wait_until(lambda: w.currentId() == Step.SEND)
    gui.wait_until(lambda: w.button(w.WizardButton.CommitButton).isEnabled())
    w.button(w.WizardButton.CommitButton).click()
    gui.wait_until(lambda: len(gui.rt.sandbox.server.sent) == 2, timeout=20)
    assert {r.recipient for r in gui.rt.sandbox.server.sent} == {"+447911123456", "+447912345678"}
    gui.wait_until(lambda: [m.status for m in gui.rt.sending.recent_outgoing(10)] == [Status.DELIVERED] * 2, timeout=20)


def test_each_recipient_is_a_chip_and_its_cross_takes_it_out(gui) -> None:
    ids = [_add(gui, "Priya Patel", "07911 123456", "Priya"), _add(gui, "Tom Hughes", "07912 345678", "Tom")]
    gid = gui.run(gui.rt.groups.create("Saturday team"))
    gui.run(gui.rt.groups.add_members(gid, ids))
    page = _compose(gui)
    type_text(page.to, "Priya Patel, @Saturday team, 0791, Nobody Here")
    chips = page.to_chips
    gui.wait_until(lambda: chips.chips() == ["Priya Patel", "@Saturday team · 2 people", "0791", "Nobody Here"])
    assert chips.isVisible()
    QTest.mouseClick(chips.remove_button(3), Qt.MouseButton.LeftButton)
    assert page.to.text() == "Priya Patel, @Saturday team, 0791, "
    gui.wait_until(lambda: chips.chips() == ["Priya Patel", "@Saturday team · 2 people", "0791"])
    QTest.mouseClick(chips.remove_button(2), Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: page.to_status.text().startswith("✓ Saturday team (2)"))
    QTest.mouseClick(chips.remove_button(1), Qt.MouseButton.LeftButton)
    QTest.mouseClick(chips.remove_button(0), Qt.MouseButton.LeftButton)
    assert page.to.text() == ""
    gui.wait_until(lambda: not chips.isVisible())


def test_a_tag_completes_and_reaches_everyone_with_it(gui) -> None:
    for name, number in (("Priya Patel", "07911 123456"), ("Tom Hughes", "07912 345678")):
        draft = ContactDraft(name=name, numbers=(DraftNumber(number),), tags=("VIP",))
        gui.run(gui.rt.contacts.add(draft))
    _add(gui, "Ann Lee", "07722 123456")  # no tag
    page = _compose(gui)
    type_text(page.to, "#v")
    _pick(gui, page, "Tag: VIP (2 people)")
    assert page.to.text() == "#VIP, "
    gui.wait_until(lambda: page.to_chips.chips() == ["#VIP · 2 people"])
    type_text(page.body, "Hi {{first_name|there}}, thanks for being a regular")
    press(page.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    w = gui.window.pages["bulk"].wizard
    check = w.page(Step.VALIDATION)
    gui.wait_until(lambda: w.currentId() == Step.VALIDATION and check.report is not None and not w.busy)
    assert "2 rows: 2 accepted, 0 rejected" in check.summary.text()
    assert sorted(w.state.table.rows[i][0] for i in range(2)) == ["+447911123456", "+447912345678"]


def test_a_tag_nobody_has_is_said(gui) -> None:
    page = _compose(gui)
    type_text(page.to, "#nothing")
    gui.wait_until(lambda: "No contact has the tag 'nothing'." in page.to_status.text())
