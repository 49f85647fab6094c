"""Themes (View -> Theme, Settings -> General, following the system) and the About dialog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QTableWidget

from smsdesk import __version__
from smsdesk.config.settings import Settings
from smsdesk.ui import theme
from smsdesk.ui.views.about_dialog import AboutDialog, third_party
from smsdesk.ui.views.general_settings_view import GeneralSettingsView


def _window_lightness() -> int:
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness()


@pytest.fixture(autouse=True)
def _restore_look(qapp: Any) -> Iterator[None]:
    """Leave later tests the plain look they started with."""
    yield
    qapp.setStyleSheet("")
    qapp.setPalette(qapp.style().standardPalette())


def test_view_menu_switches_between_light_and_dark_and_saves_the_choice(gui) -> None:
    gui.window.theme_actions["dark"].trigger()
    assert _window_lightness() < 60
    assert QApplication.palette().color(QPalette.ColorRole.Text).lightness() > 200
    assert "#18191c" in QApplication.instance().styleSheet()  # dark.qss is applied
    assert Settings.load(gui.rt.paths.settings).theme == "dark"

    gui.window.theme_actions["light"].trigger()
    assert _window_lightness() > 200
    assert Settings.load(gui.rt.paths.settings).theme == "light"


def test_general_settings_and_view_menu_stay_in_step(gui) -> None:
    settings = GeneralSettingsView(gui.ctx)
    settings.theme.setCurrentIndex(settings.theme.findData("dark"))
    assert _window_lightness() < 60
    assert gui.window.theme_actions["dark"].isChecked()

    gui.window.theme_actions["system"].trigger()
    assert settings.theme.currentData() == "system"
    settings.deleteLater()


def test_system_mode_follows_the_desktop_colour_scheme(gui, monkeypatch: pytest.MonkeyPatch) -> None:
    manager = theme.ensure(gui.ctx)
    manager.set_mode("light")
    manager.set_mode("system")
    # The offscreen platform has no colour scheme; stand in for a desktop switching to dark.
    monkeypatch.setattr(theme, "system_scheme", lambda: "dark")
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert manager.scheme == "dark" and _window_lightness() < 60

    monkeypatch.setattr(theme, "system_scheme", lambda: "light")
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert manager.scheme == "light" and _window_lightness() > 200

    manager.set_mode("dark")  # a manual choice ignores the desktop
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert manager.scheme == "dark"


def test_about_dialog_shows_version_data_folder_and_licences(gui, qtbot) -> None:
    gui.window.show_about()
    dialog = gui.window.findChild(AboutDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert __version__ in dialog.findChild(QLabel, "about_version").text()
    assert dialog.findChild(QLabel, "about_data_folder").text() == str(gui.rt.paths.home)
    table = dialog.findChild(QTableWidget, "about_licences")
    rows = {table.item(r, 0).text().lower(): table.item(r, 2).text() for r in range(table.rowCount())}
    assert rows["qt"].startswith("LGPL-3.0")
    assert "LGPL-3.0" in next(v for k, v in rows.items() if k.startswith("pyside6"))
    assert "BSD" in rows["qasync"] and "BSD" in rows["httpx"]
    assert "Apache-2.0" in rows["aiohttp"] and "Apache-2.0" in rows["phonenumbers"]
    assert rows["keyring"] == "MIT" and rows["pyjwt"] == "MIT"
    dialog.close()


def test_licence_list_follows_the_installed_requirements() -> None:
    names = {c.name.lower().replace("_", "-") for c in third_party()}
    for required in ("httpx", "httpx-aiohttp", "platformdirs", "openpyxl", "tomli-w", "anyio"):
        assert required in names  # a direct or a transitive dependency, read from metadata
    assert "pytest" not in names  # test extras are not part of the app
