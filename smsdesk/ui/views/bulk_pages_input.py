"""Import wizard pages 1-3: choose the file, match the columns, check every row."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from smsdesk.domain.template import field_key
from smsdesk.services.imports.encodings import CHOICES
from smsdesk.services.imports.encodings import label as encoding_label
from smsdesk.services.imports.mapping import PHONE
from smsdesk.services.imports.readers import Table
from smsdesk.services.imports.validate import REASONS, Report
from smsdesk.ui.models.import_rows_model import PreviewModel, RowsModel
from smsdesk.ui.widgets.labels import WrapLabel

if TYPE_CHECKING:
    from smsdesk.ui.views.bulk_wizard import BulkWizard

COUNTRIES = (
    "GB",
    "IE",
    "US",
    "CA",
    "AU",
    "NZ",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BE",
    "DK",
    "SE",
    "NO",
    "PL",
    "PT",
    "KE",
    "NG",
    "ZA",
    "IN",
)
ROLES = (("", "Merge field only"), (PHONE, "Phone number"), ("name", "Name"), ("first_name", "First name"))
# Notes drawn with a coloured bar and the theme's own text colour: readable in light and dark.
ERR = "QLabel { border: none; border-left: 4px solid #d93025; padding: 4px 8px; }"
WARN = "QLabel { border: none; border-left: 4px solid #e39b00; padding: 4px 8px; }"
_PREVIEW_MAX_COLUMN = 280


def _table_view(model: Any, name: str, widths: tuple[int, ...] = (), stretch: int | None = None) -> QTableView:
    """A read-only table; fixed column widths (ResizeToContents would measure 100,000 rows)."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    for col, width in enumerate(widths):
        header.resizeSection(col, width)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)
    return view


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


class StepPage(QWizardPage):
    """A wizard page that tells the wizard its completeness only when that changes.

    Each ``completeChanged`` makes QWizard update its buttons with updates disabled, hiding
    and re-showing the page area: the focus leaves the page (for the window's navigation
    list) and does not come back. Announced on every key press, the message box took one
    letter, and the next ones switched pages. So pages call :meth:`announce`, which emits
    only for the page on screen, only on a real change, and puts the focus back.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown_complete: bool | None = None  # what the wizard last saw for this page

    def entered(self) -> None:
        """The wizard has just shown this page (and read its completeness itself)."""
        self._shown_complete = self.isComplete()

    def announce(self) -> None:
        wizard = self.wizard()
        if wizard is None or wizard.currentPage() is not self:
            return  # the wizard reads it afresh when the page is shown
        complete = self.isComplete()
        if complete == self._shown_complete:
            return
        self._shown_complete = complete
        keep = QApplication.focusWidget() or self.window().focusWidget()
        self.completeChanged.emit()
        if keep is not None and keep.isVisible() and keep.isEnabled() and self.window().focusWidget() is not keep:
            keep.setFocus(Qt.FocusReason.OtherFocusReason)


class FilePage(StepPage):
    def __init__(self, host: BulkWizard) -> None:
        super().__init__()
        self.host = host
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
        self.model = PreviewModel()
        self.preview = _table_view(self.model, "preview")
        layout = QVBoxLayout(self)
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
        self.special.setText("Letters beyond A–Z, as read: " + " · ".join(_short(v) for v in self._special))
        self.special.show()

    def _encoding_highlighted(self, index: int) -> None:
        """While the list is open, show the special letters as the highlighted encoding reads them."""
        codec = self.encoding.itemData(index)
        if not codec or not self._special:
            return
        values = self.host.state.preview_values(codec)
        self.special.setText(f"As {encoding_label(codec)}: " + " · ".join(_short(v) for v in values))

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

    def isComplete(self) -> bool:  # noqa: N802
        return not self.host.busy and self.host.state.table is not None

    def reset(self) -> None:
        self.path.clear()
        self.info.clear()
        self.info.setStyleSheet("")
        self.model.set_table(None)
        self.encoding.setCurrentIndex(-1)
        self.encoding.setEnabled(False)
        self.encoding_how.clear()
        self.doubt.hide()
        self.special.hide()


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class MappingPage(StepPage):
    def __init__(self, host: BulkWizard) -> None:
        super().__init__()
        self.host = host
        self.setSubTitle(
            "Which column holds the phone number, and which the name? Every column is also a "
            "merge field for the message, under its own name."
        )
        self.grid = QTableWidget(0, 3)
        self.grid.setObjectName("mapping")
        self.grid.setHorizontalHeaderLabels(["Column", "First values", "Use as"])
        self.grid.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.grid.horizontalHeader().resizeSection(2, 190)
        self.grid.verticalHeader().hide()
        self.country = QComboBox()
        self.country.setObjectName("country")
        self.country.setEditable(True)
        self.country.addItems(COUNTRIES)
        self.country.currentTextChanged.connect(self._country)
        self.policy = QComboBox()
        self.policy.setObjectName("policy")
        self.policy.addItem("Send, and merge their details", "merge")
        self.policy.addItem("Skip them", "skip")
        self.policy.currentIndexChanged.connect(
            lambda _i: self.host.state.set_contact_policy(self.policy.currentData())
        )
        self.fields = WrapLabel(objectName="fields")  # a long column heading must not widen the window
        form = QFormLayout()
        form.addRow("Numbers without a country code are in", self.country)
        form.addRow("People who are already contacts", self.policy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.grid, 1)
        layout.addLayout(form)
        layout.addWidget(self.fields)
        self._combos: list[QComboBox] = []

    def initializePage(self) -> None:  # noqa: N802
        state = self.host.state
        table, mapping = state.table, state.mapping
        assert table is not None and mapping is not None
        self.country.blockSignals(True)
        self.country.setCurrentText(mapping.country)
        self.country.blockSignals(False)
        self.grid.setRowCount(len(table.headers))
        self._combos = []
        for i, header in enumerate(table.headers):
            self.grid.setItem(i, 0, QTableWidgetItem(header))
            samples = [r[i] for r in table.rows[:4] if r[i].strip()]
            values = QTableWidgetItem(" · ".join(samples))
            values.setToolTip("\n".join(samples))  # in full, when the column is too narrow
            self.grid.setItem(i, 1, values)
            combo = QComboBox()
            combo.setObjectName(f"role_{i}")
            for key, label in ROLES:
                combo.addItem(label, key)
            combo.currentIndexChanged.connect(lambda _x, col=i: self._role_changed(col))
            self.grid.setCellWidget(i, 2, combo)
            self._combos.append(combo)
        self.grid.resizeColumnToContents(0)
        self._sync()

    def _role(self, col: int) -> str:
        m = self.host.state.mapping
        assert m is not None
        if m.phone == col:
            return PHONE
        for role in ("name", "first_name"):
            if m.fields.get(role) == col and role not in m.first_word:
                return role
        return ""

    def _sync(self) -> None:
        for col, combo in enumerate(self._combos):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(self._role(col))))
            combo.blockSignals(False)
        m = self.host.state.mapping
        assert m is not None
        keys = sorted(k for k in m.fields if k != PHONE)
        self.fields.setText("Merge fields: " + "  ".join("{{" + k + "}}" for k in keys))
        self.announce()

    def _role_changed(self, col: int) -> None:
        self.set_role(col, self._combos[col].currentData())

    def set_role(self, col: int, role: str) -> None:
        """Give column ``col`` a role (``phone``, ``name``, ``first_name`` or '' for none)."""
        state = self.host.state
        assert state.mapping is not None and state.table is not None
        if role:
            state.set_field(col, role)
        else:
            state.set_field(col, None)
            own = field_key(state.table.headers[col])
            state.mapping.fields.setdefault(own, col)
        self._sync()

    def _country(self, text: str) -> None:
        if len(text.strip()) == 2:
            self.host.state.set_country(text.strip())

    def isComplete(self) -> bool:  # noqa: N802
        m = self.host.state.mapping
        return m is not None and m.phone is not None


class ValidationPage(StepPage):
    def __init__(self, host: BulkWizard) -> None:
        super().__init__()
        self.host = host
        self.setSubTitle("Every row is checked. Rows that cannot be sent say why; repaired ones say what changed.")
        self.bar = QProgressBar()
        self.bar.setObjectName("validation_progress")
        self.stop = QPushButton("Stop")
        self.stop.setObjectName("stop_check")
        self.stop.clicked.connect(self._stop_or_again)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.show_what = QComboBox()
        self.show_what.addItems(["All rows", "Rejected rows", "Rows with notes"])
        self.show_what.currentIndexChanged.connect(lambda _i: self._fill())
        self.export = QPushButton("Save rejected rows…")
        self.export.setObjectName("export_rejects")
        self.export.clicked.connect(self._export)
        top = QHBoxLayout()
        top.addWidget(self.bar, 1)
        top.addWidget(self.stop)
        tools = QHBoxLayout()
        tools.addWidget(self.show_what)
        tools.addStretch(1)
        tools.addWidget(self.export)
        self.model = RowsModel("verdict")
        self.view = _table_view(self.model, "verdicts", (60, 140, 170, 140))
        self.view.verticalHeader().hide()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self.report: Report | None = None
        host.sig_busy_changed.connect(lambda _b: self.announce())

    def initializePage(self) -> None:  # noqa: N802
        self.run_check()

    def run_check(self) -> None:
        state = self.host.state
        self.report = None
        self.model.set_rows([])
        self.summary.setText("Checking…")
        self.stop.setText("Stop")
        self.stop.setEnabled(True)
        self._timer.start()
        self.host.cooperative(state.validate_steps(self.host.cancelled), self._done, "Check rows")
        self.announce()

    def _stop_or_again(self) -> None:
        if self.host.busy:
            self.host.cancel_flag.set()
        else:
            self.run_check()

    def _tick(self) -> None:
        done, total = self.host.progress
        self.bar.setMaximum(max(total, 1))
        self.bar.setValue(done)

    def _done(self, report: Report) -> None:
        self._timer.stop()
        self.stop.setText("Check again")  # after a stop, or after the opt-out list changed
        self.stop.setEnabled(True)
        self.bar.setMaximum(max(report.rows, 1))
        self.bar.setValue(report.rows)
        self.report = report
        self.summary.setText(summary_text(report))
        self._fill()
        self.announce()

    def _fill(self) -> None:
        if self.report is None:
            return
        which = self.show_what.currentIndex()
        items = self.report.items
        if which == 1:
            items = self.report.rejected_items
        elif which == 2:
            items = [r for r in items if r.flags or r.reason]
        self.model.set_rows(items, self.host.state.names())

    def rejects_csv(self) -> str:
        assert self.report is not None and self.host.state.table is not None
        return self.report.rejects_csv(self.host.state.table)

    def _export(self) -> None:
        if self.report is None:
            return
        src = self.host.state.path
        name = f"{src.stem if src else 'import'}-rejected.csv"
        self.host.choose_save_path(name, self.export_to)

    def export_to(self, path: str) -> None:
        Path(path).write_text(self.rejects_csv(), encoding="utf-8-sig")
        self.summary.setText(self.summary.text() + f"\nRejected rows saved to {path}.")

    def isComplete(self) -> bool:  # noqa: N802
        return not self.host.busy and self.report is not None and self.host.state.blocker(self._step()) == ""

    def _step(self) -> Any:
        from smsdesk.services.bulk_send_flow import Step

        return Step.VALIDATION


def summary_text(report: Report) -> str:
    """'1,000 rows: 950 accepted, 50 rejected' and the reasons, for the summary labels."""
    parts = [f"{report.rows:,} rows: {report.accepted:,} accepted, {report.rejected:,} rejected."]
    if report.by_reason:
        parts.append("Rejected: " + reasons_text(report.by_reason) + ".")
    if report.by_flag:
        from smsdesk.services.imports.validate import FLAG_LABELS

        parts.append("Notes: " + "; ".join(f"{FLAG_LABELS.get(k, k)}: {n:,}" for k, n in report.by_flag.items()) + ".")
    if not report.complete:
        parts.append("The check was stopped; run it again to go on.")
    return "\n".join(parts)


def reasons_text(by_reason: dict[str, int]) -> str:
    return "; ".join(f"{REASONS.get(k, k)}: {n:,}" for k, n in by_reason.items())
