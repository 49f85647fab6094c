"""A smart group: a name and up to three conditions, every one of which must hold.

Its members are whoever matches when it is asked (the list, a send, a scheduled run), so
"appointment is tomorrow" stays current by itself. Each condition row is a kind ("has the
tag", "a date field is", "replied in the last", ...) and what it needs; the rule is shown in
words as it is built. Opened with ``open()``, never ``exec()``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.contacts import (
    Condition,
    DateWithin,
    FieldContains,
    FieldDef,
    FieldEquals,
    FieldKind,
    GroupFilter,
    HasConsent,
    HasTag,
    IsOptedOut,
    RepliedWithin,
)
from smsdesk.domain.errors import SmsdeskError
from smsdesk.services.groups import GroupService
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.widgets.labels import WrapLabel

ROWS = 3
KINDS = (
    ("", "(no condition)"),
    ("tag", "has the tag"),
    ("equals", "a field is"),
    ("contains", "a field contains"),
    ("date", "a date field is"),
    ("replied", "replied in the last"),
    ("textable", "can be texted (not opted out)"),
    ("consent", "agreed to marketing"),
)
WHEN = (  # (label, start, end, yearly): days from today
    ("today", 0, 0, False),
    ("tomorrow", 1, 1, False),
    ("in the next 7 days", 0, 7, False),
    ("in the last 30 days", -30, 0, False),
    ("today, any year (birthdays)", 0, 0, True),
)


class ConditionRow(QWidget):
    """One condition: its kind, and the tag, field, value or days it needs."""

    def __init__(self, tags: list[str], fields: list[FieldDef], on_change: Callable[[], None]) -> None:
        super().__init__()
        self.kind = QComboBox()
        for key, label in KINDS:
            self.kind.addItem(label, key)
        self.tag = QComboBox()
        self.tag.setEditable(True)
        self.tag.addItems(tags)
        self.field = QComboBox()
        self.date_field = QComboBox()
        for f in fields:
            (self.date_field if f.kind == FieldKind.DATE else self.field).addItem(f.name)
        self.value = QLineEdit()
        self.value.setPlaceholderText("value")
        self.when = QComboBox()
        for label, *_rest in WHEN:
            self.when.addItem(label)
        self.days = QSpinBox()
        self.days.setRange(1, 3650)
        self.days.setValue(30)
        self.days.setSuffix(" days")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.kind)
        for w in (self.tag, self.field, self.date_field, self.value, self.when, self.days):
            row.addWidget(w, 1)
        self.kind.currentIndexChanged.connect(self._show)
        self.kind.currentIndexChanged.connect(lambda _i: on_change())
        for combo in (self.tag, self.field, self.date_field, self.when):
            combo.currentTextChanged.connect(lambda _t: on_change())
        self.value.textChanged.connect(lambda _t: on_change())
        self.days.valueChanged.connect(lambda _v: on_change())
        self._show()

    def _show(self, _index: int = 0) -> None:
        key = self.kind.currentData()
        self.tag.setVisible(key == "tag")
        self.field.setVisible(key in ("equals", "contains"))
        self.value.setVisible(key in ("equals", "contains"))
        self.date_field.setVisible(key == "date")
        self.when.setVisible(key == "date")
        self.days.setVisible(key == "replied")

    def condition(self) -> Condition | None:
        """The condition as chosen; None when the row is unused or not filled in."""
        key = self.kind.currentData()
        if key == "tag" and self.tag.currentText().strip():
            return HasTag(self.tag.currentText().strip())
        if key == "equals" and self.field.currentText():
            return FieldEquals(self.field.currentText(), self.value.text().strip())
        if key == "contains" and self.field.currentText() and self.value.text().strip():
            return FieldContains(self.field.currentText(), self.value.text().strip())
        if key == "date" and self.date_field.currentText():
            _label, start, end, yearly = WHEN[self.when.currentIndex()]
            return DateWithin(self.date_field.currentText(), start, end, yearly)
        if key == "replied":
            return RepliedWithin(self.days.value())
        if key == "textable":
            return IsOptedOut(False)
        if key == "consent":
            return HasConsent(True)
        return None


class SmartGroupDialog(QDialog):
    """Make a smart group; ``on_made(group_id)`` is called once it is stored."""

    def __init__(
        self,
        parent: QWidget,
        groups: GroupService,
        tags: list[str],
        fields: list[FieldDef],
        on_made: Callable[[int], None],
    ) -> None:
        super().__init__(parent)
        self.setObjectName("smart_group_dialog")
        self.setWindowTitle("New smart group")
        self._groups = groups
        self._on_made = on_made
        self.name = QLineEdit()
        self.name.setObjectName("smart_group_name")
        self.name.setPlaceholderText("e.g. Appointments tomorrow")
        self.rows = [ConditionRow(tags, fields, self._describe) for _ in range(ROWS)]
        self.rule = WrapLabel(objectName="smart_group_rule")
        theme.set_tone(self.rule, "muted")
        self.error = WrapLabel(objectName="smart_group_error")
        theme.set_tone(self.error, "error")
        form = QFormLayout()
        form.addRow("Name", self.name)
        for i, row in enumerate(self.rows):
            form.addRow("Who" if i == 0 else "and", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.rule)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, self.sizeHint().height())
        self._describe()

    def group_filter(self) -> GroupFilter:
        return GroupFilter(tuple(c for row in self.rows if (c := row.condition()) is not None))

    def _describe(self) -> None:
        flt = self.group_filter()
        self.rule.setText(
            f"Members: everyone whose {flt.describe()}. They change by themselves as contacts do."
            if flt.conditions
            else "Choose at least one condition."
        )

    def submit(self) -> None:
        flt = self.group_filter()
        if not flt.conditions:
            self.error.setText("Choose at least one condition, or make a plain group instead.")
            return
        self.save_button.setEnabled(False)
        spawn(
            self._groups.create(self.name.text(), flt), title="Smart group", on_done=self._made, on_error=self._failed
        )

    def _made(self, group_id: int) -> None:
        self.accept()
        self._on_made(group_id)

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.error.setText(str(exc) if isinstance(exc, SmsdeskError) else f"Could not save the group: {exc}")
