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
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

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
    pg_cluster.allow_connections(database, allow)


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


def _start_without_the_workspace(qloop: Any, home: Path, url: str, monkeypatch: Any) -> tuple[Runtime, Any, Any, Any]:
    """smsdesk-gui's start on a workspace whose server does not answer: the runtime opens, the
    window is built and shown, and ``app.run`` goes on the loop, as ``app.main`` does (retrying
    every 0.2 s). Returns the runtime, the window, its context and the running ``app.run``."""
    import smsdesk.app
    import smsdesk.services.health as health

    monkeypatch.setattr(health, "RETRY_EVERY_S", 0.2)
    # The tests' loop leaves Qt's event loop after each step, and Qt then says the app is about
    # to quit; the app's loop runs once, for its whole life. app.run listens to the window only.
    monkeypatch.setattr(smsdesk.app, "QApplication", _NoQuitSignal)
    rt = Runtime.open(str(home), window=True, database=url, wait_for_store=True)
    window, ctx = build_window(rt, services_later=True)
    window.focus_compose()
    smsdesk.app.paint_first(window)
    window.painted()
    running = qloop.create_task(smsdesk.app.run(rt, window, None, demo=False))
    mark_running(qloop)
    return rt, window, ctx, running


def _quit(qloop: Any, rt: Runtime, window: Any, ctx: Any, running: Any, timeout: float = 30) -> None:
    """Close the window as a person does; ``app.run`` ends (within ``timeout``), then the rest."""
    import asyncio

    window.close()
    qloop.run_until_complete(asyncio.wait_for(running, timeout))
    mark_running(qloop)
    ctx.bridge.close()
    rt.close()


def test_a_workspace_that_does_not_answer_at_start_opens_the_window_with_a_banner(
    qapp: Any, qloop: Any, pg_cluster: Any, pg_workspace: str, tmp_path: Path, monkeypatch: Any, expect_warnings: Any
) -> None:
    """The window opens at once: a banner says the workspace is unreachable, Compose takes a
    message but keeps it rather than sending it, other pages say they open once it answers.
    When the server answers the banner goes, the services start, and the message goes."""

    from smsdesk.ui.views.compose_view import ComposeView

    database = pg_workspace.rsplit("/", 1)[1]
    _cut(pg_cluster, database, allow=False)
    try:
        rt, window, ctx, running = _start_without_the_workspace(qloop, tmp_path / "desk", pg_workspace, monkeypatch)
        notice = window.store_notice
        assert notice.isVisible() and "unreachable since" in notice.text() and "retrying" in notice.text()
        assert window.state_label.text() == "Waiting for the workspace…"
        compose = window.page("compose")
        assert isinstance(compose, ComposeView)
        assert window.focusWidget() is compose.to  # ready to type, as at any start
        type_text(compose.to, "07911 123456")
        type_text(compose.body, "Your table is booked")
        press(compose.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert compose.feedback.text().startswith("Not sent: the workspace does not answer.")
        assert "checked once the workspace answers" in compose.to_status.text()
        assert compose.body.toPlainText() == "Your table is booked" and compose.to.text() == "07911 123456"
        kept = json.loads((rt.paths.home / "unsent-message.json").read_text(encoding="utf-8"))
        assert kept["body"] == "Your table is booked" and "is unreachable" in kept["reason"]  # even if closed now
        press(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)  # Contacts
        waiting = window.findChild(QLabel, "page_waiting")
        assert waiting is not None and waiting.isVisible()
        assert waiting.text().startswith("Contacts opens as soon as the workspace answers")
        # Settings opens: tabs that need the database say so; Workspace works (where one leaves it).
        press(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
        settings = window.pages["settings"]
        tab = settings.by_key  # type: ignore[attr-defined]
        assert tab["accounts"].objectName() == "tab_waiting" and tab["general"].objectName() != "tab_waiting"
        settings.show_tab("workspace")  # type: ignore[attr-defined]
        where = settings.findChild(QLabel, "workspace_where")
        _wait(qloop, lambda: where is not None and "uses the team workspace" in where.text())
        press(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)  # back to Contacts
        _settle(qloop, 0.6)  # a few tries, each failing
        assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]  # the banner says it
    finally:
        _cut(pg_cluster, database, allow=True)

    _wait(qloop, lambda: not notice.isVisible() and "Waiting" not in window.state_label.text())
    assert window.pages.get("contacts") is not None and window.stack.currentWidget() is window.pages["contacts"]
    from smsdesk.ui.views.accounts_view import AccountsView

    assert isinstance(settings.by_key["accounts"], AccountsView)  # type: ignore[attr-defined]
    press(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    _wait(qloop, lambda: compose.account.count() == 1)  # the workspace's account, read once it answered
    focus(compose.body)
    press(compose.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    _wait(qloop, lambda: compose.feedback.text().startswith("Queued 1 message"))
    assert not (rt.paths.home / "unsent-message.json").exists()
    assert [m.body for m in rt.sending.messages.recent(10, direction="out")] == ["Your table is booked"]
    _quit(qloop, rt, window, ctx, running)


def test_a_workspace_that_refuses_the_login_at_start_says_why_and_opens_once_it_lets_in(
    qapp: Any, qloop: Any, pg_cluster: Any, pg_template: str, tmp_path: Path, monkeypatch: Any, expect_warnings: Any
) -> None:
    """A server that answers "no" (here: the workspace does not exist yet) opens the window too;
    the banner gives the server's reason rather than "unreachable", and once the owner has
    set the workspace up the window starts as usual."""

    name = f"later_{tmp_path.name[-8:]}".lower().replace("-", "_")
    url = pg_cluster.url(name)
    rt, window, ctx, running = _start_without_the_workspace(qloop, tmp_path / "desk", url, monkeypatch)
    try:
        notice = window.store_notice
        assert notice.isVisible() and "does not exist" in notice.text() and "unreachable" not in notice.text()
        assert "tries again every few seconds" in notice.text()
        pg_cluster.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')  # the owner sets it up
        _wait(qloop, lambda: not notice.isVisible() and "Waiting" not in window.state_label.text())
        assert rt.health.ok and rt.proc_key
    finally:
        _quit(qloop, rt, window, ctx, running)
        pg_cluster.drop_database(name)


def test_closing_the_window_while_waiting_for_the_workspace_quits(
    qapp: Any, qloop: Any, pg_cluster: Any, pg_workspace: str, tmp_path: Path, monkeypatch: Any, expect_warnings: Any
) -> None:
    """Nobody waits for a server that never answers: closing the window ends the wait."""

    database = pg_workspace.rsplit("/", 1)[1]
    _cut(pg_cluster, database, allow=False)
    try:
        rt, window, ctx, running = _start_without_the_workspace(qloop, tmp_path / "desk", pg_workspace, monkeypatch)
        _settle(qloop, 0.5)
        _quit(qloop, rt, window, ctx, running, timeout=10)  # returns: the wait ended
        assert not rt.health.ok and rt.proc_key == ""  # it never opened, and so registered nothing
    finally:
        _cut(pg_cluster, database, allow=True)


class _NoQuitSignal:
    class _App:
        class aboutToQuit:  # noqa: N801 - Qt's name
            @staticmethod
            def connect(_slot: Any) -> None:
                pass

    @staticmethod
    def instance() -> Any:
        return _NoQuitSignal._App


def _settle(loop: Any, seconds: float) -> None:
    import asyncio

    loop.run_until_complete(asyncio.sleep(seconds))
    mark_running(loop)


def _wait(loop: Any, predicate: Any, timeout: float = 20.0) -> None:
    import time

    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        _settle(loop, 0.05)
