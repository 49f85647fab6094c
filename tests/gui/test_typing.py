"""Typing into every message box as a person does (real key events, tests/support/typing.py):
the text goes in, Tab moves on, the counter speaks plainly and warns, and nothing that
appears under a box ever makes the window wider than it was.

Every test starts the window at 1024x700, the smallest size smsdesk is used at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QRawFont
from PySide6.QtWidgets import QApplication

from smsdesk.domain.segments import MAX_MESSAGE_CHARS
from smsdesk.services.bulk_send_flow import Step
from smsdesk.ui.views.bulk_send.view import BulkSendView
from smsdesk.ui.views.compose_view import ComposeView
from smsdesk.ui.views.conversations_view import ConversationsView
from smsdesk.ui.views.scheduled_view import ScheduledView
from smsdesk.ui.widgets.message_editor import MessageCounter
from tests.support.typing import clear, focused, paste, press, type_text

ALICE = "+447911123456"
JARGON = ("septet", "UTF-16", "GSM-7", "UCS-2", "segment")
WIDTH, HEIGHT = 1024, 700


@pytest.fixture
def small(gui):  # noqa: ANN001, ANN201
    """The gui harness with its window at 1024x700."""
    gui.window.resize(WIDTH, HEIGHT)
    gui.settle(0.05)
    assert gui.window.width() == WIDTH
    return gui


def _compose(gui) -> ComposeView:  # noqa: ANN001
    view = gui.window.show_page("compose")
    assert isinstance(view, ComposeView)
    return view


def _conversation(gui) -> ConversationsView:  # noqa: ANN001
    page = gui.window.show_page("conversations")
    assert isinstance(page, ConversationsView)
    srv = gui.rt.sandbox.server
    assert gui.rt.sandbox.call(srv._post_inbound(ALICE, srv.config.inbound_number, "Can I book for Friday?"))
    account = gui.rt.accounts.by_name("Sandbox")
    conv = gui.wait_until(lambda: gui.rt.conversations.find(account.id, ALICE))
    page.open_conversation(conv.id)
    return page


def _schedule_dialog(gui):  # noqa: ANN001, ANN202
    gui.rt.scheduler.default_zone = lambda: "Europe/London"
    view = gui.window.show_page("scheduled")
    assert isinstance(view, ScheduledView)
    view.new_button.click()
    dialog = gui.wait_until(lambda: view.dialog)
    gui.wait_until(lambda: dialog.isVisible())
    return view, dialog


def _message_page(gui, tmp_path: Path, header: str = "name"):  # noqa: ANN001, ANN202
    src = tmp_path / "clients.csv"
    src.write_text(f"{header},phone\nAnn Lee,07400000001\nBo Chan,07400000002\n", encoding="utf-8")
    view = gui.window.show_page("bulk")
    assert isinstance(view, BulkSendView)
    w = view.wizard
    type_text(w.page(Step.FILE).path, str(src))
    press(w.page(Step.FILE).path, Qt.Key.Key_Return)
    gui.wait_until(lambda: w.state.table is not None and not w.busy)
    for step in (Step.MAPPING, Step.VALIDATION, Step.MESSAGE):
        gui.wait_until(lambda: w.button(w.WizardButton.NextButton).isEnabled())
        w.button(w.WizardButton.NextButton).click()
        gui.wait_until(lambda step=step: w.currentId() == step and not w.busy)
    return w, w.page(Step.MESSAGE)


def _lay_out() -> None:
    """Let Qt run the layout requests a change of text posted (a window grows there, if at all)."""
    for _ in range(3):
        QApplication.processEvents()


def _no_jargon(counter: MessageCounter) -> None:
    assert not any(word.lower() in counter.text().lower() for word in JARGON), counter.text()


# ---- each box: a word, an emoji and a Tab ----------------------------------------------------------
def test_compose_takes_a_word_an_emoji_and_tab_moves_on(small) -> None:  # noqa: ANN001
    view = _compose(small)
    type_text(view.body, "See you at 3 😊\t")
    assert view.body.toPlainText() == "See you at 3 😊"
    assert focused(view.body) is view.send_button
    assert view.counter.text() == (
        "14 characters · 1 text message · special characters: 😊 (uses 70-character parts) · cost unknown"
    )
    _no_jargon(view.counter)
    assert "UCS-2" in view.counter.toolTip() and "U+1F60A" in view.counter.toolTip()
    press(view.send_button, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused(view.body) is view.body
    assert small.window.width() == WIDTH


def test_reply_takes_a_word_an_emoji_and_tab_moves_on(small) -> None:  # noqa: ANN001
    page = _conversation(small)
    type_text(page.reply, "Friday is fine 😊\t")
    assert page.reply.toPlainText() == "Friday is fine 😊"
    assert focused(page.reply) is page.send_button
    assert "special characters: 😊 (uses 70-character parts)" in page.counter.text()
    _no_jargon(page.counter)
    assert small.window.width() == WIDTH


def test_an_emoji_reply_never_widens_the_window(gui) -> None:  # noqa: ANN001
    """The reported case: 1100 px wide, an emoji in a reply, and the window grew to 1322 px."""
    gui.window.resize(1100, 720)
    page = _conversation(gui)
    type_text(page.reply, "Thanks 😊🎉👍🎂🌸💇✂️💅 see you “soon” — Zoë’s salon")
    assert "and 5 more" in page.counter.text()  # a long hint: it wraps
    assert gui.window.width() == 1100
    assert page.send_button.geometry().right() < page.send_button.parentWidget().width()
    clear(page.reply)
    assert page.reply.toPlainText() == "" and gui.window.width() == 1100


def test_schedule_dialog_takes_a_word_an_emoji_and_tab_moves_on(small) -> None:  # noqa: ANN001
    _view, dialog = _schedule_dialog(small)
    width = dialog.width()
    type_text(dialog.body, "Your table is booked 🍽️\t")
    assert dialog.body.toPlainText() == "Your table is booked 🍽️"
    assert dialog.when.hasFocus()
    assert "special characters: 🍽️" in dialog.counter.text()
    _no_jargon(dialog.counter)
    assert dialog.width() == width and small.window.width() == WIDTH
    dialog.reject()


def test_bulk_message_box_keeps_the_focus_while_typing(small, tmp_path: Path) -> None:  # noqa: ANN001
    """It took one letter; then the focus jumped to the navigation and the next ones switched pages."""
    w, page = _message_page(small, tmp_path)
    announced: list[bool] = []
    page.completeChanged.connect(lambda: announced.append(page.isComplete()))
    type_text(page.template, "Hi {{name}}, see you at 3")
    assert page.template.toPlainText() == "Hi {{name}}, see you at 3"
    assert focused(page.template) is page.template and w.currentId() == Step.MESSAGE
    assert len(announced) <= 1  # not once per key
    small.wait_until(lambda: w.button(w.WizardButton.NextButton).isEnabled())  # the check finished
    type_text(page.template, " 😊\t")  # typing on after the check: completeness changes again
    assert page.template.toPlainText() == "Hi {{name}}, see you at 3 😊"
    assert focused(page.template) is page.insert and w.currentId() == Step.MESSAGE
    assert "plus merge fields" in page.counter.text() and "special characters: 😊" in page.counter.text()
    _no_jargon(page.counter)
    small.wait_until(lambda: w.button(w.WizardButton.NextButton).isEnabled())
    assert page.model.index(0, 2).data() == "Hi Ann Lee, see you at 3 😊"
    assert small.window.width() == WIDTH


def test_a_pasted_tab_stays_and_is_named(small) -> None:  # noqa: ANN001
    view = _compose(small)
    paste(view.body, "Name\tTime")
    assert view.body.toPlainText() == "Name\tTime" and focused(view.body) is view.body
    assert view.counter.text() == (
        "9 characters · 1 text message · special characters: tab (uses 70-character parts) · cost unknown"
    )


# ---- nothing widens the window ---------------------------------------------------------------------
def test_long_things_typed_or_shown_never_widen_the_window(small, tmp_path: Path) -> None:  # noqa: ANN001
    view = _compose(small)
    type_text(view.to, "0" * 120)  # garbage without a space, echoed in the error line
    small.wait_until(lambda: "✗" in view.to_status.text())
    type_text(view.body, "".join(chr(c) for c in range(0x1F600, 0x1F640)))  # 64 different emoji
    assert "and 56 more" in view.counter.text()
    assert small.window.width() == WIDTH

    page = _conversation(small)
    small.run(small.rt.contacts.set_name(ALICE, "Dr. Bartholomew Featherstonehaugh-Cholmondeley of Saint Clement's"))
    small.wait_until(lambda: page.title.text().startswith("Dr. Bartholomew"))
    _lay_out()
    assert small.window.width() == WIDTH

    _w, msg = _message_page(small, tmp_path, header="Preferred_name_as_written_on_the_loyalty_card_in_2019_" * 3)
    _lay_out()
    assert small.window.width() == WIDTH
    assert msg.insert.count() > 1


def test_the_counter_says_what_the_account_does_with_special_characters(small) -> None:  # noqa: ANN001
    view = _compose(small)
    sandbox = small.rt.accounts.by_name("Sandbox")
    small.run(small.rt.accounts.update(sandbox, {**sandbox.settings, "unicode": "Deny"}))
    small.wait_until(lambda: view.counter.unicode_mode == "Deny")
    type_text(view.body, "Hi 😊")
    assert view.counter.text().startswith(
        "4 characters · 1 text message · special characters: 😊 (this account refuses"
    )
    assert view.counter.palette().color(view.counter.foregroundRole()).name() == "#b3261e"
    small.run(small.rt.accounts.update(sandbox, {**sandbox.settings, "unicode": "Strip"}))
    small.wait_until(lambda: view.counter.unicode_mode == "Strip")
    assert view.counter.text() == (
        "4 characters · 1 text message · special characters: 😊 (this account removes them before sending)"
        " · cost unknown"
    )
    assert "Unicode mode of this account: Strip" in view.counter.toolTip()


# ---- item 7: over the limit, the same counter everywhere, stale status lines ---------------------
def test_the_counter_warns_as_soon_as_the_text_is_too_long(small) -> None:  # noqa: ANN001
    view = _compose(small)
    paste(view.body, "x" * MAX_MESSAGE_CHARS)
    assert view.counter.text().startswith("1,600 characters · 11 text messages")
    assert not view.counter.over_limit
    plain_colour = view.counter.palette().color(view.counter.foregroundRole()).name()
    type_text(view.body, "y")
    assert view.counter.text() == ("1,601 characters · too long: at most 1,600 can be sent as one message (remove 1)")
    assert view.counter.over_limit
    assert view.counter.palette().color(view.counter.foregroundRole()).name() == "#b3261e" != plain_colour
    press(view.body, Qt.Key.Key_Backspace)
    assert not view.counter.over_limit

    _view, dialog = _schedule_dialog(small)
    paste(dialog.body, "z" * 2000)
    assert dialog.counter.text().startswith("2,000 characters · too long")
    assert dialog.counter.palette().color(dialog.counter.foregroundRole()).name() == "#b3261e"
    dialog.reject()


def test_status_lines_clear_when_the_next_message_is_started(small) -> None:  # noqa: ANN001
    view = _compose(small)
    type_text(view.to, "07911 123456")
    small.wait_until(lambda: "✓" in view.to_status.text())
    view.send_button.click()
    small.wait_until(lambda: view.feedback.text() == "The message is empty.")
    type_text(view.body, "Your order is ready")
    assert view.feedback.text() == ""
    view.send_button.click()
    small.wait_until(lambda: view.feedback.text().startswith("Queued 1 message"))
    assert view.body.toPlainText() == ""
    type_text(view.body, "N")
    assert view.feedback.text() == ""

    page = _conversation(small)
    paste(page.reply, "x" * 2000)
    page.send_button.click()
    small.wait_until(lambda: "limit" in page.feedback.text())
    press(page.reply, Qt.Key.Key_Backspace)
    assert page.feedback.text() == ""


# ---- item 12: a character the screen cannot draw is named ------------------------------------------
def _any_font_draws(ch: str) -> bool:
    return any(QRawFont.fromFont(QFont(family)).supportsCharacter(ord(ch)) for family in QFontDatabase.families())


def test_a_character_without_a_font_is_named(small) -> None:  # noqa: ANN001
    unicorn = "\U0001f984"
    if _any_font_draws(unicorn):
        pytest.skip("this machine has a font with the unicorn emoji")
    view = _compose(small)
    type_text(view.body, f"Magic {unicorn} and a flag \U0001f1ec\U0001f1e7, ł")
    line = view.counter.text()
    assert f"{unicorn} UNICORN FACE" in line and "\U0001f1ec\U0001f1e7 FLAG: GB" in line
    assert ", ł" in line and "ł LATIN" not in line  # a character the font draws is shown as itself
