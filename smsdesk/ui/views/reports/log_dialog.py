"""Which messages go into a message log export: status, direction, a person or a group.

The period and the account are the Reports page's; this dialog narrows them further. A name
or number that nobody has, or a group with nobody in it, is said here, before any file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.services.contacts import ContactService
from smsdesk.services.groups import GroupService
from smsdesk.services.reports import FAILED, PENDING
from smsdesk.ui.theme import set_tone

STATUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Any status", ()),
    ("Delivered", ("delivered",)),
    ("Failed", tuple(sorted(FAILED))),
    ("Waiting for a receipt", tuple(sorted(PENDING))),
    ("Received", ("received",)),
)
DIRECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Sent and received", ()),
    ("Sent", ("out",)),
    ("Received", ("in",)),
)


@dataclass(frozen=True, slots=True)
class LogChoice:
    statuses: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    words: str = "every message"  # what was chosen, for the message after the export


class LogExportDialog(QDialog):
    """Filters for the message log; ``on_chosen`` gets them when the person presses Export."""

    def __init__(
        self,
        contacts: ContactService,
        groups: GroupService,
        on_chosen: Callable[[LogChoice], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("log_export")
        self.setWindowTitle("Export the message log")
        self.contacts = contacts
        self.groups = groups
        self.on_chosen = on_chosen
        intro = QLabel("Messages of the period and account chosen on the Reports page, oldest first.")
        intro.setWordWrap(True)
        set_tone(intro, "muted")
        self.status = QComboBox()
        self.status.setObjectName("log_status")
        for label, values in STATUSES:
            self.status.addItem(label, values)
        self.direction = QComboBox()
        self.direction.setObjectName("log_direction")
        for label, values in DIRECTIONS:
            self.direction.addItem(label, values)
        self.person = QLineEdit()
        self.person.setObjectName("log_person")
        self.person.setPlaceholderText("Anyone (or a contact's name or a number)")
        self.group = QComboBox()
        self.group.setObjectName("log_group")
        self.group.addItem("Any group", None)
        for g in groups.groups():
            self.group.addItem(g.name, g.id)
        self.error = QLabel()
        self.error.setObjectName("log_error")
        self.error.setWordWrap(True)
        set_tone(self.error, "error")
        self.error.hide()
        form = QFormLayout()
        form.addRow("Status", self.status)
        form.addRow("Direction", self.direction)
        form.addRow("Person", self.person)
        form.addRow("Group", self.group)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("log_export_button")
        self.export_button.setDefault(True)
        buttons.accepted.connect(self._export)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)

    def choice(self) -> LogChoice:
        """The filters as chosen.

        Raises:
            SmsdeskError: nobody has that name or number, or the group has nobody in it.
        """
        words = []
        numbers: list[str] | None = None
        text = self.person.text().strip()
        if text:
            numbers = self.contacts.numbers_for(text)
            words.append(f"with {text}")
        gid = self.group.currentData()
        if gid is not None:
            members = self.groups.member_numbers(int(gid))
            numbers = [n for n in numbers if n in set(members)] if numbers is not None else members
            words.append(f"with @{self.group.currentText()}")
            if not numbers:
                raise SmsdeskError(f"Nobody in @{self.group.currentText()} has a number. Choose another group.")
        statuses, directions = self.status.currentData(), self.direction.currentData()
        if statuses:
            words.insert(0, self.status.currentText().lower())
        if directions:
            words.insert(0, self.direction.currentText().lower())
        return LogChoice(tuple(statuses), tuple(directions), tuple(numbers or ()), " ".join(words) or "every message")

    def _export(self) -> None:
        try:
            choice = self.choice()
        except SmsdeskError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()
        self.on_chosen(choice)
