"""Bulk wizard, step 2: which column is the phone number, which the name; the country of
numbers written without one; what to do with people who are already contacts."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout

from smsdesk.domain.contacts import FieldKind
from smsdesk.domain.template import field_key
from smsdesk.services.bulk_send_flow import Step
from smsdesk.services.imports.mapping import PHONE
from smsdesk.ui.views.bulk_send.common import StepPage, WizardHost
from smsdesk.ui.widgets.labels import WrapLabel

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
LEAVE_OUT = "leave_out"
# Saving people as contacts: every other column is kept on each contact as a field of a kind.
KEEP = {"": FieldKind.TEXT, "number": FieldKind.NUMBER, "date": FieldKind.DATE}
CONTACT_ROLES = (
    ("", "Text field"),
    ("number", "Number field"),
    ("date", "Date field"),
    (LEAVE_OUT, "Leave out"),
    (PHONE, "Phone number"),
    ("name", "Name"),
    ("first_name", "First name"),
)
SEND_HINT = (
    "Which column holds the phone number, and which the name? Every column is also a "
    "merge field for the message, under its own name."
)
CONTACTS_HINT = (
    "Which column holds the phone number, and which the name? Every other column is kept on each "
    "contact: as text, or as a number or a date (so smart groups can ask 'appointment is tomorrow')."
)


class MappingPage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.setSubTitle(SEND_HINT)
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
        self.form = form = QFormLayout()
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
        contacts = state.contacts_only
        self.setSubTitle(CONTACTS_HINT if contacts else SEND_HINT)
        self.form.setRowVisible(self.policy, not contacts)  # nothing is sent: no one to skip
        self.grid.setHorizontalHeaderLabels(["Column", "First values", "Keep as" if contacts else "Use as"])
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
            for key, label in CONTACT_ROLES if contacts else ROLES:
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
        if self.host.state.contacts_only:
            kind = self.host.state.kinds.get(col)
            return LEAVE_OUT if kind is None else next(k for k, v in KEEP.items() if v == kind)
        return ""

    def _sync(self) -> None:
        for col, combo in enumerate(self._combos):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(self._role(col))))
            combo.blockSignals(False)
        m = self.host.state.mapping
        assert m is not None
        keys = sorted(k for k in m.fields if k != PHONE)
        if self.host.state.contacts_only:
            self.fields.setText("")
        else:
            self.fields.setText("Merge fields: " + "  ".join("{{" + k + "}}" for k in keys))
        self.announce()

    def _role_changed(self, col: int) -> None:
        self.set_role(col, self._combos[col].currentData())

    def set_role(self, col: int, role: str) -> None:
        """Give column ``col`` a role (``phone``, ``name``, ``first_name`` or '' for none; saving
        contacts: ``number`` / ``date`` for a field of that kind, ``leave_out``)."""
        state = self.host.state
        assert state.mapping is not None and state.table is not None
        if role in KEEP or role == LEAVE_OUT:
            state.keep_as(col, KEEP.get(role))
            role = ""
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

    def nextId(self) -> int:  # noqa: N802 - Qt API
        return int(self.host.state.following(Step.MAPPING))

    def isComplete(self) -> bool:  # noqa: N802
        m = self.host.state.mapping
        return m is not None and m.phone is not None
