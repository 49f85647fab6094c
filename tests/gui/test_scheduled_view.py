"""The Scheduled page offscreen: schedule, edit, pause, resume, cancel (confirmed), held banner."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import QMessageBox

from smsdesk.domain.contacts import ContactDraft, DraftNumber
from smsdesk.services.scheduler import ScheduleRequest
from smsdesk.ui.models.schedule_model import STATE_COL
from smsdesk.ui.views.scheduled_view import ScheduledView
from smsdesk.ui.widgets.template_picker import TemplatePicker
from tests.support.completion import pick
from tests.support.typing import focus, press, replace_text, type_text


def _view(gui) -> ScheduledView:
    gui.rt.scheduler.default_zone = lambda: "Europe/London"
    view = gui.window.show_page("scheduled")
    assert isinstance(view, ScheduledView)
    return view


def _state(view: ScheduledView, row: int = 0) -> str:
    return view.model.index(row, STATE_COL).data() or ""


def _press_yes(gui, view: ScheduledView, name: str) -> None:
    box = gui.wait_until(lambda: view.findChild(QMessageBox, name))
    box.button(QMessageBox.StandardButton.Yes).click()


def test_schedule_edit_pause_resume_cancel(gui, qtbot) -> None:
    view = _view(gui)
    assert view.empty.isVisible() and not view.banner.isVisible()
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    type_text(dialog.to, "07911 123456, 07911 123457")
    type_text(dialog.body, "Your table is booked for 7pm")
    tomorrow = QDate.currentDate().addDays(1)
    dialog.when.setDateTime(QDateTime(tomorrow, QTime(9, 0)))
    replace_text(dialog.zone, "Europe/London")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1 and view.dialog is None)
    item = view.model.item_at(0)
    assert item.recipient_count == 2 and item.first_local.hour == 9 and _state(view) == "Scheduled"
    assert view.model.index(0, 0).data().endswith("09:00 GMT") or view.model.index(0, 0).data().endswith("09:00 BST")

    # edit: new text, one recipient, weekly on two days
    view.select(item.id)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    assert dialog.body.toPlainText() == "Your table is booked for 7pm"
    replace_text(dialog.body, "Your table is booked for 8pm")
    replace_text(dialog.to, "07911 123456")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.dialog is None)
    gui.wait_until(lambda: view.model.item_at(0).body == "Your table is booked for 8pm")
    assert view.model.item_at(0).recipient_count == 1

    # pause and resume
    view.select(item.id)
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: _state(view) == "Paused")
    assert view.resume_button.isEnabled() and not view.pause_button.isEnabled()
    qtbot.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: _state(view) == "Scheduled")

    # cancel asks first; "No" keeps it
    view.select(item.id)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    box = gui.wait_until(lambda: view.findChild(QMessageBox, "confirm_cancel"))
    box.button(QMessageBox.StandardButton.No).click()
    gui.settle(0.2)
    assert _state(view) == "Scheduled"
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    _press_yes(gui, view, "confirm_cancel")
    gui.wait_until(lambda: view.model.rowCount() == 0)  # finished items are hidden by default
    view.show_finished.setChecked(True)
    assert _state(view) == "Cancelled"
    assert gui.rt.sandbox.server.sent == []


def test_bad_input_stays_in_the_dialog(gui, qtbot) -> None:
    view = _view(gui)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    type_text(dialog.to, "12345")
    type_text(dialog.body, "Hi")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: dialog.error.text())
    assert "12345" in dialog.error.text() and view.dialog is dialog
    dialog.reject()


def test_held_item_shows_a_banner_and_send_now_sends_it(gui, qtbot) -> None:
    view = _view(gui)
    rt = gui.rt
    acct = rt.accounts.by_name("Sandbox").id
    real = rt.scheduler.clock
    base = real()
    item = gui.run(
        rt.scheduler.create(ScheduleRequest(acct, ["07911 123456"], "held one", base + timedelta(minutes=5)))
    )
    rt.scheduler.clock = lambda: base + timedelta(hours=3)  # as if the app was closed meanwhile
    gui.wait_until(lambda: rt.scheduler.get(item.id).state == "held")
    gui.wait_until(lambda: view.banner.isVisible())
    assert "held" in view.banner_text.text()
    qtbot.mouseClick(view.banner_button, Qt.MouseButton.LeftButton)
    assert view.selected().id == item.id and "not running" in (view.model.index(0, 7).data() or "")
    qtbot.mouseClick(view.send_now_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: len(rt.sandbox.server.sent) == 1)
    gui.wait_until(lambda: not view.banner.isVisible())
    rt.scheduler.clock = real
    [sent] = rt.sandbox.server.sent
    assert (sent.recipient, sent.content) == ("+447911123456", "held one")
    assert rt.scheduler.held_count() == 0 and rt.scheduler.get(item.id).state in ("running", "done")


def test_send_now_over_the_monthly_limit_asks_first_and_sends_on_yes(gui, qtbot) -> None:
    view = _view(gui)
    rt = gui.rt
    acct = rt.accounts.by_name("Sandbox")
    gui.run(
        rt.accounts.update(
            acct, {**acct.settings, "price_per_segment": "0.10", "currency": "GBP", "monthly_limit": "0.05"}
        )
    )
    when = rt.scheduler.clock() + timedelta(days=1)
    item = gui.run(rt.scheduler.create(ScheduleRequest(acct.id, ["07911 123456"], "Your table is ready", when)))
    gui.wait_until(lambda: view.model.rowCount() == 1)
    view.select(item.id)
    qtbot.mouseClick(view.send_now_button, Qt.MouseButton.LeftButton)
    box = gui.wait_until(lambda: view.findChild(QMessageBox, "confirm_over_limit"))
    assert "over its monthly limit of £0.05" in box.text() and "Send it anyway?" in box.text()
    assert "not sent" in view.feedback.text() and rt.sandbox.server.sent == []
    box.button(QMessageBox.StandardButton.No).click()
    gui.settle(0.2)
    assert rt.sandbox.server.sent == [] and rt.scheduler.get(item.id).state == "scheduled"

    qtbot.mouseClick(view.send_now_button, Qt.MouseButton.LeftButton)
    _press_yes(gui, view, "confirm_over_limit")
    gui.wait_until(lambda: len(rt.sandbox.server.sent) == 1)
    assert f"#{item.id} is being sent now." in view.feedback.text()
    gui.wait_until(lambda: all(m.status.is_final for m in rt.sending.recent_outgoing(10)))


def test_options_set_quiet_hours_and_provider_side(gui, qtbot) -> None:
    view = _view(gui)
    qtbot.mouseClick(view.options_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.options)
    assert "cancel" in dialog.notice.text().lower()
    replace_text(dialog.quiet, "21:00-08:00")
    dialog.provider_side.setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.options is None)
    acct = gui.rt.accounts.by_name("Sandbox")
    assert acct.settings["quiet_hours"] == "21:00-08:00" and acct.settings["provider_schedule"] == "on"


def test_a_big_run_is_planned_off_the_gui_loop(gui, monkeypatch) -> None:
    import threading

    from smsdesk.services import scheduler as scheduler_module

    view = _view(gui)
    rt = gui.rt
    acct = rt.accounts.by_name("Sandbox").id
    numbers = [f"+4479111{i:05d}" for i in range(250)]  # above OFF_LOOP_AT: worker thread under qasync
    planned_on: list[threading.Thread] = []
    real_plan = scheduler_module.make_plan

    def make_plan(*args):  # noqa: ANN002, ANN202 - records where the planning ran
        planned_on.append(threading.current_thread())
        return real_plan(*args)

    monkeypatch.setattr(scheduler_module, "make_plan", make_plan)
    base = rt.scheduler.clock()
    item = gui.run(rt.scheduler.create(ScheduleRequest(acct, numbers, "Big", base + timedelta(minutes=5))))
    assert item.recipient_count == 250
    real = rt.scheduler.clock
    rt.scheduler.clock = lambda: base + timedelta(minutes=5, seconds=1)
    gui.wait_until(lambda: len(rt.scheduler.repo.message_ids(item.id)) == 250, timeout=30)
    rt.scheduler.clock = real
    # The seconds of number work ran on a worker thread, never on the thread that paints the window.
    assert planned_on and all(t is not threading.main_thread() for t in planned_on)
    gui.wait_until(lambda: view.model.rowCount() >= 1)


def test_held_sends_are_announced_on_whatever_page_is_open(gui, qtbot) -> None:
    rt = gui.rt
    window = gui.window
    rt.scheduler.default_zone = lambda: "Europe/London"
    assert "scheduled" not in window.pages  # the person is on Compose; Scheduled was never opened
    acct = rt.accounts.by_name("Sandbox").id
    base = rt.scheduler.clock()
    item = gui.run(
        rt.scheduler.create(ScheduleRequest(acct, ["07911 123456"], "held one", base + timedelta(minutes=5)))
    )
    assert not window.held_label.isVisible()
    rt.scheduler.clock = lambda: base + timedelta(hours=3)  # as if the app was closed meanwhile
    gui.wait_until(lambda: rt.scheduler.get(item.id).state == "held")
    gui.wait_until(lambda: window.held_label.isVisible())
    assert "1 scheduled send held" in window.held_label.text()
    row = next(i for i in range(window.nav.count()) if window.nav.item(i).data(Qt.ItemDataRole.UserRole) == "scheduled")
    assert window.nav.item(row).text().endswith("(1)")
    assert "confirmation" in window.nav.item(row).toolTip()
    window.held_label.linkActivated.emit("scheduled")  # the person clicks the link
    view = window.pages["scheduled"]
    assert window.stack.currentWidget() is view and view.banner.isVisible()
    view.select(item.id)
    # A one-off has no later run to keep: it is cancelled, not skipped.
    assert not view.skip_button.isEnabled() and "use Cancel" in view.skip_button.toolTip()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    _press_yes(gui, view, "confirm_cancel")
    gui.wait_until(lambda: not window.held_label.isVisible())
    assert window.nav.item(row).text() == "Scheduled"
    rt.scheduler.clock = lambda: base


def test_a_bulk_sends_text_is_read_only_in_the_edit_dialog(gui, qtbot) -> None:
    view = _view(gui)
    rt = gui.rt
    acct = rt.accounts.by_name("Sandbox").id
    when = rt.scheduler.clock() + timedelta(days=1)
    personal = {"+447911123456": "Hi Ann", "+447911123457": "Hi Bob"}
    item = gui.run(
        rt.scheduler.create(ScheduleRequest(acct, list(personal), "Hi {{name}}", when, personalised=personal))
    )
    assert item.kind == "bulk"
    gui.wait_until(lambda: view.model.row_of(item.id) >= 0)
    view.select(item.id)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    assert dialog.body.isReadOnly() and dialog.to.isReadOnly()
    assert "import the file again" in dialog.body.toolTip() and "import the file again" in dialog.hint.text()
    dialog.reject()


def _member(gui, group_id: int, name: str, given: str, number: str) -> None:
    contact = gui.run(gui.rt.contacts.add(ContactDraft(name=name, given_name=given, numbers=(DraftNumber(number),))))
    gui.run(gui.rt.groups.add_members(group_id, [contact.contact_id]))


def test_a_group_is_scheduled_by_name_and_each_run_takes_its_members_then(gui, qtbot) -> None:
    rt = gui.rt
    gid = gui.run(rt.groups.create("Regulars"))
    _member(gui, gid, "Ann Lee", "Ann", "07911 123456")
    _member(gui, gid, "Bob Carr", "Bob", "07911 123457")
    gui.run(rt.templates.add("Reminder", "", "Hi {{first_name|there}}, see you tomorrow"))
    view = _view(gui)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    type_text(dialog.to, "@reg")
    pick(gui, dialog.to_completer, "Group: Regulars (2 people)")
    assert dialog.to.text() == "@Regulars, "
    focus(dialog.body)
    press(dialog.body, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    picker = gui.wait_until(lambda: dialog.findChild(TemplatePicker))
    press(picker.search, Qt.Key.Key_Return)
    assert dialog.body.toPlainText() == "Hi {{first_name|there}}, see you tomorrow"
    dialog.when.setDateTime(QDateTime(QDate.currentDate().addDays(1), QTime(9, 0)))
    replace_text(dialog.zone, "Europe/London")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: view.model.rowCount() == 1 and view.dialog is None)
    assert view.model.index(0, 1).data() == "@Regulars (2 last time)"

    _member(gui, gid, "Cat Diaz", "Cat", "07911 123458")  # joins after it was scheduled
    view.select(view.model.item_at(0).id)
    qtbot.mouseClick(view.send_now_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: len(rt.sandbox.server.sent) == 3)
    got = sorted((s.recipient, s.content) for s in rt.sandbox.server.sent)
    assert got == [
        ("+447911123456", "Hi Ann, see you tomorrow"),
        ("+447911123457", "Hi Bob, see you tomorrow"),
        ("+447911123458", "Hi Cat, see you tomorrow"),
    ]
    gui.wait_until(lambda: all(m.status.is_final for m in rt.sending.recent_outgoing(10)))


def test_a_group_mixed_with_numbers_is_refused_in_the_dialog(gui, qtbot) -> None:
    gui.run(gui.rt.groups.create("Regulars"))
    view = _view(gui)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = gui.wait_until(lambda: view.dialog)
    type_text(dialog.to, "@Regulars, 07911 123456")
    type_text(dialog.body, "Hello")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "one group, or to numbers and names, not both" in dialog.error.text())
    replace_text(dialog.to, "Nobody Here")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "No contact is called 'Nobody Here'" in dialog.error.text())
    assert view.model.rowCount() == 0
