"""The contact form: add a contact or change one, checked by the service before it closes.

Numbers (up to :data:`NUMBER_ROWS`, each with a label, one marked for texts), tags separated
by commas, every defined custom field (typed: a date field says how to write a date), notes
and marketing consent. Saving runs the service's checks; a problem is said under the form in
plain words and nothing typed is lost. The dialog is opened with ``open()``, never
``exec()`` (a nested loop would stall the asyncio tasks running in the GUI loop).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.contacts import Consent, Contact, ContactDraft, DraftNumber, FieldDef, FieldKind
from smsdesk.domain.errors import SmsdeskError
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.widgets.labels import WrapLabel

NUMBER_ROWS = 3
Save = Callable[[ContactDraft], Coroutine[Any, Any, Any]]


class ContactDialog(QDialog):
    """Add (``contact`` None) or edit a contact; ``save`` stores the draft (a service call)."""

    def __init__(
        self,
        parent: QWidget,
        fields: list[FieldDef],
        save: Save,
        contact: Contact | None = None,
        on_saved: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("contact_dialog")
        self.setWindowTitle("Edit contact" if contact else "New contact")
        self._save = save
        self._on_saved = on_saved
        self._fields = fields
        self.name = QLineEdit()
        self.name.setObjectName("contact_form_name")
        self.name.setPlaceholderText("e.g. Ann Lee")
        self.numbers: list[tuple[QLineEdit, QLineEdit, QRadioButton]] = []
        self._sms = QButtonGroup(self)
        grid = QGridLayout()
        grid.addWidget(QLabel("Number"), 0, 0)
        grid.addWidget(QLabel("Label"), 0, 1)
        grid.addWidget(QLabel("Texts"), 0, 2)
        for i in range(NUMBER_ROWS):
            number = QLineEdit()
            number.setObjectName(f"contact_form_number{i}")
            number.setPlaceholderText("07911 123456" if i == 0 else "another number (optional)")
            label = QLineEdit()
            label.setObjectName(f"contact_form_label{i}")
            label.setPlaceholderText("mobile" if i == 0 else "work, home…")
            radio = QRadioButton()
            radio.setObjectName(f"contact_form_sms{i}")
            radio.setToolTip("Texts go to this number")
            self._sms.addButton(radio, i)
            grid.addWidget(number, i + 1, 0)
            grid.addWidget(label, i + 1, 1)
            grid.addWidget(radio, i + 1, 2)
            self.numbers.append((number, label, radio))
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        self.tags = QLineEdit()
        self.tags.setObjectName("contact_form_tags")
        self.tags.setPlaceholderText("VIP, Saturday (separate with commas)")
        self.field_edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow(grid)
        form.addRow("Tags", self.tags)
        for f in fields:
            edit = QLineEdit()
            edit.setObjectName(f"contact_form_field_{f.key}")
            if f.kind == FieldKind.DATE:
                edit.setPlaceholderText("a date, e.g. 2027-03-14 or 14/03/2027")
            elif f.kind == FieldKind.NUMBER:
                edit.setPlaceholderText("a number")
            self.field_edits[f.name] = edit
            form.addRow(f.name, edit)
        self.consent_at = QLineEdit()
        self.consent_at.setObjectName("contact_form_consent_at")
        self.consent_at.setPlaceholderText("when they agreed, e.g. 2026-11-02 (empty: not asked)")
        self.consent_how = QLineEdit()
        self.consent_how.setObjectName("contact_form_consent_how")
        self.consent_how.setPlaceholderText("how, e.g. signed the form in the salon")
        form.addRow("Agreed to marketing", self.consent_at)
        form.addRow("", self.consent_how)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("contact_form_notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(70)
        form.addRow("Notes", self.notes)
        self.error = WrapLabel(objectName="contact_form_error")
        theme.set_tone(self.error, "error")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("contact_form_save")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())
        if contact is not None:
            self._fill(contact)
        else:
            self.numbers[0][2].setChecked(True)

    def _fill(self, c: Contact) -> None:
        self.name.setText(c.shown_name)
        for i, n in enumerate(c.numbers[:NUMBER_ROWS]):
            number, label, radio = self.numbers[i]
            number.setText(n.number)
            label.setText(n.label)
            radio.setChecked(n.for_sms)
        self.tags.setText(", ".join(c.tags))
        for name, edit in self.field_edits.items():
            edit.setText(c.fields.get(name, ""))
        if c.consent is not None:
            self.consent_at.setText(c.consent.at)
            self.consent_how.setText(c.consent.how)
        self.notes.setPlainText(c.notes)

    def draft(self) -> ContactDraft:
        """What the form says now, unchecked."""
        numbers = tuple(DraftNumber(n.text(), lbl.text()) for n, lbl, _r in self.numbers)
        sms = self._sms.checkedId()
        at, how = self.consent_at.text().strip(), self.consent_how.text().strip()
        return ContactDraft(
            name=self.name.text(),
            numbers=numbers,
            sms=sms if sms >= 0 and numbers[sms].raw.strip() else None,
            tags=tuple(t for t in self.tags.text().split(",") if t.strip()),
            fields={name: edit.text() for name, edit in self.field_edits.items()},
            notes=self.notes.toPlainText(),
            consent=Consent(at, how) if at or how else None,
        )

    def submit(self) -> None:
        self.save_button.setEnabled(False)
        self.error.clear()
        spawn(self._save(self.draft()), title="Save contact", on_done=self._saved, on_error=self._failed)

    def _saved(self, result: Any) -> None:
        self.save_button.setEnabled(True)
        self.accept()
        if self._on_saved is not None:
            self._on_saved(result)

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.error.setText(str(exc) if isinstance(exc, SmsdeskError) else f"Could not save the contact: {exc}")
