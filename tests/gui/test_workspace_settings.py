"""Settings -> Workspace offscreen: an address with a password in it is refused without
repeating it, an unreachable server is said in plain words, and joining a real workspace
keeps the password in the keyring, the address in Settings, and restarts smsdesk."""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from smsdesk.cli import main as cli_main
from smsdesk.ui.views.workspace_settings_view import WorkspaceSettingsView
from tests.support.pg_cluster import drop_people
from tests.support.typing import clear, press, type_text


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread() -> Iterator[None]:
    yield
    gc.collect()


def _tab(gui: Any) -> WorkspaceSettingsView:
    page = gui.window.show_page("settings")
    page.show_tab("workspace")
    tab = page.by_key["workspace"]
    assert isinstance(tab, WorkspaceSettingsView)
    gui.wait_until(lambda: tab.join_box.isVisible())
    return tab


def test_bad_addresses_are_refused_in_plain_words(gui: Any) -> None:
    tab = _tab(gui)
    assert not tab.joined_box.isVisible()
    type_text(tab.address, "postgresql://ana:hunter2@db.example.com/smsdesk")
    tab.join_button.click()
    gui.wait_until(lambda: tab.feedback.isVisible() and "password" in tab.feedback.text())
    assert "hunter2" not in tab.feedback.text() and tab.join_button.isEnabled()

    clear(tab.address)
    type_text(tab.address, "postgresql://ana@127.0.0.1:9/smsdesk")
    type_text(tab.password, "pw")
    press(tab.password, Qt.Key.Key_Return)
    gui.wait_until(lambda: "unreachable" in tab.feedback.text(), timeout=20)
    assert not gui.ctx.restart.requested and gui.rt.settings.workspace == ""


def test_joining_keeps_the_password_in_the_keyring_and_restarts(
    gui: Any, pg_database: str, monkeypatch: pytest.MonkeyPatch, memory_keyring: Any, request: pytest.FixtureRequest
) -> None:
    assert cli_main(["workspace", "create", pg_database]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("ana's password\n"))
    assert cli_main(["--database", pg_database, "workspace", "add-user", "ana"]) == 0
    request.addfinalizer(lambda: drop_people(pg_database, "ana"))  # logins are the whole server's
    tab = _tab(gui)
    address = pg_database.replace("postgresql://postgres@", "postgresql://ana@")
    type_text(tab.address, address)
    type_text(tab.password, "ana's password")
    tab.join_button.click()
    gui.wait_until(lambda: gui.ctx.restart.requested, timeout=20)
    QApplication.processEvents()
    assert gui.rt.settings.workspace == address
    assert list(memory_keyring.store.values()) == ["ana's password"]
    assert tab.password.text() == "" and not gui.window.isVisible()
