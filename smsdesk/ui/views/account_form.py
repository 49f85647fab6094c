"""An account's fields, built from its provider's declaration (``providers.spec``).

Secret fields are password boxes whose values go to the keyring (an empty box keeps what the
keyring has); choice fields are drop-downs; fields declared ``advanced`` (sends in flight,
polling, Unicode mode...) sit in a closed "Advanced" section, which is hidden when the provider
has none. Between the two, while the built-in sandbox runs, a button fills the form in to
try the account against it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SecretStoreUnavailable
from smsdesk.domain.models import Account
from smsdesk.providers.spec import ProviderSpec
from smsdesk.services.accounts import AccountService, SandboxFill
from smsdesk.ui.collapsible import Collapsible
from smsdesk.ui.theme import set_tone
from smsdesk.ui.widgets.country_prices import CountryPricesEdit

FieldWidget = QLineEdit | QComboBox | CountryPricesEdit  # what shows one field of an account


class AccountForm(QWidget):
    """The fields of one provider's account: :meth:`build`, then read :meth:`values`."""

    def __init__(self, accounts: AccountService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._accounts = accounts
        self.spec: ProviderSpec | None = None
        self.account: Account | None = None
        self.inputs: dict[str, FieldWidget] = {}
        self.form = QFormLayout()
        self.fields_box = QWidget()
        self.fields_box.setLayout(self.form)
        self.advanced_form = QFormLayout()
        self.advanced = Collapsible("Advanced", name="advanced")
        self.advanced.body.setLayout(self.advanced_form)
        self.advanced.toggle.setToolTip("Sending speed, polling, special characters and other technical settings")
        self.keys_note = QLabel()
        self.keys_note.setObjectName("relay_keys_note")
        self.keys_note.setWordWrap(True)
        self.keys_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_tone(self.keys_note, "muted")
        self.keys_note.hide()
        self.sandbox_button = QPushButton("Use the built-in sandbox")
        self.sandbox_button.setObjectName("use_sandbox")
        self.sandbox_button.setToolTip(
            "Fill in the running sandbox's address for this provider and this session's key, "
            "to try the account without a real provider."
        )
        sandbox_row = QHBoxLayout()
        sandbox_row.addWidget(self.sandbox_button)
        sandbox_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.fields_box)
        layout.addWidget(self.keys_note)
        layout.addLayout(sandbox_row)
        layout.addWidget(self.advanced)

    def build(self, spec: ProviderSpec, account: Account | None) -> None:
        """Show ``spec``'s fields, filled from ``account`` (None: a new account's defaults)."""
        self.spec, self.account = spec, account
        for form in (self.form, self.advanced_form):
            while form.rowCount():
                form.removeRow(0)
        self.inputs = {}
        # A team workspace keeps provider keys only on its relays: no key is typed on a desktop.
        relay_keys = self._accounts.keys_per_computer and not spec.builtin_sandbox
        secret_names = [f.name for f in spec.fields if f.secret]
        self.keys_note.setVisible(relay_keys and bool(secret_names))
        if relay_keys and secret_names:
            name = account.name if account else "NAME"
            self.keys_note.setText(
                "On a team workspace the provider's keys are kept only on the relays that send. On each "
                f'relay run: smsdesk accounts add --name "{name}" --provider {spec.id} '
                f"--secret-stdin {secret_names[0]}"
            )
        for fld in spec.fields:
            if fld.secret and relay_keys:
                continue
            widget: FieldWidget
            if fld.kind == "country_prices":
                widget = CountryPricesEdit()
                widget.setText(str((account.settings.get(fld.name) if account else "") or ""))
            elif fld.choices:
                box = QComboBox()
                box.addItems(list(fld.choices))
                value = (account.settings.get(fld.name) if account else None) or fld.default
                box.setCurrentText(str(value))
                widget = box
            else:
                widget = self._line(spec, fld.name, account)
            widget.setObjectName(f"field_{fld.name}")
            widget.setToolTip(fld.help)
            caption = fld.label + (" *" if fld.required else "") + (" (secret)" if fld.secret else "")
            (self.advanced_form if fld.advanced else self.form).addRow(caption, widget)
            self.inputs[fld.name] = widget
        # Open or closed as the person left it; hidden when the provider has nothing advanced.
        self.advanced.setVisible(any(f.advanced for f in spec.fields))
        # One label column for both parts of the form, so the Advanced fields line up.
        labels = [form.labelForField(w) for w in self.inputs.values() for form in (self.form, self.advanced_form)]
        shown = [label for label in labels if label is not None]
        width = max((label.sizeHint().width() for label in shown), default=0)
        for label in shown:
            label.setMinimumWidth(width)
        # Only while the sandbox runs, and not for the Sandbox provider (it is wired up by itself).
        self.sandbox_button.setVisible(self._accounts.can_use_sandbox(spec.id))

    def _line(self, spec: ProviderSpec, name: str, account: Account | None) -> QLineEdit:
        fld = spec.field(name)
        assert fld is not None
        edit = QLineEdit()
        if fld.secret:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            if account is not None and spec.builtin_sandbox:
                edit.setPlaceholderText("set automatically by the built-in sandbox each start")
            else:
                has = bool(account and self.has_secret(account, name))
                edit.setPlaceholderText(
                    "stored in the keyring; type to replace" if has else ("required" if fld.required else "optional")
                )
            return edit
        if name == "base_url":
            value = account.base_url if account else ""
            edit.setPlaceholderText(spec.default_base_url or "the running sandbox")
        elif name == "sender":
            value = account.sender if account else ""
        else:
            value = str((account.settings.get(name, "") if account else "") or fld.default)
        edit.setText(value)
        return edit

    def has_secret(self, account: Account, name: str) -> bool:
        """Whether the keyring holds ``account``'s secret ``name`` (False when it cannot be read)."""
        try:
            return bool(self._accounts.secret(account, name))
        except SecretStoreUnavailable:
            return False

    def values(self) -> dict[str, str]:
        """What the boxes hold, by field name; an empty secret box is left out (the keyring keeps it)."""
        out: dict[str, str] = {}
        for name, widget in self.inputs.items():
            value = widget.currentText() if isinstance(widget, QComboBox) else widget.text().strip()
            fld = self.spec.field(name) if self.spec is not None else None
            if fld is not None and fld.secret and not value:
                continue
            out[name] = value
        return out

    def names_advanced_field(self, text: str) -> bool:
        """Whether an error ``text`` is about a field of the Advanced section."""
        fields = self.spec.fields if self.spec is not None else ()
        return any(f.label in text or f"'{f.name}'" in text for f in fields if f.advanced)

    def fill(self, fill: SandboxFill) -> None:
        """Put the sandbox's values in the boxes; a suggestion goes only into an empty box whose
        secret the keyring does not hold either (a person's own sender ID or secret wins)."""
        for name, value in fill.values.items():
            box = self.inputs.get(name)
            if not isinstance(box, QLineEdit):
                continue
            if name in fill.suggested:
                fld = self.spec.field(name) if self.spec is not None else None
                stored = bool(fld and fld.secret and self.account and self.has_secret(self.account, name))
                if box.text().strip() or stored:
                    continue
            box.setText(value)
