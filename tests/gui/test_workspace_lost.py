"""A desktop whose workspace goes out of reach keeps its window: a banner says since when, a
reply written meanwhile is kept on this computer (not sent, not lost, no error dialogs), and
when the server answers again the banner goes and the reply is the conversation's draft."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from smsdesk.app import build_window
from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from smsdesk.ui.views.conversations_view import ConversationsView
from tests.gui.conftest import GuiHarness, close_harness, drain, mark_running
from tests.support.typing import focus, press, type_text


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture
def desk(qapp: Any, qloop: Any, pg_workspace: str, tmp_path: Path) -> Iterator[GuiHarness]:
    rt = Runtime.open(str(tmp_path / "desk"), database=pg_workspace)
    qloop.run_until_complete(rt.start(sandbox=False, receiver=False, dispatcher=False, polling=False, tunnel=False))
    mark_running(qloop)
    window, ctx = build_window(rt)
    window.show()
    h = GuiHarness(rt, window, ctx, qloop)
    try:
        yield h
    finally:
        close_harness(h)
        drain(qloop)


def _cut(pg_cluster: Any, database: str, allow: bool) -> None:
    """Refuse (or allow again) every connection to the workspace, ending the open ones: as
    a server restart or a network cut looks from the desktop."""
    pg_cluster.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allow).lower()}')
    if not allow:
        pg_cluster.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
            " AND pid <> pg_backend_pid()"
        )


def test_a_lost_workspace_keeps_the_window_and_the_reply(
    desk: GuiHarness, pg_cluster: Any, pg_workspace: str, expect_warnings: Any
) -> None:
    database = pg_workspace.rsplit("/", 1)[1]
    account = desk.rt.accounts.all()[0]
    desk.run(desk.rt.sending.send(Draft(account.id, ["07911 123456"], "Your table is booked")))
    page = desk.window.show_page("conversations")
    assert isinstance(page, ConversationsView)
    desk.wait_until(lambda: page.list_model.rowCount() == 1)
    page.list.setCurrentIndex(page.list_model.index(0))
    conv_id = page.list_model.conversation_at(0).id  # type: ignore[union-attr]
    notice = desk.window.store_notice
    assert not notice.isVisible()

    _cut(pg_cluster, database, allow=False)
    try:
        desk.wait_until(lambda: notice.isVisible(), timeout=20)
        assert "unreachable since" in notice.text() and "retrying" in notice.text()
        type_text(page.reply, "Can we make it 8pm?")
        focus(page.reply)
        press(page.reply, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        QApplication.processEvents()
        assert page.feedback.text().startswith("Not sent: the database cannot be reached")
        assert page.reply.toPlainText() == "Can we make it 8pm?"
        kept = json.loads((desk.rt.paths.home / "offline-drafts.json").read_text(encoding="utf-8"))
        assert kept[str(conv_id)]["text"] == "Can we make it 8pm?"
        desk.settle(1.0)
        assert not [b for b in desk.window.findChildren(QMessageBox) if b.isVisible()]  # the banner says it
    finally:
        _cut(pg_cluster, database, allow=True)

    desk.wait_until(lambda: not notice.isVisible(), timeout=20)
    desk.wait_until(lambda: not (desk.rt.paths.home / "offline-drafts.json").exists())
    assert desk.rt.conversations.get(conv_id).draft == "Can we make it 8pm?"
    # Nothing was sent behind the person's back: the one message is the booking sent before.
    assert [m.body for m in desk.rt.sending.messages.recent(10, direction="out")] == ["Your table is booked"]


def test_a_workspace_desktop_types_no_provider_keys(desk: GuiHarness, qtbot: Any, memory_keyring: Any) -> None:
    """On a team workspace the keys live on the relays: the account form has no key boxes and
    says where they go; saving keeps no key on this desktop."""
    from smsdesk.ui.views.accounts_view import AccountsView
    from tests.support.typing import replace_text

    settings = desk.window.show_page("settings")
    settings.show_tab("accounts")  # type: ignore[attr-defined]
    view = settings.by_key["accounts"]  # type: ignore[attr-defined]
    assert isinstance(view, AccountsView)
    view.new_account()
    view.provider.setCurrentIndex(view.provider.findData("puresms"))
    assert "api_key" not in view.inputs and "webhook_secret" not in view.inputs
    note = view.form.keys_note
    assert note.isVisible() and "smsdesk accounts add --name" in note.text() and "--provider puresms" in note.text()
    replace_text(view.name, "Shop")
    replace_text(view.inputs["sender"], "MyShop")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    desk.wait_until(lambda: "Saved 'Shop'" in view.result.text())
    assert desk.rt.accounts.by_name("Shop").sender == "MyShop"
    assert memory_keyring.store == {}


def test_a_workspace_that_does_not_answer_at_start_is_waited_for(qapp: Any) -> None:
    """Before the window exists: the dialog says why, tries again by itself, and hands over
    what the first successful try opened."""
    from smsdesk.domain.errors import StoreUnreachable
    from smsdesk.ui.startup_wait import WorkspaceWait

    tries: list[int] = []
    reasons: list[str] = []

    def attempt() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise StoreUnreachable(f"The workspace is unreachable (try {len(tries)}).")
        return "the runtime"

    box = WorkspaceWait("The workspace is unreachable (at start).", attempt, every_ms=50)
    box._poll.timeout.connect(lambda: reasons.append(box.reason.text()))
    box.exec()
    assert box.result_value == "the runtime" and len(tries) == 3
    assert "The workspace is unreachable (try 2)." in reasons
