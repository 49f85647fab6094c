"""The bulk import wizard offscreen: file -> mapping -> check -> message -> send -> run -> report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtCore import Qt

from smsdesk.services.bulk_send_flow import Step
from smsdesk.ui.views.bulk_send.view import BulkSendView
from tests.support.typing import replace_text, type_text

DATA = Path(__file__).resolve().parents[1] / "data"


def _open(gui) -> BulkSendView:  # noqa: ANN001
    view = gui.window.show_page("bulk")
    assert isinstance(view, BulkSendView)
    return view


def _next(gui, view: BulkSendView, step: Step) -> None:  # noqa: ANN001
    w = view.wizard
    gui.wait_until(
        lambda: w.button(w.WizardButton.NextButton).isEnabled() or w.button(w.WizardButton.CommitButton).isEnabled()
    )
    if w.currentId() == Step.SEND:
        w.button(w.WizardButton.CommitButton).click()
    else:
        w.next()
    gui.wait_until(lambda: w.currentId() == step, timeout=20)


def test_messy_file_to_personalised_send_and_report(gui, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    view = _open(gui)
    w = view.wizard
    file_page = w.page(Step.FILE)
    type_text(file_page.path, str(DATA / "csv/semicolon_cp1252.csv"))
    qtbot.mouseClick(file_page.load_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.state.table is not None and not w.busy)
    assert "semicolon-separated" in file_page.info.text()
    assert file_page.encoding.currentText() == "Western European (Windows-1252)"
    assert file_page.model.index(0, 0).data() == "Jürgen Müller"

    _next(gui, view, Step.MAPPING)
    mapping = w.page(Step.MAPPING)
    assert mapping.grid.cellWidget(1, 2).currentData() == "phone"  # "Mobil" guessed
    assert "{{betrag}}" in mapping.fields.text()

    _next(gui, view, Step.VALIDATION)
    check = w.page(Step.VALIDATION)
    gui.wait_until(lambda: check.report is not None)
    assert "3 rows: 3 accepted, 0 rejected" in check.summary.text()

    _next(gui, view, Step.MESSAGE)
    msg = w.page(Step.MESSAGE)
    assert msg.account.currentText() == "Sandbox"
    type_text(msg.template, "Hallo {{first_name}}, offen: {{betrag}}")
    gui.wait_until(lambda: msg.model.rowCount() == 3 and not w.busy, timeout=10)
    assert msg.model.index(0, 2).data() == "Hallo Jürgen, offen: 12,50 €"
    assert "UCS-2" in [msg.model.index(r, 4).data() for r in range(3)]  # Zoë Brontë's ë
    assert "3 segments for 3 messages" in msg.totals.text()

    _next(gui, view, Step.SEND)
    send = w.page(Step.SEND)
    send.save_group.setChecked(True)
    replace_text(send.group_name, "Stammkunden")
    _next(gui, view, Step.RUN)
    run = w.page(Step.RUN)
    gui.wait_until(lambda: "Finished" in run.counts.text(), timeout=20)
    sent = Counter(r.recipient for r in gui.rt.sandbox.server.sent)
    assert sent == Counter({"+4915123456789": 1, "+4520123456": 1, "+447911123461": 1})

    _next(gui, view, Step.REPORT)
    report = w.page(Step.REPORT)
    gui.wait_until(lambda: "3 rows in the file = 3 accepted + 0 rejected" in report.text.text())
    assert gui.rt.store.db.query_one("SELECT count(*) FROM contact_groups WHERE name = 'Stammkunden'")[0] == 1


def test_rejects_are_shown_and_exported_then_pause_resume(gui, tmp_path: Path) -> None:  # noqa: ANN001
    src = tmp_path / "big.csv"
    src.write_text(
        "name,phone\n" + "".join(f"P{i},07400{i:06d}\n" for i in range(300)) + "Bad,12345\nDup,07400000001\n"
    )
    gui.rt.sandbox.server.config.latency = 0.03
    gui.rt.bulk_send.window = 20
    view = _open(gui)
    w = view.wizard
    type_text(w.page(Step.FILE).path, str(src))
    w.page(Step.FILE).load()
    gui.wait_until(lambda: w.state.table is not None and not w.busy)
    _next(gui, view, Step.MAPPING)
    _next(gui, view, Step.VALIDATION)
    check = w.page(Step.VALIDATION)
    gui.wait_until(lambda: check.report is not None)
    assert "302 rows: 300 accepted, 2 rejected" in check.summary.text()
    check.show_what.setCurrentIndex(1)
    assert check.model.rowCount() == 2
    out = tmp_path / "rejects.csv"
    check.export_to(str(out))
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "name,phone,row,reason,detail" and lines[1].startswith("Bad,12345,301,Invalid number")
    _next(gui, view, Step.MESSAGE)
    msg = w.page(Step.MESSAGE)
    type_text(msg.template, "Hi {{name}}")
    gui.wait_until(lambda: msg.model.rowCount() == 300 and not w.busy, timeout=10)
    _next(gui, view, Step.SEND)
    _next(gui, view, Step.RUN)
    run = w.page(Step.RUN)
    gui.wait_until(lambda: len(gui.rt.sandbox.server.sent) >= 20, timeout=20)
    run.pause.click()
    gui.wait_until(lambda: "Paused" in run.counts.text() and run.pause.text() == "Resume", timeout=10)
    run.pause.click()
    gui.wait_until(lambda: "Finished" in run.counts.text(), timeout=30)
    assert max(Counter(r.recipient for r in gui.rt.sandbox.server.sent).values()) == 1
    assert len(gui.rt.sandbox.server.sent) == 300
    _next(gui, view, Step.REPORT)
    report = w.page(Step.REPORT)
    gui.wait_until(lambda: "302 rows in the file = 300 accepted + 2 rejected" in report.text.text())
    out2 = tmp_path / "rejects2.csv"
    report.export_to(str(out2))
    assert len(out2.read_text(encoding="utf-8-sig").splitlines()) == 3


def test_a_run_left_by_a_previous_session_opens_on_its_progress_page(gui, tmp_path: Path) -> None:  # noqa: ANN001
    """The app was closed mid-run: the run resumed by itself; the page shows it and its controls."""
    from smsdesk.services.bulk_send_flow import BulkSendFlow

    src = tmp_path / "left.csv"
    src.write_text("name,phone\n" + "".join(f"P{i},07400{i:06d}\n" for i in range(60)))
    wiz = BulkSendFlow(gui.rt.bulk_send)
    wiz.load(src)
    wiz.set_account(gui.rt.accounts.by_name("Sandbox").id)
    wiz.set_template("Hi {{name}}")
    gui.rt.bulk_send.window = 10
    run_id = gui.run(wiz.start())
    gui.run(gui.rt.bulk_send.pause(run_id))
    view = _open(gui)
    w = view.wizard
    assert w.currentId() == Step.RUN and w.state.run_id == run_id
    run = w.page(Step.RUN)
    gui.wait_until(lambda: "Paused" in run.counts.text())
    run.pause.click()  # Resume
    gui.wait_until(lambda: "Finished" in run.counts.text(), timeout=20)
    assert len({r.recipient for r in gui.rt.sandbox.server.sent}) == 60 == len(gui.rt.sandbox.server.sent)
    _next(gui, view, Step.REPORT)
    w.page(Step.REPORT).findChild(type(run.pause), "again").click()
    assert w.currentId() == Step.FILE and w.state.run_id is None


def test_a_big_file_is_checked_by_worker_processes_with_the_same_verdicts(gui, tmp_path: Path) -> None:  # noqa: ANN001
    """From 20,000 rows the wizard has worker processes judge the rows (spawned when the file
    is read) and waits for them without blocking the window: the summary, the rejects and the
    personalised texts are the ones the window's own check gives."""
    from smsdesk.services.cpu_pool import CpuPool

    src = tmp_path / "big.csv"
    rows = "".join(f"P{i} Smith,07400{i:06d}\n" for i in range(21_000))
    src.write_text("name,phone\n" + rows + "Bad,12345\nDup,07400000001\n")
    cpu = gui.rt.bulk_send.cpu = CpuPool(workers=1)  # one worker, whatever this machine has
    try:
        view = _open(gui)
        w = view.wizard
        type_text(w.page(Step.FILE).path, str(src))
        w.page(Step.FILE).load()
        gui.wait_until(lambda: w.state.table is not None and not w.busy, timeout=20)
        _next(gui, view, Step.MAPPING)
        _next(gui, view, Step.VALIDATION)
        check = w.page(Step.VALIDATION)
        gui.wait_until(lambda: check.report is not None, timeout=60)
        assert "21,002 rows: 21,000 accepted, 2 rejected" in check.summary.text()
        check.show_what.setCurrentIndex(1)
        assert check.model.rowCount() == 2
        _next(gui, view, Step.MESSAGE)
        msg = w.page(Step.MESSAGE)
        type_text(msg.template, "Hi {{name}}")
        gui.wait_until(lambda: msg.model.rowCount() > 0 and not w.busy and w.state.template is not None, timeout=60)
        texts = [i.text for i in w.state.report.items if i.accepted]
        assert len(texts) == 21_000 and texts[:2] == ["Hi P0 Smith", "Hi P1 Smith"] and texts[-1] == "Hi P20999 Smith"
    finally:
        cpu.close()
