"""Settings -> Automatic replies offscreen: add a keyword reply by typing, try a text, refuse a
keyword that would shadow STOP and bad opening hours, and see an answer marked automatic."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from smsdesk.ui.delegates.bubble_delegate import meta_text
from smsdesk.ui.views.autoreplies_view import AutoRepliesView
from tests.support.typing import replace_text, type_text


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    yield
    gc.collect()


def _view(gui) -> AutoRepliesView:
    view = gui.window.show_settings("autoreplies")
    assert isinstance(view, AutoRepliesView)
    return view


def _add_keyword(gui, view: AutoRepliesView, keywords: str, reply: str):
    QTest.mouseClick(view.add_keyword, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    type_text(dialog.keywords, keywords)
    type_text(dialog.reply, reply)
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    return dialog


def test_a_keyword_reply_is_added_tried_and_answers_a_text_marked_automatic(gui) -> None:
    view = _view(gui)
    _add_keyword(gui, view, "open, hours", "Yes {{first_name|there}}, open till 6")
    gui.wait_until(
        lambda: view.dialog is None and view.rule_texts() == ["OPEN, HOURS → Yes {{first_name|there}}, open till 6"]
    )
    assert view.feedback.text() == "Saved the OPEN, HOURS reply."
    type_text(view.try_text, "Open?")
    assert view.try_said.text() == "OPEN, HOURS would answer: Yes there, open till 6"
    replace_text(view.try_text, "STOP")
    assert view.try_said.text() == "No automatic reply would be sent."

    srv = gui.rt.sandbox.server
    assert gui.rt.sandbox.call(srv._post_inbound("+447911123456", srv.config.inbound_number, "hours?"))
    gui.wait_until(lambda: any(s.content == "Yes there, open till 6" for s in srv.sent))
    gui.wait_until(lambda: all(m.status.is_final for m in gui.rt.sending.recent_outgoing(10)))
    [auto] = gui.rt.sending.recent_outgoing(10)
    assert meta_text(auto).startswith("Automatic reply · Delivered")


def test_a_keyword_that_would_shadow_stop_is_refused_in_the_dialog(gui) -> None:
    view = _view(gui)
    dialog = _add_keyword(gui, view, "Stop", "Bye")
    gui.wait_until(lambda: "cannot start an automatic reply" in dialog.error.text())
    assert view.rule_texts() == []
    dialog.reject()


def test_bad_opening_hours_are_refused_and_good_ones_kept(gui) -> None:
    view = _view(gui)
    replace_text(view.days[0], "9 till 5")
    QTest.mouseClick(view.save_hours, Qt.MouseButton.LeftButton)
    assert "write them like 09:00-17:30" in view.hours_said.text()
    replace_text(view.days[0], "08:30-18:00")
    replace_text(view.business, "Salon Bella")
    QTest.mouseClick(view.save_hours, Qt.MouseButton.LeftButton)
    assert view.hours_said.text() == "Saved."
    settings = gui.rt.settings
    assert settings.business_hours[0] == "08:30-18:00" and settings.business_name == "Salon Bella"
