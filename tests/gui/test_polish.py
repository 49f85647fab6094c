"""Polish seen on the way, each as a person meets it: Save and Test stay under the pointer,
the Scheduled list's headers fit and say who sends, Skip run is for repeating sends, a weekly
repeat reads "every week", banners follow the dark theme, search hits are marked in the
thread, and the "Name contact" dialog is wide enough for its title."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage
from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from smsdesk.domain.schedule import Recurrence
from smsdesk.domain.status import Status
from smsdesk.services.scheduler import ScheduleRequest
from smsdesk.storage import messages as msg_store
from smsdesk.storage.messages import NewOutgoing
from smsdesk.ui import theme
from smsdesk.ui.models.schedule_model import COLUMNS, WHERE_COL
from smsdesk.ui.views.accounts_view import AccountsView
from smsdesk.ui.views.conversations_view import ConversationsView
from smsdesk.ui.views.scheduled_view import ScheduledView

ALICE = "+447911123456"


def _at(widget: QWidget, window: QWidget) -> QPoint:
    return widget.mapTo(window, QPoint(0, 0))


def test_save_and_test_stay_under_the_pointer_when_lines_appear(gui, qtbot) -> None:
    settings = gui.window.show_page("settings")
    settings.show_tab("accounts")
    view = settings.by_key["accounts"]
    assert isinstance(view, AccountsView)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    view.provider.setFocus()
    while view.provider.currentData() != "puresms":
        qtbot.keyClick(view.provider, Qt.Key.Key_Down)
    qtbot.keyClicks(view.name, "Salon")
    qtbot.mouseClick(view.sandbox_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.save_button.isVisible() and view.save_button.y() > 0)
    save, test = _at(view.save_button, gui.window), _at(view.test_button, gui.window)
    assert not view.sandbox_note.isVisible()

    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Saved 'Salon'" in view.result.text())
    # A new hint line ("Uses the built-in sandbox…") appears once it is laid out ...
    gui.wait_until(lambda: view.sandbox_note.isVisible() and view.sandbox_note.height() > 10)
    assert "Uses the built-in sandbox" in view.sandbox_note.text()
    # ... and the buttons did not move: the next click lands where the person aims.
    assert _at(view.save_button, gui.window) == save and _at(view.test_button, gui.window) == test
    qtbot.mouseClick(view.test_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.result.text().startswith("✓") and view.result.height() > 10)
    assert _at(view.save_button, gui.window) == save and _at(view.test_button, gui.window) == test


def _scheduled(gui) -> ScheduledView:
    gui.rt.scheduler.default_zone = lambda: "Europe/London"
    view = gui.window.show_page("scheduled")
    assert isinstance(view, ScheduledView)
    return view


def _schedule(gui, text: str, recurrence: Recurrence | None = None, days: int = 1):
    rt = gui.rt
    acct = rt.accounts.by_name("Sandbox").id
    when = rt.scheduler.clock() + timedelta(days=days)
    req = ScheduleRequest(acct, [ALICE], text, when, zone="Europe/London", recurrence=recurrence or Recurrence())
    return gui.run(rt.scheduler.create(req))


def _header_problems(view: ScheduledView) -> list[str]:
    header = view.table.horizontalHeader()
    fm = QFontMetrics(header.font())
    width = view.table.viewport().width()
    problems = []
    for col, label in enumerate(COLUMNS):
        left, size = header.sectionViewportPosition(col), header.sectionSize(col)
        if left < 0 or left + size > width or size < fm.horizontalAdvance(label) + 8:
            problems.append(f"{label!r}: x={left} width={size} (table {width})")
    return problems


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_the_scheduled_lists_headers_fit_and_say_who_sends_it(gui, size: tuple[int, int]) -> None:
    gui.window.resize(*size)
    _schedule(gui, "Weekly reminder: we are open late on Thursdays", Recurrence("weekly", 1, (3,)))
    _schedule(gui, "Your order is ready to collect from the shop", days=2)
    view = _scheduled(gui)
    gui.wait_until(lambda: view.model.rowCount() == 2)
    try:
        gui.wait_until(lambda: gui.window.width() == size[0] and not _header_problems(view), timeout=3)
    except AssertionError:
        pytest.fail(f"headers cut off at {size}: {_header_problems(view)}")
    assert COLUMNS[WHERE_COL] == "Sent by"
    cells = [view.model.index(r, WHERE_COL).data() for r in range(2)]
    assert cells == ["This computer", "This computer"]
    assert "keep smsdesk" in view.model.index(0, WHERE_COL).data(Qt.ItemDataRole.ToolTipRole)


def test_skip_run_is_for_repeating_sends_only(gui, qtbot) -> None:
    weekly = _schedule(gui, "Weekly reminder", Recurrence("weekly", 1, (3,)))
    once = _schedule(gui, "Your order is ready", days=2)
    view = _scheduled(gui)
    gui.wait_until(lambda: view.model.rowCount() == 2)
    for item, can_skip in ((once, False), (weekly, True)):
        row = view.model.row_of(item.id)
        rect = view.table.visualRect(view.model.index(row, 0))
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert view.selected().id == item.id
        assert view.skip_button.isEnabled() is can_skip
    row = view.model.row_of(once.id)
    qtbot.mouseClick(
        view.table.viewport(), Qt.MouseButton.LeftButton, pos=view.table.visualRect(view.model.index(row, 0)).center()
    )
    assert "use Cancel" in view.skip_button.toolTip()


def test_a_weekly_repeat_reads_every_week_not_every_1_weeks(gui, qtbot) -> None:
    view = _scheduled(gui)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    dialog.kind.setFocus()
    while dialog.kind.currentData() != "weekly":
        qtbot.keyClick(dialog.kind, Qt.Key.Key_Down)
    assert dialog.interval.isVisible()
    assert dialog.interval.lineEdit().text() == "every week"
    dialog.interval.setFocus()
    qtbot.keyClick(dialog.interval, Qt.Key.Key_Up)
    assert dialog.interval.lineEdit().text() == "every 2 weeks" and dialog.interval.value() == 2
    while dialog.kind.currentData() != "monthly":
        qtbot.keyClick(dialog.kind, Qt.Key.Key_Down)
    assert dialog.interval.lineEdit().text() == "every 2 months"
    assert dialog.recurrence() == Recurrence("monthly", 2, (), dialog.recurrence().month_day)
    dialog.reject()


def _background(widget: QWidget) -> QColor:
    """The colour a person sees just inside the widget's border, left of its text."""
    image: QImage = widget.grab().toImage()
    return image.pixelColor(4, image.height() // 2)


def _conversations(gui) -> ConversationsView:
    page = gui.window.show_page("conversations")
    assert isinstance(page, ConversationsView)
    return page


def test_banners_follow_the_dark_theme(gui, qtbot) -> None:
    rt, window = gui.rt, gui.window
    srv = rt.sandbox.server
    assert rt.sandbox.call(srv._post_inbound(ALICE, srv.config.inbound_number, "STOP"))
    account = rt.accounts.by_name("Sandbox")
    gui.wait_until(lambda: (c := rt.conversations.find(account.id, ALICE)) is not None and c.opted_out)
    page = _conversations(gui)
    page.open_conversation(rt.conversations.find(account.id, ALICE).id)
    assert page.banner.isVisible()
    assert _background(page.banner).lightness() > 200  # light theme: a light banner
    window.theme_actions["dark"].trigger()
    try:
        assert _background(page.banner).lightness() < 90, _background(page.banner).name()
        assert _background(window.demo_notice).lightness() < 90
        # The held-sends banner on Scheduled too.
        scheduled = _scheduled(gui)
        scheduled.banner.show()
        assert _background(scheduled.banner).lightness() < 90
        scheduled.banner.hide()
        # Badges: the "Opted out" pill in the list is the theme's, not a fixed red on white.
        fill, ink = theme.badge("error")
        assert (fill.name(), ink.name()) == theme.BADGES["dark"]["error"]
    finally:
        window.theme_actions["light"].trigger()
    page = _conversations(gui)
    assert _background(page.banner).lightness() > 200  # and back, live


def _marked_pixels(page: ConversationsView, message_id: int) -> int:
    row = page.thread_view.thread_model.row_of(message_id)
    rect: QRect = page.thread_view.visualRect(page.thread_view.thread_model.index(row))
    image = page.thread_view.viewport().grab().toImage()
    mark = theme.mark()[0]
    count = 0
    for y in range(max(rect.top(), 0), min(rect.bottom(), image.height() - 1)):
        for x in range(max(rect.left(), 0), min(rect.right(), image.width() - 1)):
            c = image.pixelColor(x, y)
            if abs(c.red() - mark.red()) + abs(c.green() - mark.green()) + abs(c.blue() - mark.blue()) < 24:
                count += 1
    return count


def test_search_hits_are_marked_in_the_thread(gui, qtbot) -> None:
    account = gui.rt.accounts.by_name("Sandbox")
    items = [
        NewOutgoing(account.id, ALICE, "me", f"Update number {i}", 1, "GSM-7", Status.DELIVERED) for i in range(30)
    ]
    items[12] = NewOutgoing(account.id, ALICE, "me", "The zebra crossing is closed today", 1, "GSM-7", Status.DELIVERED)
    ids = gui.rt.store.db.write_sync(lambda c: msg_store.insert_outgoing(c, items))
    page = _conversations(gui)
    page.list_model.reload()
    page.focus_search()
    qtbot.keyClicks(page.search, "zebra")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    gui.wait_until(lambda: page.thread_view.selected_message_id() == ids[12])
    gui.wait_until(lambda: _marked_pixels(page, ids[12]) > 30)  # "zebra" sits on a marker
    assert _marked_pixels(page, ids[11]) == 0  # a bubble without the word has none
    page.search.setFocus()
    qtbot.keyClick(page.search, Qt.Key.Key_Escape)  # leaving the search takes the marks away
    gui.wait_until(lambda: _marked_pixels(page, ids[12]) == 0)


def test_the_name_contact_dialog_is_wide_enough_for_its_title(gui, qtbot) -> None:
    srv = gui.rt.sandbox.server
    assert gui.rt.sandbox.call(srv._post_inbound(ALICE, srv.config.inbound_number, "Hi"))
    account = gui.rt.accounts.by_name("Sandbox")
    gui.wait_until(lambda: gui.rt.conversations.find(account.id, ALICE) is not None)
    page = _conversations(gui)
    page.open_conversation(gui.rt.conversations.find(account.id, ALICE).id)
    qtbot.mouseClick(page.name_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: page.findChild(QInputDialog, "name_dialog"))
    gui.wait_until(dialog.isVisible)
    # A title bar shows the title (in a font up to a fifth larger) beside up to three buttons.
    title = QFontMetrics(dialog.font()).horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title * 6 // 5 + 180, (dialog.width(), title)
    box = dialog.findChild(QLineEdit)
    qtbot.keyClicks(box, "Alice Jones")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    gui.wait_until(lambda: page.title.text() == "Alice Jones")
