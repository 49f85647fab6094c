"""Non-modal questions (``open()`` + a callback: never ``exec()``, see ``ui/aio.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget


def confirm(
    parent: QWidget,
    title: str,
    text: str,
    on_yes: Callable[[], object],
    *,
    name: str = "confirm",
    on_no: Callable[[], None] | None = None,
) -> QMessageBox:
    """Ask Yes/Cancel (Cancel is the default, for destructive actions); call ``on_yes`` on Yes."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName(name)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def chosen(button: int) -> None:
        if QMessageBox.StandardButton(button) == QMessageBox.StandardButton.Yes:
            on_yes()
        elif on_no is not None:
            on_no()

    box.finished.connect(chosen)
    box.open()
    return box


def ask_text(
    parent: QWidget,
    title: str,
    label: str,
    on_ok: Callable[[str], object],
    *,
    text: str = "",
    name: str = "ask_text",
) -> QInputDialog:
    """Ask for one line of text (a group's name); call ``on_ok`` with it on OK, if not blank."""
    dialog = QInputDialog(parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def chosen(value: str) -> None:
        if value.strip():
            on_ok(value.strip())

    dialog.textValueSelected.connect(chosen)
    dialog.open()
    return dialog


SAVE_FILTERS = {"pdf": "PDF files (*.pdf)", "xlsx": "Excel workbooks (*.xlsx)", "csv": "CSV files (*.csv)"}


def suggested_path(stem: str, fmt: str) -> str:
    """``~/Documents/smsdesk-report-2026-12-05.pdf`` (the home folder when there is no Documents)."""
    folder = Path.home() / "Documents"
    return str((folder if folder.is_dir() else Path.home()) / f"smsdesk-{stem}-{date.today().isoformat()}.{fmt}")


def choose_save_path(
    parent: QWidget, title: str, stem: str, formats: tuple[str, ...], on_chosen: Callable[[Path], None]
) -> QFileDialog:
    """Where to save an export, offering ``formats`` (``csv``, ``xlsx``, ``pdf``) and starting at a
    dated name in Documents; ``on_chosen`` gets the path."""
    return save_dialog(parent, title, suggested_path(stem, formats[0]), formats, on_chosen)


def save_dialog(
    parent: QWidget, title: str, start: str, formats: tuple[str, ...], on_chosen: Callable[[Path], None]
) -> QFileDialog:
    """A save dialog at ``start`` offering ``formats``; ``on_chosen`` gets the path, with the first
    format's suffix when none was typed."""
    dialog = QFileDialog(parent, title, start, ";;".join(SAVE_FILTERS[f] for f in formats))
    dialog.setObjectName("export_dialog")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix(formats[0])
    dialog.fileSelected.connect(lambda path: on_chosen(Path(path)))
    dialog.open()
    return dialog
