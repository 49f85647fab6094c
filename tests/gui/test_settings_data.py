"""Settings -> Data offscreen: back up now, the daily backup's settings, and checking a backup to restore."""

from __future__ import annotations

import stat
from pathlib import Path

from PySide6.QtCore import Qt

from smsdesk.config.settings import Settings
from smsdesk.services import backup as backups
from smsdesk.ui.views.data_settings_view import DataSettingsView
from smsdesk.ui.views.settings_view import SettingsView


def _panel(gui) -> DataSettingsView:  # noqa: ANN001
    settings = gui.window.show_page("settings")
    assert isinstance(settings, SettingsView)
    settings.show_tab("data")
    panel = settings.by_key["data"]
    assert isinstance(panel, DataSettingsView)
    return panel


def test_back_up_now_shows_where_the_copy_went(gui, qtbot) -> None:  # noqa: ANN001
    panel = _panel(gui)
    home = gui.rt.paths.home
    assert str(home) in panel.where.text()
    assert panel.folder.text() == str(home / "backups")
    qtbot.mouseClick(panel.backup_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: panel.result.text().startswith("Backed up"))
    [made] = (home / "backups").iterdir()
    assert panel.result.text().startswith("Backed up 0 messages and 1 account (Sandbox) taken ")
    assert panel.result.text().endswith(f" to {made}")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert panel.backup_button.isEnabled()
    assert panel.width() <= gui.window.width()


def test_daily_backup_settings_are_kept(gui, qtbot) -> None:  # noqa: ANN001
    panel = _panel(gui)
    panel.keep.setFocus()
    panel.keep.selectAll()
    qtbot.keyClicks(panel.keep, "14")
    panel.daily.setFocus()
    qtbot.keyClick(panel.daily, Qt.Key.Key_Space)  # off
    saved = Settings.load(gui.rt.paths.settings)
    assert saved.backup_keep == 14 and saved.backup_daily is False
    assert "No automatic backups" in panel.last.text()
    qtbot.keyClick(panel.daily, Qt.Key.Key_Space)  # on again
    assert Settings.load(gui.rt.paths.settings).backup_daily is True


def test_a_damaged_backup_is_refused_and_a_good_one_described_before_restoring(gui, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    panel = _panel(gui)
    good = gui.run(gui.rt.backups.back_up(tmp_path / "friday.sqlite3")).path
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(good.read_bytes()[:5000])
    panel.check_restore(str(damaged))  # what the file chooser calls with the picked file
    gui.wait_until(lambda: "Nothing was changed" in panel.restore_info.text())
    assert str(damaged) in panel.restore_info.text() and not panel.restore_confirm.isVisible()

    panel.check_restore(str(good))
    gui.wait_until(lambda: panel.restore_confirm.isVisible())
    assert panel.restore_info.text().startswith("friday.sqlite3 holds 0 messages and 1 account (Sandbox)")
    assert "smsdesk restarts to do it" in panel.restore_info.text()
    qtbot.mouseClick(panel.restore_confirm, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: gui.ctx.restart.requested)
    assert (gui.rt.paths.home / backups.STAGED).exists()  # put in place by the next start
    assert not gui.window.isVisible()
