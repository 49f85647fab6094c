"""Opt-outs page offscreen: add (validated), list with source and time, remove after a
confirmation; Compose and the conversation banner follow the list live."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from smsdesk.ui.views.optouts_view import OptOutsView
from tests.support.typing import press, replace_text, type_text


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    """After the window and loop are gone, collect their reference cycles here, on the GUI
    thread. Left to chance, Python's collector may run on the sandbox or database thread,
    and a QObject destroyed there cannot stop its timers (Qt warns, then a later event
    loop segfaults on the dangling timer)."""
    yield
    gc.collect()


def _page(gui) -> OptOutsView:
    page = gui.window.show_page("optouts")
    assert isinstance(page, OptOutsView)
    return page


def _cells(page: OptOutsView) -> list[list[str]]:
    t = page.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_add_list_and_remove_with_confirmation(gui) -> None:
    page = _page(gui)
    type_text(page.number, "12")
    press(page.number, Qt.Key.Key_Return)
    assert "digits" in page.feedback.text() and page.table.rowCount() == 0
    replace_text(page.number, "07911 123456")
    type_text(page.note, "asked on the phone")
    QTest.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: page.table.rowCount() == 1)
    [row] = _cells(page)
    # As people write numbers (the list, the message and the question), not +E.164.
    assert row[:4] == ["07911 123456", "", "Added by hand", "asked on the phone"] and row[4]
    assert page.feedback.text() == "07911 123456 is opted out."
    assert gui.rt.sending.check_recipient("07911 123456").error

    page.table.selectRow(0)
    page.confirm_remove()
    box = page.findChild(QMessageBox, "confirm_remove_optout")
    assert box is not None and "Allow messages to 07911 123456 again?" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    gui.settle(0.1)
    assert page.table.rowCount() == 1
    page.confirm_remove()
    box = page.findChild(QMessageBox, "confirm_remove_optout")
    box.button(QMessageBox.StandardButton.Yes).click()
    gui.wait_until(lambda: page.table.rowCount() == 0)
    assert gui.rt.sending.check_recipient("07911 123456").error is None


def test_reply_stop_appears_on_the_page_live(gui) -> None:
    page = _page(gui)
    srv = gui.rt.sandbox.server
    assert gui.rt.sandbox.call(srv._post_inbound("+447911123457", srv.config.inbound_number, "Unsubscribe"))
    gui.wait_until(lambda: page.table.rowCount() == 1)
    [row] = _cells(page)
    assert row[0] == "07911 123457" and row[2] == "Replied STOP"
