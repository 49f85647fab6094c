"""Settings -> Data: where the data lives, backups (now, and one a day), and restoring one.

Backing up runs while smsdesk sends (services/backup.py). Restoring replaces the database
this window has open, so the checked backup is staged and the app restarts; the next start
puts it in place before the database opens, and this tab then says where the replaced data
is kept and which accounts need their API keys entered again. File choosers are opened with
``open()``, never ``exec()``: a nested Qt loop inside a coroutine hangs the qasync loop.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.services.backup import BackupFacts, describe
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.theme import set_tone
from smsdesk.ui.widgets.labels import wrapped_label


def _when(text: str) -> str:
    try:
        return f"{datetime.fromisoformat(text).astimezone():%a %d %b %Y %H:%M}"
    except (TypeError, ValueError):
        return text


class DataSettingsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        s = ctx.services.settings_file.settings
        self.where = wrapped_label(
            f"smsdesk keeps its messages, accounts and settings in {ctx.services.startup.data_folder}. "
            "API keys are kept in this computer's keyring, never in that folder or a backup.",
            "data_folder",
        )
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # ---- backups ----
        self.backup_button = QPushButton("Back up now")
        self.backup_button.setObjectName("backup_now")
        self.backup_button.clicked.connect(self.back_up)
        self.result = wrapped_label(name="backup_result")
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.daily = QCheckBox("Back up automatically once a day")
        self.daily.setObjectName("backup_daily")
        self.daily.setChecked(s.backup_daily)
        self.daily.toggled.connect(self._daily)
        self.keep = QSpinBox()
        self.keep.setObjectName("backup_keep")
        self.keep.setRange(1, 365)
        self.keep.setValue(max(1, s.backup_keep))
        self.keep.setSuffix(" automatic backups")
        self.keep.valueChanged.connect(self._keep)
        self.folder = QLineEdit()
        self.folder.setObjectName("backup_folder")
        self.folder.setReadOnly(True)
        choose = QPushButton("Choose…")
        choose.setObjectName("backup_choose")
        choose.setToolTip("A USB stick or a synced folder keeps backups safe if this computer fails.")
        choose.clicked.connect(self._choose_folder)
        self.default_folder = QPushButton("Use the data folder")
        self.default_folder.setObjectName("backup_default")
        self.default_folder.clicked.connect(lambda: self._set_folder(""))
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        folder_row.addWidget(self.default_folder)
        self.last = wrapped_label(name="last_auto")
        now_row = QHBoxLayout()
        now_row.addWidget(self.backup_button)
        now_row.addStretch(1)
        backups = QGroupBox("Backups")
        form = QFormLayout(backups)
        form.addRow(now_row)
        form.addRow(self.result)
        form.addRow(self.daily)
        keep_row = QHBoxLayout()
        keep_row.addWidget(self.keep)
        keep_row.addStretch(1)
        form.addRow("Keep the newest", keep_row)
        form.addRow("Backup folder", folder_row)
        form.addRow(self.last)

        # ---- restore ----
        self.restore_button = QPushButton("Restore from a backup…")
        self.restore_button.setObjectName("restore_choose")
        self.restore_button.clicked.connect(self._choose_backup)
        self.restore_info = wrapped_label(name="restore_info")
        self.restore_info.hide()
        self.restore_confirm = QPushButton("Replace my data with this backup and restart")
        self.restore_confirm.setObjectName("restore_confirm")
        self.restore_confirm.hide()
        self.restore_confirm.clicked.connect(self._confirm_restore)
        self.after = wrapped_label(name="after_restore")
        self.after.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.after.hide()
        restore_row = QHBoxLayout()
        restore_row.addWidget(self.restore_button)
        restore_row.addWidget(self.restore_confirm)
        restore_row.addStretch(1)
        restore = QGroupBox("Restore")
        rv = QVBoxLayout(restore)
        rv.addWidget(
            wrapped_label(
                "Restoring replaces everything in smsdesk with a backup. The data it replaces "
                "is kept aside, and smsdesk must be closed everywhere else (smsdesk serve, "
                "another window) while it restores."
            )
        )
        rv.addLayout(restore_row)
        rv.addWidget(self.restore_info)
        rv.addWidget(self.after)

        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.where)
        layout.addWidget(backups)
        layout.addWidget(restore)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._candidate: Path | None = None
        self._show_folder()
        self._show_last()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._show_last()
        self.show_restore_outcome()

    # ---- backups -----------------------------------------------------------------------
    def back_up(self) -> None:
        self.backup_button.setEnabled(False)
        self.result.setText("Backing up…")
        set_tone(self.result, "")
        spawn(
            self.ctx.services.backups.back_up(), title="Back up", on_done=self._backed_up, on_error=self._backup_failed
        )

    def _backed_up(self, facts: BackupFacts) -> None:
        self.backup_button.setEnabled(True)
        self.result.setText(f"Backed up {describe(facts)} to {facts.path}")
        set_tone(self.result, "ok")

    def _backup_failed(self, exc: BaseException) -> None:
        self.backup_button.setEnabled(True)
        self.result.setText(str(exc) if isinstance(exc, SmsdeskError) else f"The backup failed: {exc}")
        set_tone(self.result, "error")

    def _save(self) -> None:
        self.ctx.services.settings_file.save()

    def _daily(self, on: bool) -> None:
        self.ctx.services.settings_file.settings.backup_daily = on
        self._save()
        self._show_last()

    def _keep(self, n: int) -> None:
        self.ctx.services.settings_file.settings.backup_keep = n
        self._save()

    def _choose_folder(self) -> None:
        dialog = QFileDialog(self, "Folder for backups", str(self.ctx.services.backups.folder()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self._set_folder)
        dialog.open()

    def _set_folder(self, folder: str) -> None:
        self.ctx.services.settings_file.settings.backup_folder = folder
        self._save()
        self._show_folder()

    def _show_folder(self) -> None:
        self.folder.setText(str(self.ctx.services.backups.folder()))
        self.default_folder.setEnabled(bool(self.ctx.services.settings_file.settings.backup_folder))

    def _show_last(self) -> None:
        if not self.ctx.services.settings_file.settings.backup_daily:
            self.last.setText("No automatic backups: back up now and then, or tick the box above.")
            set_tone(self.last, "warn")
            return
        last = self.ctx.services.backups.last_auto()
        if last.get("error"):
            self.last.setText(f"The last automatic backup failed ({_when(last.get('tried', ''))}): {last['error']}")
            set_tone(self.last, "error")
        elif last.get("at"):
            self.last.setText(f"Last automatic backup: {_when(last['at'])}, {last.get('path', '')}")
            set_tone(self.last, "")
        else:
            self.last.setText("The first automatic backup is made a few minutes after smsdesk starts.")
            set_tone(self.last, "")

    # ---- restore -----------------------------------------------------------------------
    def _choose_backup(self) -> None:
        dialog = QFileDialog(
            self,
            "Restore from a backup",
            str(self.ctx.services.backups.folder()),
            "smsdesk backups (*.sqlite3);;All files (*)",
        )
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.check_restore)
        dialog.open()

    def check_restore(self, path: str) -> None:
        """Check a chosen backup (integrity, version, nobody else on the database) and say what it holds."""
        self._candidate = None
        self.restore_confirm.hide()
        self.restore_info.setText(f"Checking {path}…")
        set_tone(self.restore_info, "")
        self.restore_info.show()
        spawn(
            self.ctx.services.backups.check(Path(path)),
            title="Check backup",
            on_done=lambda facts: self._checked(Path(path), facts),
            on_error=self._restore_refused,
        )

    def _checked(self, path: Path, facts: BackupFacts) -> None:
        self._candidate = path
        self.restore_info.setText(
            f"{path.name} holds {describe(facts)}. Restoring replaces all data in smsdesk with it; the data "
            f"it replaces is kept in {self.ctx.services.startup.data_folder / 'replaced'}. smsdesk restarts to do it."
        )
        set_tone(self.restore_info, "")
        self.restore_confirm.show()

    def _restore_refused(self, exc: BaseException) -> None:
        self._candidate = None
        self.restore_confirm.hide()
        self.restore_info.setText(str(exc) if isinstance(exc, SmsdeskError) else f"That backup cannot be used: {exc}")
        set_tone(self.restore_info, "error")

    def _confirm_restore(self) -> None:
        if self._candidate is None:
            return
        self.restore_confirm.setEnabled(False)
        self.restore_info.setText("Preparing the restore…")
        spawn(
            self.ctx.services.backups.stage_restore(self._candidate),
            title="Restore",
            on_done=self._staged,
            on_error=self._stage_failed,
        )

    def _staged(self, _facts: BackupFacts) -> None:
        self.restore_info.setText("Restarting smsdesk to put the backup in place…")
        self.ctx.restart.request()  # app.py starts smsdesk again once this one has closed
        self.window().close()

    def _stage_failed(self, exc: BaseException) -> None:
        self.restore_confirm.setEnabled(True)
        self._restore_refused(exc)

    def show_restore_outcome(self) -> None:
        """After a restore: where it came from, where the replaced data is, which keys to enter."""
        services = self.ctx.services
        if services.startup.restore_error:
            self.after.setText(f"The restore you chose has not been done yet: {services.startup.restore_error}")
            set_tone(self.after, "error")
            self.after.show()
            return
        last = services.backups.last_restore()
        if not last:
            return

        async def keys() -> list[tuple[str, str, list[str]]]:
            return await asyncio.to_thread(services.backups.missing_keys)  # keyring reads block (D-Bus)

        def shown(missing: list[tuple[str, str, list[str]]]) -> None:
            lines = [f"Restored from {last.get('from', '?')} on {_when(last.get('at', ''))}."]
            if last.get("aside"):
                lines.append(f"The data it replaced is kept at {last['aside']}.")
            if missing:
                lines.append(
                    "Enter the API keys again (Settings -> Accounts) for: "
                    + "; ".join(f"{name} ({provider}: {', '.join(fields)})" for name, provider, fields in missing)
                    + "."
                )
            self.after.setText("\n".join(lines))
            set_tone(self.after, "warn" if missing else "")
            self.after.show()

        spawn(keys(), title="Check API keys", on_done=shown)
