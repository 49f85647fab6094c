"""From a client list to a delivered, personalised group text, without typing a phone number.

A person imports a spreadsheet into a new group through the Bulk wizard (nothing is sent;
a date column kept as a date, every row accounted for), then writes to ``@group`` in Compose
with a saved template; the bulk path personalises it and the sandbox delivers it.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from smsdesk.domain.models import Status
from smsdesk.services.bulk_send_flow import Step
from smsdesk.ui.views.bulk_send.view import BulkSendView
from smsdesk.ui.views.compose_view import ComposeView
from smsdesk.ui.widgets.template_picker import TemplatePicker
from tests.support.completion import pick
from tests.support.typing import clear, focus, press, replace_text, type_text

CLIENTS = (
    "Name,Mobile,Appointment,Visits\n"
    "Ann Lee,07911 123456,2026-12-10,3\n"
    "Bob Carr,07911 123457,2026-12-11,5\n"
    "No Number,call the shop,2026-12-12,1\n"
    "Ann Lee,+44 7911 123456,2026-12-10,3\n"  # the same number again: one contact
    "Cat Diaz,07911 123458,next week,2\n"  # not a date
)


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    yield
    gc.collect()


def _next(gui, w, step: Step) -> None:
    gui.wait_until(lambda: w.button(w.WizardButton.NextButton).isEnabled() and not w.busy)
    QTest.mouseClick(w.button(w.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.currentId() == step)


def _import_into_group(gui, path: Path) -> None:
    view = gui.window.show_page("bulk")
    assert isinstance(view, BulkSendView)
    w = view.wizard
    file_page = w.page(Step.FILE)
    QTest.mouseClick(file_page.to_contacts, Qt.MouseButton.LeftButton)
    type_text(file_page.path, str(path))
    QTest.mouseClick(file_page.load_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.state.table is not None and not w.busy)

    _next(gui, w, Step.MAPPING)
    mapping = w.page(Step.MAPPING)
    kept = [mapping.grid.cellWidget(r, 2).currentText() for r in range(4)]
    assert kept == ["Name", "Phone number", "Text field", "Text field"]
    QTest.keyClicks(mapping.grid.cellWidget(2, 2), "Date")  # Appointment: a date
    QTest.keyClicks(mapping.grid.cellWidget(3, 2), "Number")  # Visits: a number
    assert mapping.grid.cellWidget(2, 2).currentText() == "Date field"

    _next(gui, w, Step.CONTACTS)  # no message, no check for sending
    page = w.page(Step.CONTACTS)
    assert "Appointment (date), Visits (number)" in page.summary.text()
    finish = w.button(w.WizardButton.FinishButton)
    clear(page.group_name)
    assert not finish.isEnabled()  # no group name: nothing to find them by later
    replace_text(page.group_name, "Regulars")
    assert finish.isEnabled()
    assert finish.text() == "Save contacts"
    QTest.mouseClick(finish, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: page.saved is not None)
    result = page.result.text()
    assert result.startswith("5 rows: 2 new contacts, 1 merged into contacts you had, 2 skipped.")
    assert "Row 3: " in result and "Row 5: " in result and "date" in result.split("Row 5: ")[1]
    assert not gui.rt.sandbox.server.sent  # nothing was sent

    QTest.mouseClick(page.show_group, Qt.MouseButton.LeftButton)
    contacts = gui.window.stack.currentWidget()
    assert contacts is gui.window.pages["contacts"]
    gui.wait_until(lambda: contacts.groups_panel.current_name() == "Regulars")
    gui.window.show_page("bulk")
    assert finish.text() == "Import another file"
    QTest.mouseClick(finish, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.currentId() == Step.FILE and not file_page.path.text())


def test_a_group_made_from_an_import_gets_a_personalised_text_delivered(gui, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(CLIENTS, encoding="utf-8")
    _import_into_group(gui, path)
    rt = gui.rt
    group = rt.groups.by_name("Regulars")
    assert group.size == 2
    ann = rt.contacts.by_number("+447911123456")
    assert ann is not None and ann.fields["Visits"] == "3"

    gui.run(rt.templates.add("Reminder", "", "Hi {{first_name|there}}, see you on {{appointment}}"))
    compose = gui.window.show_page("compose")
    assert isinstance(compose, ComposeView)
    type_text(compose.to, "@reg")
    pick(gui, compose.to_completer, "Group: Regulars (2 people)")
    focus(compose.body)
    press(compose.body, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    picker = gui.wait_until(lambda: compose.findChild(TemplatePicker))
    press(picker.search, Qt.Key.Key_Return)
    focus(compose.body)
    press(compose.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    w = gui.window.pages["bulk"].wizard
    gui.wait_until(lambda: w.currentId() == Step.VALIDATION and not w.busy)
    _next(gui, w, Step.MESSAGE)
    msg = w.page(Step.MESSAGE)
    gui.wait_until(lambda: msg.model.rowCount() == 2 and not w.busy)
    _next(gui, w, Step.SEND)
    QTest.mouseClick(w.button(w.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.currentId() == Step.RUN)

    def delivered() -> dict[str, str]:
        msgs = rt.sending.recent_outgoing(10)
        return {m.remote: m.body for m in msgs if m.status == Status.DELIVERED}

    gui.wait_until(lambda: len(delivered()) == 2, timeout=20)
    assert delivered() == {
        "+447911123456": "Hi Ann, see you on " + ann.fields["Appointment"],
        "+447911123457": "Hi Bob, see you on " + rt.contacts.by_number("+447911123457").fields["Appointment"],
    }
