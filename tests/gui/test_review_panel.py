"""Undecided sends offscreen: the Conversations "Needs review" filter and a bulk send's report
show each batch, say whether the provider can be asked, and settle it with one action."""

from __future__ import annotations

from PySide6.QtCore import Qt

from smsdesk.domain.status import Status
from smsdesk.services.bulk_send_flow import Step
from smsdesk.ui.views.conversations_view import ConversationsView
from smsdesk.ui.views.review_panel import BatchCard
from tests.support import interrupted


def _cards(panel) -> list[BatchCard]:  # noqa: ANN001
    return [c for c in panel.cards.values() if c.isVisible()]


def test_needs_review_filter_sends_a_batch_again_after_a_warning(gui, qtbot) -> None:  # noqa: ANN001
    sandbox = gui.rt.accounts.by_name("Sandbox")
    ids = interrupted.singles(gui.rt.store.db, sandbox.id, 3)
    view = gui.window.show_page("conversations")
    assert isinstance(view, ConversationsView)
    assert not view.review.isVisible()
    view.filter.setFocus()
    qtbot.keyClicks(view.filter, "Needs")  # type-ahead, as a person picks the filter
    assert view.filter.currentText() == "Needs review"
    gui.wait_until(lambda: _cards(view.review))
    [card] = _cards(view.review)
    assert card.title.text() == "Single messages from Sandbox · 3 messages"
    assert "cannot be asked whether these went out" in card.status.text()
    assert card.again.text() == "Send again to these 3"
    assert not card.warning.isVisible()

    qtbot.mouseClick(card.again, Qt.MouseButton.LeftButton)
    assert card.warning.isVisible() and "will get the message twice" in card.warning.text()
    assert gui.rt.sandbox.server.sent == []  # the first click only warns
    qtbot.mouseClick(card.again, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Sending 3 messages of Single messages from Sandbox again." in view.review.feedback.text())
    gui.wait_until(lambda: len(gui.rt.sandbox.server.sent) == 3)
    gui.wait_until(lambda: not _cards(view.review))
    assert {m.status for m in gui.rt.sending.messages.get_many(ids)} <= {Status.SENT, Status.DELIVERED}
    assert view.width() <= gui.window.width()


def test_bulk_report_shows_the_runs_undecided_batch_and_marks_it_sent(gui, qtbot) -> None:  # noqa: ANN001
    sandbox = gui.rt.accounts.by_name("Sandbox")
    run_id = interrupted.bulk_run(gui.rt.store.db, sandbox.id, rows=12, cut=4, state="paused")
    view = gui.window.show_page("bulk")
    w = view.wizard
    assert w.currentId() == Step.RUN and w.state.run_id == run_id
    run = w.page(Step.RUN)
    gui.wait_until(lambda: "Paused" in run.counts.text())
    qtbot.mouseClick(run.pause, Qt.MouseButton.LeftButton)  # Resume: the 8 not yet made are sent
    gui.wait_until(lambda: "Finished" in run.counts.text(), timeout=20)
    w.next()
    gui.wait_until(lambda: w.currentId() == Step.REPORT)
    report = w.page(Step.REPORT)
    gui.wait_until(lambda: _cards(report.review))
    [card] = _cards(report.review)
    assert card.title.text() == f"Bulk send {run_id} (customers.csv) from Sandbox · 4 messages"
    assert "cannot be asked" in card.status.text()
    qtbot.mouseClick(card.mark, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "Marked 4 messages" in report.review.feedback.text())
    gui.wait_until(lambda: not _cards(report.review))
    assert len(gui.rt.sandbox.server.sent) == 8  # marking sends nothing
    statuses = {r["status"] for r in gui.rt.store.db.query("SELECT status FROM messages WHERE run_id = ?", (run_id,))}
    assert "needs_review" not in statuses
