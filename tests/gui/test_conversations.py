"""Conversations offscreen: replies arrive in the right thread with a badge, STOP blocks the
reply box, search opens a thread at the hit, failed messages show a reason and Retry works."""

from __future__ import annotations

import csv
import gc
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox

from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from smsdesk.storage import messages as msg_store
from smsdesk.storage.messages import NewOutgoing
from smsdesk.ui.delegates.conversation_delegate import snippet
from smsdesk.ui.models.thread_model import MessageRole
from smsdesk.ui.views.conversations_view import ConversationsView
from tests.support.typing import clear, paste, press, type_text

ALICE = "+447911123456"
BOB = "+447911123457"


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    """After the window and loop are gone, collect their reference cycles here, on the GUI
    thread. Left to chance, Python's collector may run on the sandbox or database thread,
    and a QObject destroyed there cannot stop its timers (Qt warns, then a later event
    loop segfaults on the dangling timer)."""
    yield
    gc.collect()


def _page(gui) -> ConversationsView:
    page = gui.window.show_page("conversations")
    assert isinstance(page, ConversationsView)
    return page


def _inject(gui, sender: str, body: str) -> None:
    srv = gui.rt.sandbox.server
    assert gui.rt.sandbox.call(srv._post_inbound(sender, srv.config.inbound_number, body))


def _conv(gui, number: str):
    account = gui.rt.accounts.by_name("Sandbox")
    return gui.rt.conversations.find(account.id, number)


def _nav_text(gui, key: str) -> str:
    row = [s.key for s in gui.window._specs].index(key)
    return gui.window.nav.item(row).text()


def _bodies(page: ConversationsView) -> list[str]:
    model = page.thread_view.thread_model
    return [model.index(i).data(MessageRole).body for i in range(model.rowCount())]


def test_reply_lands_in_its_thread_with_unread_badge_and_notification(gui) -> None:
    page = _page(gui)
    account = gui.rt.accounts.by_name("Sandbox")
    gui.run(gui.rt.sending.send(Draft(account.id, ["07911 123456"], "Table for two at 7pm?")))
    gui.run(gui.rt.sending.send(Draft(account.id, ["07911 123457"], "Your parcel is on its way")))
    gui.wait_until(lambda: page.list_model.rowCount() == 2)
    _inject(gui, ALICE, "Yes please, 7pm is perfect")
    gui.wait_until(lambda: (c := _conv(gui, ALICE)) is not None and c.unread == 1)
    gui.wait_until(lambda: _nav_text(gui, "conversations").endswith("(1)"))
    top = page.list_model.conversation_at(0)
    assert top is not None and top.remote == ALICE and top.unread == 1
    assert top.last_body == "Yes please, 7pm is perfect"
    assert gui.window.notifier.history[-1][1] == "Yes please, 7pm is perfect"
    bob = _conv(gui, BOB)
    assert bob.unread == 0 and bob.last_body == "Your parcel is on its way"

    # Keyboard: focus the list, first row is Alice; opening it marks it read.
    page.list.setFocus()
    QTest.keyClick(page.list, Qt.Key.Key_Home)
    gui.wait_until(lambda: page.current is not None and page.current.remote == ALICE)
    assert _bodies(page) == ["Table for two at 7pm?", "Yes please, 7pm is perfect"]
    gui.wait_until(lambda: _conv(gui, ALICE).unread == 0)
    gui.wait_until(lambda: _nav_text(gui, "conversations") == "Conversations")
    # Clicking the desktop notification of a reply opens its conversation.
    _inject(gui, BOB, "Where is it now?")
    gui.wait_until(lambda: gui.window.notifier.history[-1][1] == "Where is it now?")
    gui.window.notifier._open_last()
    assert page.current is not None and page.current.remote == BOB
    page.open_conversation(_conv(gui, ALICE).id)
    # A second reply while the thread is open shows in the thread at once.
    _inject(gui, ALICE, "See you then")
    gui.wait_until(lambda: _bodies(page)[-1:] == ["See you then"])


def test_stop_shows_banner_and_blocks_reply_until_start(gui) -> None:
    page = _page(gui)
    _inject(gui, ALICE, "Hello")
    gui.wait_until(lambda: _conv(gui, ALICE) is not None)
    page.open_conversation(_conv(gui, ALICE).id)
    type_text(page.reply, "Are you sure?")  # half-written when the STOP arrives
    _inject(gui, ALICE, " Stop! ")
    gui.wait_until(lambda: page.banner.isVisibleTo(page))
    assert "opted out" in page.banner.text()
    assert not page.reply.isEnabled() and not page.send_button.isEnabled()
    page.send()  # Ctrl+Enter
    gui.settle(0.2)
    assert gui.rt.sending.messages.recent(10, direction="out") == []
    assert "opted out" in page.feedback.text()
    _inject(gui, ALICE, "START")
    gui.wait_until(lambda: not page.banner.isVisibleTo(page))
    assert page.reply.isEnabled() and page.send_button.isEnabled()


def test_search_finds_an_old_message_and_opens_the_thread_there(gui) -> None:
    account = gui.rt.accounts.by_name("Sandbox")
    items = [
        NewOutgoing(account.id, ALICE, "me", f"Update number {i}", 1, "GSM-7", Status.DELIVERED) for i in range(600)
    ]
    items[300] = NewOutgoing(account.id, ALICE, "me", "The zebra crossing is closed", 1, "GSM-7", Status.DELIVERED)
    ids = gui.rt.store.db.write_sync(lambda c: msg_store.insert_outgoing(c, items))
    page = _page(gui)
    page.list_model.reload()
    page.open_conversation(_conv(gui, ALICE).id)
    model = page.thread_view.thread_model
    assert model.rowCount() == 200 and model.has_older  # the newest page only
    page.focus_search()
    type_text(page.search, "zebra")
    press(page.search, Qt.Key.Key_Return)
    gui.wait_until(lambda: page.results.count() == 1)
    gui.wait_until(lambda: model.row_of(ids[300]) >= 0)
    assert page.thread_view.selected_message_id() == ids[300]
    assert model.rowCount() <= 200
    # Scrolling up from there loads the page before it, and nothing else.
    assert model.has_newer and model.fetch_newer() == 199 and not model.has_newer  # scrolling down
    assert page.thread_view.load_older() == 200 and model.has_older
    assert page.thread_view.load_older() == 1 and model.row_of(ids[0]) == 0 and not model.has_older
    assert page.thread_view.selected_message_id() == ids[300]


def test_failed_message_shows_reason_and_retry_sends_it(gui) -> None:
    page = _page(gui)
    srv = gui.rt.sandbox.server
    srv.config.rate_failed = 1.0
    _inject(gui, ALICE, "Hello?")
    gui.wait_until(lambda: _conv(gui, ALICE) is not None)
    page.open_conversation(_conv(gui, ALICE).id)
    type_text(page.reply, "Hi! We open at 9")
    press(page.reply, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    model = page.thread_view.thread_model

    def failed_msg():
        msgs = [model.message_at(i) for i in range(model.rowCount())]
        return next((m for m in msgs if m and m.direction == "out" and m.status == Status.FAILED), None)

    msg = gui.wait_until(failed_msg)
    assert msg.error and page.reply.toPlainText() == ""
    row = model.row_of(msg.id)
    geo = page.thread_view.bubbles.geometry(model.index(row))
    assert not geo.retry.isNull() and not geo.reason.isNull()
    srv.config.rate_failed = 0.0
    page.thread_view.scrollTo(model.index(row))
    gui.settle(0.05)
    where = page.thread_view.visualRect(model.index(row)).topLeft() + geo.retry.center()
    QTest.mouseClick(page.thread_view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
    gui.wait_until(lambda: model.message_at(model.row_of(msg.id)).status == Status.DELIVERED)
    assert "Queued again" in page.feedback.text()


def test_draft_is_kept_per_conversation_and_contact_can_be_named(gui) -> None:
    page = _page(gui)
    _inject(gui, ALICE, "Hi")
    _inject(gui, BOB, "Hello")
    gui.wait_until(lambda: page.list_model.rowCount() == 2)
    page.open_conversation(_conv(gui, ALICE).id)
    type_text(page.reply, "Half-written answer")
    page.open_conversation(_conv(gui, BOB).id)
    gui.wait_until(lambda: _conv(gui, ALICE).draft == "Half-written answer")
    assert page.reply.toPlainText() == ""
    page.open_conversation(_conv(gui, ALICE).id)
    assert page.reply.toPlainText() == "Half-written answer"
    page.set_contact_name(ALICE, "Alice Jones")
    gui.wait_until(lambda: page.title.text() == "Alice Jones")
    assert any(page.list_model.conversation_at(i).title == "Alice Jones" for i in range(2))
    hits = gui.rt.conversations.search("alice")
    assert hits and hits[0].conversation.remote == ALICE and hits[0].message_id is None


def test_ctrl_enter_in_reply_sends_even_with_compose_built(gui) -> None:
    gui.window.show_page("compose")  # Compose has its own Ctrl+Enter: no ambiguity
    page = _page(gui)
    _inject(gui, ALICE, "Are you open today?")
    gui.wait_until(lambda: _conv(gui, ALICE) is not None)
    page.list_model.reload()
    page.list.setFocus()
    QTest.keyClick(page.list, Qt.Key.Key_Home)
    QTest.keyClick(page.list, Qt.Key.Key_Return)  # Enter goes to the reply box
    assert page.reply.hasFocus() or gui.window.focusWidget() is page.reply
    type_text(page.reply, "Yes, until 6")
    press(page.reply, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    gui.wait_until(lambda: _bodies(page)[-1:] == ["Yes, until 6"])
    out = gui.rt.sending.messages.recent(5, direction="out")
    assert [m.body for m in out] == ["Yes, until 6"] and out[0].remote == ALICE


# ---- drafts --------------------------------------------------------------------------------------
def _list_line(page: ConversationsView, number: str) -> str:
    """The second line the conversation list shows for ``number`` ("Draft: ..." or the snippet)."""
    model = page.list_model
    conv = next(model.conversation_at(i) for i in range(model.rowCount()) if model.conversation_at(i).remote == number)
    return snippet(conv)[0]


def test_the_list_shows_a_saved_draft_at_once(gui) -> None:
    page = _page(gui)
    _inject(gui, ALICE, "Can I book for Friday?")
    _inject(gui, BOB, "Hello")
    gui.wait_until(lambda: page.list_model.rowCount() == 2)
    page.open_conversation(_conv(gui, ALICE).id)
    type_text(page.reply, "Friday is fine")
    page.open_conversation(_conv(gui, BOB).id)  # switching away saves the draft
    gui.wait_until(lambda: _list_line(page, ALICE) == "Draft: Friday is fine")
    page.open_conversation(_conv(gui, ALICE).id)
    clear(page.reply)
    page.open_conversation(_conv(gui, BOB).id)
    gui.wait_until(lambda: _list_line(page, ALICE) == "Can I book for Friday?")


def test_a_sent_reply_does_not_come_back_as_a_draft(gui) -> None:
    page = _page(gui)
    _inject(gui, ALICE, "Are you open today?")
    gui.wait_until(lambda: page.list_model.rowCount() == 1)
    page.open_conversation(_conv(gui, ALICE).id)
    # A busy database writer (a bulk run, say): queuing the reply takes longer than the
    # draft debounce, so a save left pending would land after the send.
    gui.rt.store.db.submit(lambda _conn: time.sleep(1.0))
    type_text(page.reply, "Yes, until 6")
    QTest.mouseClick(page.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: _bodies(page)[-1:] == ["Yes, until 6"])
    gui.settle(1.0)  # well past the debounce
    assert page.reply.toPlainText() == ""
    assert _conv(gui, ALICE).draft == ""
    assert _list_line(page, ALICE) == "You: Yes, until 6"
    page.open_conversation(_conv(gui, ALICE).id)
    assert page.reply.toPlainText() == ""


def test_closing_the_window_keeps_the_last_words_typed(gui) -> None:
    page = _page(gui)
    _inject(gui, ALICE, "What time tomorrow?")
    gui.wait_until(lambda: page.list_model.rowCount() == 1)
    page.open_conversation(_conv(gui, ALICE).id)
    type_text(page.reply, "Around ten, I")
    gui.window.close()  # within the debounce: nothing saved yet
    assert _conv(gui, ALICE).draft == "Around ten, I"


def test_a_failed_send_keeps_the_text_as_a_draft(gui) -> None:
    page = _page(gui)
    _inject(gui, ALICE, "Hi")
    _inject(gui, BOB, "Hello")
    gui.wait_until(lambda: page.list_model.rowCount() == 2)
    page.open_conversation(_conv(gui, ALICE).id)
    paste(page.reply, "x" * 2000)  # longer than any message may be: refused, not sent
    page.send()
    gui.wait_until(lambda: page.send_button.isEnabled() and page.feedback.text() not in ("", "Sending…"))
    page.open_conversation(_conv(gui, BOB).id)
    gui.wait_until(lambda: _conv(gui, ALICE).draft == "x" * 2000)


def test_the_reply_box_shows_what_the_answer_costs(gui) -> None:
    acct = gui.rt.accounts.by_name("Sandbox")
    gui.run(gui.rt.accounts.update(acct, {**acct.settings, "price_per_segment": "0.05", "currency": "EUR"}))
    page = _page(gui)
    _inject(gui, ALICE, "Are you open?")
    gui.wait_until(lambda: page.list_model.rowCount() == 1)
    page.open_conversation(_conv(gui, ALICE).id)
    type_text(page.reply, "Yes, until 6")
    assert page.thread_pane.counter.text() == "12 characters · 1 text message · about €0.05"


def test_a_conversation_is_exported_as_a_spreadsheet(gui, tmp_path) -> None:
    page = _page(gui)
    _inject(gui, ALICE, "Can I move my booking to Friday?")
    gui.wait_until(lambda: page.list_model.rowCount() == 1)
    page.open_conversation(_conv(gui, ALICE).id)
    QTest.mouseClick(page.thread_pane.export_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(
        lambda: next((w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()), None)
    )
    target = tmp_path / "alice.csv"
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    type_text(name, str(target))
    press(name, Qt.Key.Key_Return)
    gui.wait_until(lambda: page.thread_pane.feedback.text() == f"Saved 1 message to {target}.")
    [row] = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert (row["Number"], row["Direction"], row["Text"]) == (ALICE, "received", "Can I move my booking to Friday?")


def test_a_reply_over_the_monthly_limit_asks_and_goes_when_told(gui) -> None:
    acct = gui.rt.accounts.by_name("Sandbox")
    limited = {**acct.settings, "price_per_segment": "0.05", "currency": "GBP", "monthly_limit": "0.01"}
    gui.run(gui.rt.accounts.update(acct, limited))
    page = _page(gui)
    _inject(gui, ALICE, "Are you open today?")
    gui.wait_until(lambda: page.list_model.rowCount() == 1)
    page.open_conversation(_conv(gui, ALICE).id)
    type_text(page.reply, "Yes, until 6")
    QTest.mouseClick(page.thread_pane.send_button, Qt.MouseButton.LeftButton)
    box = gui.wait_until(
        lambda: next((b for b in page.findChildren(QMessageBox, "confirm_over_limit") if b.isVisible()), None)
    )
    assert "over its monthly limit of £0.01" in box.text() and box.text().endswith("Send this reply anyway?")
    assert page.thread_pane.feedback.text() == "Not sent yet: over the account's monthly spending limit."
    assert gui.rt.sending.recent_outgoing(10) == []  # nothing written while it asks
    QTest.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: [m.body for m in gui.rt.sending.recent_outgoing(10)] == ["Yes, until 6"])
    gui.wait_until(lambda: all(m.status.is_final for m in gui.rt.sending.recent_outgoing(10)))
    assert page.reply.toPlainText() == ""
