"""Bulk wizard, step 1: choose the file and see it as read (encoding, separator, header).

The encoding is detected; when names look wrong a person picks another one, and while the
list is open the special letters are shown as the highlighted encoding reads them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from smsdesk.services.imports.encodings import CHOICES
from smsdesk.services.imports.encodings import label as encoding_label
from smsdesk.services.imports.readers import Table
from smsdesk.ui.models.import_rows_model import ImportPreviewModel
from smsdesk.ui.views.bulk_send.common import ERR, WARN, StepPage, WizardHost, short, table_view

_PREVIEW_MAX_COLUMN = 280


class _EncodingBox(QComboBox):
    """The encoding picker; says when its list closes, however it closes (to end the live
    preview): Escape or a click outside hide the list without calling ``hidePopup``."""

    sig_closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._watching = False

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        super().showPopup()
        if not self._watching:
            self.view().window().installEventFilter(self)
            self._watching = True

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Hide and obj is self.view().window():
            self.sig_closed.emit()
        return super().eventFilter(obj, event)


class FilePage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.setSubTitle("A CSV, TSV or TXT export (any common encoding and separator) or an Excel .xlsx file.")
        self.path = QLineEdit()
        self.path.setObjectName("path")
        self.path.setPlaceholderText("Path to the file")
        self.path.returnPressed.connect(self.load)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self.browse)
        self.load_button = QPushButton("Load")
        self.load_button.setObjectName("load")
        self.load_button.clicked.connect(lambda: self.load())
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        row.addWidget(self.load_button)
        self.encoding = _EncodingBox()
        self.encoding.setObjectName("encoding")
        for codec, text in CHOICES:
            self.encoding.addItem(text, codec)
        self.encoding.setPlaceholderText("Choose a file first")
        self.encoding.setCurrentIndex(-1)
        self.encoding.setEnabled(False)
        self.encoding.setToolTip(
            "How the letters of a text file are stored. smsdesk detects it; if names look "
            "wrong below, choose another one and the preview changes."
        )
        self.encoding.activated.connect(self._encoding_chosen)
        self.encoding.highlighted.connect(self._encoding_highlighted)
        self.encoding.sig_closed.connect(self._show_special)
        self.encoding_how = QLabel()
        self.encoding_how.setObjectName("encoding_how")
        encoding_label = QLabel("&Encoding:")
        encoding_label.setBuddy(self.encoding)
        enc_row = QHBoxLayout()
        enc_row.addWidget(encoding_label)
        enc_row.addWidget(self.encoding)
        enc_row.addWidget(self.encoding_how)
        enc_row.addStretch(1)
        self.info = QLabel()
        self.info.setObjectName("file_info")
        self.info.setWordWrap(True)
        self.doubt = QLabel()
        self.doubt.setObjectName("encoding_doubt")
        self.doubt.setWordWrap(True)
        self.doubt.setStyleSheet(WARN)
        self.doubt.hide()
        self.special = QLabel()
        self.special.setObjectName("special_values")
        self.special.setWordWrap(True)
        self.special.hide()
        self.model = ImportPreviewModel()
        self.preview = table_view(self.model, "preview")
        self.to_send = QRadioButton("Send them a message")
        self.to_send.setObjectName("mode_send")
        self.to_send.setChecked(True)
        self.to_contacts = QRadioButton("Only add them to my contacts, in a group (nothing is sent)")
        self.to_contacts.setObjectName("mode_contacts")
        modes = QButtonGroup(self)
        modes.addButton(self.to_send)
        modes.addButton(self.to_contacts)
        self.to_contacts.toggled.connect(self._mode)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.to_send)
        mode_row.addWidget(self.to_contacts)
        mode_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(mode_row)
        layout.addLayout(row)
        layout.addLayout(enc_row)
        layout.addWidget(self.info)
        layout.addWidget(self.doubt)
        layout.addWidget(self.special)
        layout.addWidget(self.preview, 1)
        self._special: list[str] = []
        self._chosen_codec: str | None = None
        host.sig_busy_changed.connect(lambda _b: self.announce())

    def browse(self) -> None:
        dialog = QFileDialog(
            self, "Choose a contact list", str(Path.home()), "Spreadsheets (*.csv *.tsv *.txt *.xlsx);;All files (*)"
        )
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self._chosen)
        dialog.open()

    def _chosen(self, path: str) -> None:
        self.path.setText(path)
        self.load()

    def load(self, encoding: str | None = None) -> None:
        """Read the file in the path box (``encoding``: the person's choice; default: detect)."""
        path = self.path.text().strip()
        if not path or self.host.busy:
            return
        self._chosen_codec = encoding
        self.info.setStyleSheet("")
        self.info.setText("Reading…")
        # Imported here, on the GUI thread, not in the reader thread: any file may turn out to
        # be a workbook (content decides, not the name) or to need the encoding detector.
        import charset_normalizer  # noqa: F401
        import openpyxl  # noqa: F401

        state = self.host.state

        def read() -> tuple[Table, list[str]]:
            table = state.load(path, encoding=encoding)
            return table, state.special_values()

        self.host.background(read, self._loaded, "Read file", self._failed)

    def _loaded(self, result: tuple[Table, list[str]]) -> None:
        table, special = result
        self.model.set_table(table)
        self._fit_columns(table)
        header = "first row is the header" if table.has_header else "no header row (columns numbered)"
        kind = "Excel workbook" if table.encoding == "xlsx" else f"{table.delimiter_name}-separated"
        lines = [f"{len(table.rows):,} rows · {len(table.headers)} columns · {kind} · {header}"]
        lines += table.notes
        self.info.setText("\n".join(lines))
        self._show_encoding(table)
        self._special = special
        self._show_special()
        self.announce()

    def _fit_columns(self, table: Table) -> None:
        """Columns as wide as what they show (only 20 rows: cheap); the phone column never cut."""
        self.preview.resizeColumnsToContents()
        mapping = self.host.state.mapping
        phone = mapping.phone if mapping is not None else None
        for col in range(len(table.headers)):
            if col != phone and self.preview.columnWidth(col) > _PREVIEW_MAX_COLUMN:
                self.preview.setColumnWidth(col, _PREVIEW_MAX_COLUMN)

    def _show_encoding(self, table: Table) -> None:
        box = self.encoding
        if table.encoding == "xlsx":
            box.setCurrentIndex(-1)
            box.setPlaceholderText("Not needed: Excel workbook")
            box.setEnabled(False)
            self.encoding_how.clear()
            self.doubt.hide()
            return
        index = box.findData(table.encoding)
        if index < 0:
            box.addItem(encoding_label(table.encoding), table.encoding)
            index = box.count() - 1
        box.setCurrentIndex(index)
        box.setEnabled(True)
        self.encoding_how.setText("(your choice)" if self._chosen_codec else "(detected)")
        if table.encoding_doubt:
            self.doubt.setText(
                f"<b>Check the letters.</b> {table.encoding_doubt} If names look wrong below, "
                "choose the file's encoding in the list above."
            )
            self.doubt.show()
        else:
            self.doubt.hide()

    def _show_special(self) -> None:
        if not self._special:
            self.special.hide()
            return
        self.special.setText("Letters beyond A–Z, as read: " + " · ".join(short(v) for v in self._special))
        self.special.show()

    def _encoding_highlighted(self, index: int) -> None:
        """While the list is open, show the special letters as the highlighted encoding reads them."""
        codec = self.encoding.itemData(index)
        if not codec or not self._special:
            return
        values = self.host.state.preview_values(codec)
        self.special.setText(f"As {encoding_label(codec)}: " + " · ".join(short(v) for v in values))

    def _encoding_chosen(self, index: int) -> None:
        codec = self.encoding.itemData(index)
        table = self.host.state.table
        if not codec or table is None or codec == table.encoding:
            self._show_special()
            return
        self.load(codec)

    def _failed(self, exc: BaseException) -> None:
        self.info.setStyleSheet(ERR)
        self.info.setText(str(exc))
        self.model.set_table(None)
        self.encoding.setCurrentIndex(-1)
        self.encoding.setPlaceholderText("Choose a file first")
        self.encoding.setEnabled(False)
        self.encoding_how.clear()
        self.doubt.hide()
        self._special = []
        self.special.hide()
        self.announce()

    def _mode(self, contacts_only: bool) -> None:
        self.host.state.contacts_only = contacts_only

    def initializePage(self) -> None:  # noqa: N802
        self.host.state.contacts_only = self.to_contacts.isChecked()

    def isComplete(self) -> bool:  # noqa: N802
        return not self.host.busy and self.host.state.table is not None

    def reset(self) -> None:
        self.to_send.setChecked(True)
        self.path.clear()
        self.info.clear()
        self.info.setStyleSheet("")
        self.model.set_table(None)
        self.encoding.setCurrentIndex(-1)
        self.encoding.setEnabled(False)
        self.encoding_how.clear()
        self.doubt.hide()
        self.special.hide()
