"""Two people, two desktops, one PostgreSQL workspace: a reply shows on both at once, one
person takes it and the other sees who has it, a note that @mentions a colleague notifies
them, a reply sent over a colleague's is warned about, and a resolved conversation reopens
when the customer writes again. Each desktop is a real window on its own login."""

from __future__ import annotations

import dataclasses
import gc
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from smsdesk.app import build_window
from smsdesk.cli import main as cli_main
from smsdesk.runtime import Runtime
from smsdesk.services.conversations import ListFilter
from smsdesk.ui.views.conversations_view import ConversationsView
from tests.gui.conftest import GuiHarness, close_harness, drain, mark_running
from tests.support.pg_cluster import drop_people
from tests.support.typing import focus, press, type_text

ALICE = "+447911123456"


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread() -> Iterator[None]:
    yield
    gc.collect()


def _url(owner: str, user: str) -> str:
    return owner.replace("postgresql://postgres@", f"postgresql://{user}@")


@pytest.fixture
def desks(
    qapp: Any, qloop: Any, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: Any
) -> Iterator[tuple[GuiHarness, GuiHarness, str]]:
    """ana's desktop (it also runs the relay's work: the sandbox, receiving, sending) and
    ben's (a window on the workspace only); the owner's address for checks."""
    assert cli_main(["workspace", "create", pg_database]) == 0
    for person in ("ana", "ben"):
        monkeypatch.setattr("sys.stdin", io.StringIO("their password\n"))
        assert cli_main(["--database", pg_database, "workspace", "add-user", person]) == 0
    owner = Runtime.open(str(tmp_path / "owner"), database=pg_database)
    qloop.run_until_complete(owner.accounts.ensure_sandbox())  # accounts are the owner's to add
    owner.close()
    monkeypatch.setenv("SMSDESK_SECRET_DATABASE_PASSWORD", "their password")
    harnesses: list[GuiHarness] = []
    try:
        for person in ("ana", "ben"):
            rt = Runtime.open(str(tmp_path / person), database=_url(pg_database, person))
            rt.settings.extra["sandbox_reply_rate"] = 0.0
            rt.settings.extra["sandbox_stop_rate"] = 0.0
            if person == "ana":  # ana's desktop runs the sandbox (a relay's work) for this test
                qloop.run_until_complete(rt.start(sandbox=True))
                rt.sandbox.server.config.dispatch_delay = 0.05  # type: ignore[union-attr]
                rt.sandbox.server.config.final_delay = 0.1  # type: ignore[union-attr]
            else:
                qloop.run_until_complete(
                    rt.start(sandbox=False, receiver=False, dispatcher=False, polling=False, tunnel=False)
                )
            mark_running(qloop)
            window, ctx = build_window(rt)
            window.show()
            harnesses.append(GuiHarness(rt, window, ctx, qloop))
        yield harnesses[0], harnesses[1], pg_database
    finally:
        for h in reversed(harnesses):
            close_harness(h)
        drain(qloop)
        drop_people(pg_database, "ana", "ben")  # logins belong to the whole server, not one database


def _page(h: GuiHarness) -> ConversationsView:
    page = h.window.show_page("conversations")
    assert isinstance(page, ConversationsView)
    return page


def _filter(page: ConversationsView, flt: ListFilter) -> None:
    page.filter.setCurrentIndex(page.filter.findData(flt.value))


def _shown(page: ConversationsView) -> list[str]:
    model = page.list_model
    return [model.conversation_at(i).remote for i in range(model.rowCount())]  # type: ignore[union-attr]


def _open_first(page: ConversationsView) -> None:
    page.list.setFocus()
    page.list.setCurrentIndex(page.list_model.index(0))
    QApplication.processEvents()


@pytest.mark.usefixtures("memory_keyring")
def test_two_people_share_one_inbox(desks: tuple[GuiHarness, GuiHarness, str]) -> None:
    ana, ben, owner = desks
    pa, pb = _page(ana), _page(ben)
    assert [pa.filter.itemText(i) for i in range(pa.filter.count())][:3] == ["All conversations", "Mine", "Unassigned"]

    # A reply arrives once and shows on both desktops.
    srv = ana.rt.sandbox.server  # type: ignore[union-attr]
    assert ana.rt.sandbox.call(srv._post_inbound(ALICE, srv.config.inbound_number, "Can I move my 3pm?"))  # type: ignore[union-attr]
    ana.wait_until(lambda: _shown(pa) == [ALICE] and _shown(pb) == [ALICE])
    with psycopg.connect(owner) as conn:
        assert conn.execute("SELECT count(*) FROM messages WHERE direction = 'in'").fetchone() == (1,)

    # ana opens it and takes it (Ctrl+Shift+M); ben sees who has it, in his list's filters too.
    _open_first(pa)
    _open_first(pb)
    assert "Unassigned" in pb.thread_pane.team_bar.assignee.text()  # type: ignore[union-attr]
    presence_a = pa.thread_pane.team_bar.presence  # type: ignore[union-attr]
    ana.wait_until(lambda: presence_a.text() == "ben is viewing")  # told, never stored
    focus(pa.reply)
    press(pa.reply, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    ana.wait_until(lambda: "Assigned to you" in pa.thread_pane.team_bar.assignee.text())  # type: ignore[union-attr]
    assert "Seen by ben" in pa.thread_pane.team_bar.assignee.text()  # type: ignore[union-attr]  # his read marker
    ben.wait_until(lambda: "Assigned to ana" in pb.thread_pane.team_bar.assignee.text())  # type: ignore[union-attr]
    _filter(pb, ListFilter.UNASSIGNED)
    assert _shown(pb) == []
    _filter(pa, ListFilter.MINE)
    assert _shown(pa) == [ALICE]
    _filter(pb, ListFilter.ALL)

    # ben, still seeing it unassigned a moment ago, tries to take it: told who was first.
    bar_b = pb.thread_pane.team_bar
    assert bar_b is not None
    stale = bar_b.conv
    assert stale is not None
    bar_b.conv = dataclasses.replace(stale, assignee=None)  # as it was before ana's took it showed here
    bar_b._fill_assign_menu()
    [mine] = [a for a in bar_b.assign_menu.actions() if a.text() == "Assign to me"]
    mine.trigger()
    ben.wait_until(lambda: bar_b.message.isVisible() and "Taken by ana" in bar_b.message.text())

    # ana writes a note for ben: never sent, and ben's desktop announces it.
    notes_a = pa.thread_pane.notes
    assert notes_a is not None
    notes_a.set_expanded(True)
    type_text(notes_a.edit, "@ben she prefers mornings")
    press(notes_a.edit, Qt.Key.Key_Return)
    ana.wait_until(lambda: notes_a.lines.count() >= 2)  # "ana took it" and the note
    assert "she prefers mornings" in notes_a.lines.item(notes_a.lines.count() - 1).text()
    press(notes_a.edit, Qt.Key.Key_Escape)  # Esc goes back to the reply box
    assert QApplication.focusWidget() is pa.reply
    ben.wait_until(lambda: any(title.startswith("ana mentioned you") for title, _b, _c in ben.window.notifier.history))
    assert ben.window.notifier.history[-1][1] == "@ben she prefers mornings"
    assert "ben will be notified" in notes_a.feedback.text()
    with psycopg.connect(owner) as conn:
        assert conn.execute("SELECT count(*) FROM messages WHERE direction = 'out'").fetchone() == (0,)
        assert conn.execute("SELECT actor FROM conversation_activity WHERE kind = 'note'").fetchone() == ("ana",)

    # ana answers while ben is typing; ben's send asks first.
    type_text(pb.reply, "Sure, 10am works")
    ana.wait_until(lambda: presence_a.text() == "ben is typing…")
    type_text(pa.reply, "Yes, 11am?")
    press(pa.reply, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    ana.wait_until(lambda: pa.reply.toPlainText() == "")
    ben.wait_until(lambda: any(m.body == "Yes, 11am?" for m in pb.thread_view.thread_model._rows))
    focus(pb.reply)
    press(pb.reply, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    box = ben.wait_until(lambda: pb.findChild(QMessageBox, "confirm_colleague_replied"))
    assert "ana replied in this conversation after you opened it" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    QApplication.processEvents()
    assert pb.reply.toPlainText() == "Sure, 10am works"  # kept, not sent
    with psycopg.connect(owner) as conn:
        assert conn.execute("SELECT sent_by FROM messages WHERE direction = 'out'").fetchall() == [("ana",)]

    # ana resolves it; a new reply from the customer reopens it on both desktops.
    pa.thread_pane.team_bar.resolve_button.click()  # type: ignore[union-attr]
    ben.wait_until(lambda: pb.thread_pane.team_bar.assignee.text().startswith("Resolved"))  # type: ignore[union-attr]
    assert srv is not None and ana.rt.sandbox.call(srv._post_inbound(ALICE, srv.config.inbound_number, "Thanks!"))  # type: ignore[union-attr]
    ben.wait_until(lambda: pb.thread_pane.team_bar.assignee.text().startswith("Open"))  # type: ignore[union-attr]
    ana.wait_until(lambda: pa.thread_pane.team_bar.assignee.text().startswith("Open"))  # type: ignore[union-attr]

    # Reports: what each person sent and how fast they answered.
    reports = ben.window.show_page("reports")
    people = reports.people  # type: ignore[attr-defined]
    assert people.isVisibleTo(reports)
    ben.wait_until(lambda: people.rowCount() >= 1 and people.item(0, 0) is not None)
    shown = {
        people.item(r, 0).text(): (people.item(r, 1).text(), people.item(r, 2).text()) for r in range(people.rowCount())
    }
    assert shown == {"ana": ("1", "1")}
