"""The Reports page offscreen, with messages sent through the sandbox: the figures a person reads,
switching the period, one send in detail down to a conversation, and exports that read back."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import openpyxl
import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from smsdesk.services.send import Draft
from smsdesk.ui.views.reports.log_dialog import LogExportDialog
from smsdesk.ui.views.reports.send_dialog import SendDetailDialog
from smsdesk.ui.views.reports.view import ReportsView
from tests.support.bulk_flow import ready_to_send
from tests.support.typing import clear, focus, press, type_text

FIRST = "+447911000001"


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread():
    yield
    gc.collect()


def _fill(gui, tmp_path: Path) -> None:
    """A bulk send to three people (all delivered, one replies) and one message that fails."""
    rt = gui.rt
    cfg = rt.sandbox.server.config
    cfg.rate_failed = cfg.rate_rejected = cfg.rate_expired = 0.0
    acct = rt.accounts.by_name("Sandbox")
    gui.run(rt.accounts.update(acct, {**acct.settings, "price_per_segment": "0.04", "currency": "GBP"}))
    people = tmp_path / "clients.csv"
    people.write_text("name,phone\nAnn,07911000001\nBob,07911000002\nCat,07911000003\n", encoding="utf-8")
    wiz = ready_to_send(rt.bulk_send, people, acct.id, "Hi {{name}}, your table is ready")
    run_id = gui.run(wiz.start())
    gui.wait_until(lambda: rt.bulk_send.progress(run_id).done, timeout=20)
    gui.wait_until(lambda: all(m.status.is_final for m in rt.sending.recent_outgoing(10)))
    cfg.rate_failed = 1.0
    gui.run(rt.sending.send(Draft(acct.id, ["07911 000009"], "Your order is ready")))
    gui.wait_until(lambda: len(rt.sending.recent_outgoing(10)) == 4)
    gui.wait_until(lambda: all(m.status.is_final for m in rt.sending.recent_outgoing(10)))
    srv = rt.sandbox.server
    assert rt.sandbox.call(srv._post_inbound(FIRST, srv.config.inbound_number, "Thanks, see you!"))
    gui.wait_until(lambda: rt.conversations.find(acct.id, FIRST).unread == 1)  # type: ignore[union-attr]


def _open(gui) -> ReportsView:
    focus(gui.window)
    press(gui.window, Qt.Key.Key_9, Qt.KeyboardModifier.ControlModifier)
    view = gui.window.show_page("reports")
    assert isinstance(view, ReportsView) and view.isVisible()
    return view


def _value(view: ReportsView, key: str) -> str:
    return view.figures[key].value.text()


def _save_as(gui, path: Path) -> None:
    """Type a file name into the export dialog and press Enter, as a person does."""
    dialog = gui.wait_until(
        lambda: next((w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()), None)
    )
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    focus(name)
    type_text(name, str(path))
    press(name, Qt.Key.Key_Return)


def test_the_figures_show_and_the_period_switches(gui, tmp_path: Path) -> None:
    _fill(gui, tmp_path)
    view = _open(gui)
    gui.wait_until(lambda: _value(view, "sent") == "4")
    assert _value(view, "delivered") == "75.0%"
    assert _value(view, "failed") == "1"
    assert _value(view, "cost") == "£0.16"
    assert _value(view, "received") == "1"
    assert _value(view, "reply_rate") == "33.3%"
    assert view.figures["reply_rate"].note.text() == "1 of 3 delivered"
    assert "Why messages failed" in view.failures.text()
    chart = view.charts["messages"]
    assert chart.model.rowCount() == 30 and not chart.chart.data.is_empty
    assert view.empty.isHidden()

    focus(view.period)
    press(view.period, Qt.Key.Key_Down)  # This month
    press(view.period, Qt.Key.Key_Down)  # Last month: nothing was sent then
    assert view.period.currentText() == "Last month"
    gui.wait_until(lambda: view.empty.isVisible())
    assert "No messages were sent or received in this period" in view.empty.text()
    assert view.scroller.isHidden()
    press(view.period, Qt.Key.Key_Up)
    press(view.period, Qt.Key.Key_Up)
    gui.wait_until(lambda: view.scroller.isVisible() and _value(view, "sent") == "4")


def test_a_send_opens_in_detail_and_leads_to_the_conversation(gui, tmp_path: Path) -> None:
    _fill(gui, tmp_path)
    view = _open(gui)
    gui.wait_until(lambda: view.sends_model.rowCount() == 1)
    model = view.sends_model
    assert [model.cell(model.sends[0], c) for c in (1, 3, 4, 5, 7, 10)] == ["Bulk send", "3", "3", "0", "1", "£0.12"]
    replied = model.index(0, 7)  # the "Replied" number
    view.sends.scrollTo(replied)
    where = view.sends.visualRect(replied).center()
    QTest.mouseClick(view.sends.viewport(), Qt.MouseButton.LeftButton, pos=where)
    QTest.mouseDClick(view.sends.viewport(), Qt.MouseButton.LeftButton, pos=where)
    dialog = gui.wait_until(lambda: view.findChild(SendDetailDialog, "send_detail"))
    assert dialog.filter.currentText() == "Replied"
    assert dialog.model.rowCount() == 1
    assert dialog.model.data(dialog.model.index(0, 0)) == "Ann"
    assert "3 delivered" in dialog.findChild(type(dialog.count), "send_detail_summary").text()
    dialog.table.setFocus()
    dialog.table.setCurrentIndex(dialog.model.index(0, 0))
    press(dialog.table, Qt.Key.Key_Return)
    convs = gui.window.show_page("conversations")
    gui.wait_until(lambda: convs.isVisible() and convs.thread_pane.current is not None)
    assert convs.thread_pane.current.remote == FIRST


def test_exports_read_back_to_the_same_numbers(gui, tmp_path: Path) -> None:
    _fill(gui, tmp_path)
    view = _open(gui)
    gui.wait_until(lambda: _value(view, "sent") == "4")

    view.export_actions["report_csv"].trigger()
    target = tmp_path / "out" / "report.csv"
    target.parent.mkdir()
    _save_as(gui, target)
    gui.wait_until(lambda: view.banner.text() == f"Saved the report as {target}.")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    figures = {r[0]: r[1] for r in rows if len(r) == 2}
    assert figures["Messages sent"] == "4" and figures["Delivered"] == "3" and figures["Failed"] == "1"
    assert figures["Cost"] == "£0.16" and figures["Replies received"] == "1"

    view.export_actions["log_csv"].trigger()
    choose = gui.wait_until(lambda: view.findChild(LogExportDialog, "log_export"))
    QTest.mouseClick(choose.export_button, Qt.MouseButton.LeftButton)  # every message of the period
    log = tmp_path / "out" / "messages.csv"
    _save_as(gui, log)
    gui.wait_until(lambda: view.banner.text() == f"Saved 5 messages (every message) to {log}.")
    lines = list(csv.DictReader(log.read_text(encoding="utf-8-sig").splitlines()))
    assert {r["Number"] for r in lines} >= {FIRST, "+447911000009"}  # E.164
    assert [r["Direction"] for r in lines].count("received") == 1

    focus(view.sends)
    press(view.sends, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)  # the report as a PDF
    pdf = tmp_path / "out" / "report.pdf"
    _save_as(gui, pdf)
    gui.wait_until(lambda: view.banner.text() == f"Saved the report as {pdf}.")
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert "Messages sent 4" in text and "Delivered 3" in text and "£0.16" in text
    assert "Messages sent per day" in text and "Sends" in text
    assert not list((tmp_path / "out").glob("*.part"))


def test_an_export_to_a_folder_that_cannot_be_written_says_so(gui, tmp_path: Path) -> None:
    view = _open(gui)
    gui.wait_until(lambda: view.report is not None)
    not_a_folder = tmp_path / "notes.txt"  # a file where a folder should be (root can write anywhere else)
    not_a_folder.write_text("x")
    view.export_to("report_csv", not_a_folder / "report.csv")
    gui.wait_until(lambda: "Cannot write in" in view.banner.text())
    assert "Choose another folder" in view.banner.text()
    missing = tmp_path / "gone"
    view.export_to("report_pdf", missing / "report.pdf")
    gui.wait_until(lambda: "does not exist" in view.banner.text())
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("report.*"))  # nothing half-written


def test_the_message_log_export_is_narrowed_by_status_and_person(gui, tmp_path: Path) -> None:
    _fill(gui, tmp_path)
    view = _open(gui)
    gui.wait_until(lambda: _value(view, "sent") == "4")
    view.export_actions["log_csv"].trigger()
    dialog = gui.wait_until(lambda: view.findChild(LogExportDialog, "log_export"))
    type_text(dialog.person, "Nobody at all")
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "No contact is called 'Nobody at all', and it is not a phone number."
    clear(dialog.person)
    focus(dialog.status)
    press(dialog.status, Qt.Key.Key_Down)
    press(dialog.status, Qt.Key.Key_Down)
    assert dialog.status.currentText() == "Failed"
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    failed = tmp_path / "failed.csv"
    _save_as(gui, failed)
    gui.wait_until(lambda: view.banner.text() == f"Saved 1 message (failed) to {failed}.")
    [row] = list(csv.DictReader(failed.read_text(encoding="utf-8-sig").splitlines()))
    assert (row["Number"], row["Status"]) == ("+447911000009", "failed")

    view.export_actions["log_xlsx"].trigger()
    dialog = gui.wait_until(lambda: next((d for d in view.findChildren(LogExportDialog) if d.isVisible()), None))
    type_text(dialog.person, "07911 000001")
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    book = tmp_path / "ann.xlsx"
    _save_as(gui, book)
    gui.wait_until(lambda: view.banner.text() == f"Saved 2 messages (with 07911 000001) to {book}.")
    rows = list(openpyxl.load_workbook(book).worksheets[0].iter_rows(values_only=True))
    assert [(r[2], r[3]) for r in rows[1:]] == [("sent", FIRST), ("received", FIRST)]
