"""The Contacts page's Import and Export: files chosen in non-modal dialogs, progress shown.

Import adds or merges every contact of a spreadsheet or ``.vcf`` (into the group shown, if
one is), reading and checking in a worker thread that reports its progress; the page's
status line shows it every 200 ms and, at the end, every row accounted for (added, merged,
skipped with the reason). Export writes the contacts shown (everyone, or the group) as CSV,
``.xlsx`` or vCard by the file's suffix, in a worker thread (its button waits meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from smsdesk.domain.errors import SmsdeskError
from smsdesk.services.contact_files import ContactImport
from smsdesk.services.contacts import ContactService
from smsdesk.ui.aio import spawn

FILE_FILTER = "Address books (*.csv *.xlsx *.vcf);;CSV (*.csv);;Excel (*.xlsx);;vCard (*.vcf)"
Say = Callable[[str, str], None]  # (text, tone)


class ContactFiles(QObject):
    """Signals:
    sig_imported: an import finished (well or not): the page reads the address book again.
    sig_exporting: an export started (True) or finished, well or not (False).
    """

    sig_imported = Signal()
    sig_exporting = Signal(bool)

    def __init__(self, page: QWidget, contacts: ContactService, group_id: Callable[[], int | None], say: Say) -> None:
        super().__init__(page)
        self._page = page
        self._contacts = contacts
        self._group_id = group_id
        self._say = say
        self._progress: tuple[str, int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._show_progress)

    # ---- import ------------------------------------------------------------------------
    def ask_import(self) -> None:
        dialog = QFileDialog(self._page, "Import contacts", str(Path.home()), FILE_FILTER)
        dialog.setObjectName("contact_import_dialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.import_from(Path(path)))
        dialog.open()

    def import_from(self, path: Path) -> None:
        self._say(f"Importing {path.name}…", "")
        self._progress = None
        self._timer.start()

        def progress(phase: str, done: int, total: int) -> None:
            self._progress = (phase, done, total)  # from the worker thread; the timer shows it

        spawn(
            self._contacts.import_file(path, self._group_id(), progress),
            title="Import contacts",
            on_done=self._imported,
            on_error=self._failed,
        )

    def _show_progress(self) -> None:
        if self._progress is None:
            return
        phase, done, total = self._progress
        self._say(f"{phase}: {done:,} of {total:,}…" if done else f"{phase} {total:,} contacts…", "")

    def _failed(self, exc: BaseException) -> None:
        self._timer.stop()
        self._say(str(exc) if isinstance(exc, SmsdeskError) else f"Could not import: {exc}", "error")
        self.sig_imported.emit()

    def _imported(self, result: ContactImport) -> None:
        self._timer.stop()
        text = f"Added {result.added:,}, merged {result.merged:,} into contacts you had"
        if result.skipped:
            shown = "; ".join(f"{s.position}: {s.reason}" for s in result.skipped[:5])
            more = f" and {len(result.skipped) - 5:,} more" if len(result.skipped) > 5 else ""
            text += f", skipped {len(result.skipped):,} ({shown}{more})."
        self._say(text + ("" if result.skipped else "."), "warn" if result.skipped else "ok")
        self.sig_imported.emit()

    # ---- export ------------------------------------------------------------------------
    def ask_export(self) -> None:
        dialog = QFileDialog(self._page, "Export contacts", str(Path.home() / "contacts.csv"), FILE_FILTER)
        dialog.setObjectName("contact_export_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda path: self.export_to(Path(path)))
        dialog.open()

    def export_to(self, path: Path) -> None:
        """Write the contacts shown to ``path`` (its suffix says the format), in a worker thread;
        :attr:`sig_exporting` says when it starts and ends."""
        fmt = path.suffix.lower().lstrip(".") or "csv"
        self._say(f"Exporting to {path.name}…", "")
        self.sig_exporting.emit(True)

        def done(n: int) -> None:
            self._say(f"Saved {n:,} contact{'' if n == 1 else 's'} to {path.name}.", "ok")
            self.sig_exporting.emit(False)

        def failed(exc: BaseException) -> None:
            self._say(f"Could not export: {exc}", "error")
            self.sig_exporting.emit(False)

        export = self._contacts.export_file(path, fmt, self._group_id())
        spawn(export, title="Export contacts", on_done=done, on_error=failed)
