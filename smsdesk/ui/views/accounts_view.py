"""Settings -> Accounts: add, edit, remove and Test provider accounts.

The fields come from the provider's declaration (:class:`AccountForm`). Test makes a real
authenticated call and shows the provider's own words.

Save, Test and Remove sit right under the fields, and every line that appears later (the
result, the sandbox note, the balance) goes below them: nothing moves the buttons while the
pointer is on its way to them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SecretStoreUnavailable, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account
from smsdesk.providers import registry
from smsdesk.providers.spec import ProviderSpec
from smsdesk.services.balance import warning_level
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import confirm
from smsdesk.ui.views.account_form import AccountForm, FieldWidget


class AccountsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current: Account | None = None

        self.list = QListWidget()
        self.list.setObjectName("accounts_list")
        self.new_button = QPushButton("New account")
        self.new_button.setObjectName("new_account")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.list)
        ll.addWidget(self.new_button)

        self.provider = QComboBox()
        self.provider.setObjectName("provider")
        for spec in registry.specs():
            self.provider.addItem(spec.name, spec.id)
        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.form = AccountForm(ctx.services.accounts)
        self.advanced = self.form.advanced
        self.sandbox_button = self.form.sandbox_button
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        theme.set_tone(self.notes, "muted")
        self.sandbox_note = QLabel()
        self.sandbox_note.setObjectName("sandbox_note")
        self.sandbox_note.setWordWrap(True)
        self.balance = QLabel()
        self.balance.setObjectName("account_balance")
        self.balance.setWordWrap(True)
        self.balance.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.webhook = QLineEdit()
        self.webhook.setReadOnly(True)
        self.webhook.setObjectName("webhook_url")
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.webhook.text()))
        hook_row = QHBoxLayout()
        hook_row.addWidget(self.webhook, 1)
        hook_row.addWidget(copy)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("save_account")
        self.test_button = QPushButton("Test")
        self.test_button.setObjectName("test_account")
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("remove_account")
        self.result = QLabel()
        self.result.setObjectName("account_result")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        head = QFormLayout()
        head.addRow("Provider", self.provider)
        head.addRow("Name", self.name)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addLayout(head)
        rl.addWidget(self.form)
        rl.addLayout(buttons)
        rl.addWidget(self.result)
        rl.addWidget(self.sandbox_note)
        rl.addWidget(self.notes)
        rl.addWidget(self.balance)
        rl.addWidget(QLabel("Webhook URL for the provider's dashboard:"))
        rl.addLayout(hook_row)
        rl.addStretch(1)
        # A long form (Advanced open) scrolls instead of making the window taller than the screen.
        scroll = QScrollArea()
        scroll.setObjectName("account_form")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(right)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.list.currentItemChanged.connect(lambda cur, _prev: self._select(cur))
        self.new_button.clicked.connect(self.new_account)
        self.provider.currentIndexChanged.connect(lambda _i: self._build_form(self._spec(), None))
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.remove_button.clicked.connect(self.confirm_remove)
        self.sandbox_button.clicked.connect(self.use_sandbox)
        ctx.bridge.sig_changed.connect(self._on_changes)
        self.reload()

    # ---- list --------------------------------------------------------------------------
    def reload(self, select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else (self.current.id if self.current else None)
        self.list.blockSignals(True)
        self.list.clear()
        for acct in self.ctx.services.accounts.all():
            item = QListWidgetItem(f"{acct.name}  ·  {self.ctx.services.accounts.spec(acct).name}")
            item.setData(Qt.ItemDataRole.UserRole, acct.id)
            self.list.addItem(item)
            if acct.id == keep:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        cur = self.list.currentItem()
        if cur is None and self.list.count() and keep is None:
            self.list.setCurrentRow(0)
            cur = self.list.currentItem()
        self._select(cur)

    def _on_changes(self, changes: Changes) -> None:
        if changes.accounts:
            self.reload()

    def _select(self, item: QListWidgetItem | None) -> None:
        if item is None:
            self.new_account()
            return
        try:
            acct = self.ctx.services.accounts.get(item.data(Qt.ItemDataRole.UserRole))
        except SmsdeskError:
            return
        self.current = acct
        self.provider.blockSignals(True)
        self.provider.setCurrentIndex(self.provider.findData(acct.provider))
        self.provider.blockSignals(False)
        self.provider.setEnabled(False)
        self.name.setText(acct.name)
        self._build_form(self.ctx.services.accounts.spec(acct), acct)
        self.webhook.setText(self.ctx.services.accounts.webhook_url(acct, public=True))
        self.test_button.setEnabled(True)
        self.remove_button.setEnabled(True)
        self.result.clear()
        self.sandbox_note.setText(self.ctx.services.accounts.sandbox_note(acct))
        self.sandbox_note.setVisible(bool(self.sandbox_note.text()))
        self.refresh_balance()

    def new_account(self) -> None:
        self.current = None
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self.provider.setEnabled(True)
        if self._spec().builtin_sandbox and self.provider.count() > 1:
            self.provider.setCurrentIndex(1)
        self.name.clear()
        self._build_form(self._spec(), None)
        self.webhook.setText("(shown after saving)")
        self.test_button.setEnabled(False)
        self.remove_button.setEnabled(False)
        self.result.clear()
        self.sandbox_note.clear()
        self.sandbox_note.hide()
        self.balance.clear()
        self.balance.hide()
        self.name.setFocus()

    def _spec(self) -> ProviderSpec:
        return registry.get_spec(self.provider.currentData())

    # ---- form --------------------------------------------------------------------------
    @property
    def inputs(self) -> dict[str, FieldWidget]:
        """The form's boxes by field name."""
        return self.form.inputs

    def _build_form(self, spec: ProviderSpec, acct: Account | None) -> None:
        self.form.build(spec, acct)
        self.notes.setText(spec.notes)

    def values(self) -> dict[str, str]:
        return self.form.values()

    # ---- the built-in sandbox and the balance ------------------------------------------------
    def use_sandbox(self) -> None:
        """Point the form at the running sandbox: its address for this provider and its key."""
        spec = self._spec()
        fill = self.ctx.services.accounts.sandbox_fill(spec.id)
        if fill is None:
            theme.set_tone(self.result, "error")
            self.result.setText(
                "The built-in sandbox is not running. Turn on demo mode in Settings → General and "
                "restart smsdesk, or fill in a real provider's address and key."
            )
            return
        self.form.fill(fill)
        if not self.name.text().strip():
            self.name.setText(f"{spec.name} (sandbox)")
        theme.set_tone(self.result, "ok")
        self.result.setText(
            "Filled in the built-in sandbox's address and a key of this account's own. Save, then Test. " + fill.note
        )

    def refresh_balance(self) -> None:
        """Show what is left on the selected account, when its provider has a balance call."""
        acct = self.current
        if acct is None or not self.ctx.services.accounts.spec(acct).caps.balance:
            self.balance.clear()
            self.balance.hide()
            return
        theme.set_tone(self.balance, "")
        self.balance.setText("Balance: checking…")
        self.balance.show()

        def done(value: object) -> None:
            if self.current is None or self.current.id != acct.id:
                return
            level = warning_level(acct)
            low = isinstance(value, int | float) and level is not None and value < level
            theme.set_tone(self.balance, "warn" if low else "")
            shown = "unknown (the provider did not say)" if value is None else f"{value:,} units"
            below = f": below your warning level of {level:,g}, top it up soon" if low and level is not None else ""
            self.balance.setText(f"Balance: {shown}{below}")

        def failed(exc: BaseException) -> None:
            if self.current is None or self.current.id != acct.id:
                return
            theme.set_tone(self.balance, "error")
            words = str(exc) if isinstance(exc, SmsdeskError) else f"{type(exc).__name__}: {exc}"
            self.balance.setText(
                f"Balance unavailable: {words.rstrip('.')}. Check the API key and base URL, then press Test."
            )

        spawn(self.ctx.services.accounts.balance(acct), title="Balance", on_done=done, on_error=failed)

    # ---- actions -----------------------------------------------------------------------
    def save(self) -> None:
        values = self.values()
        name = self.name.text().strip()
        if self.current is None:
            coro = self.ctx.services.accounts.add(name, self.provider.currentData(), values)
        else:
            coro = self.ctx.services.accounts.update(self.current, values, name=name)
        self.save_button.setEnabled(False)
        spawn(coro, title="Save account", on_done=self._saved, on_error=self._save_failed)

    def _saved(self, acct: Account) -> None:
        self.save_button.setEnabled(True)
        self.current = acct
        self.reload(acct.id)
        theme.set_tone(self.result, "ok")
        where = (
            "kept for this session only (no keyring)"
            if self.ctx.services.accounts.secrets_kept_for_session()
            else "in the system keyring"
        )
        self.result.setText(f"Saved '{acct.name}'. Its secrets are {where}.")

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, SecretStoreUnavailable):
            self._offer_session_secrets(str(exc))
            return
        theme.set_tone(self.result, "error")
        self.result.setText(str(exc))
        if self.form.names_advanced_field(str(exc)):
            self.advanced.set_expanded(True)  # the field to fix is in there: show it

    def _offer_session_secrets(self, reason: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "No keyring",
            reason + "\n\nKeep this account's secrets for this session only? They are never written to disk "
            "and will be asked for again next time.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("keyring_dialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self.ctx.services.accounts.keep_secrets_for_session()
                self.save()
            else:
                theme.set_tone(self.result, "error")
                self.result.setText("Not saved: no keyring. " + reason)

        box.finished.connect(chosen)
        box.open()

    def test(self) -> None:
        if self.current is None:
            return
        theme.set_tone(self.result, "")
        self.result.setText("Testing…")
        self.test_button.setEnabled(False)

        def done(text: str) -> None:
            self.test_button.setEnabled(True)
            theme.set_tone(self.result, "ok")
            self.result.setText("✓ " + text)

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            theme.set_tone(self.result, "error")
            self.result.setText("✗ " + str(exc))

        spawn(self.ctx.services.accounts.test(self.current), title="Test account", on_done=done, on_error=failed)

    def confirm_remove(self) -> None:
        acct = self.current
        if acct is None:
            return

        def remove() -> None:
            self.current = None
            spawn(self.ctx.services.accounts.remove(acct), title="Remove account")

        confirm(
            self,
            "Remove account",
            f"Remove the account '{acct.name}'? Its secrets are deleted from the keyring; its message history is kept.",
            remove,
            name="confirm_remove",
        )
