"""Bulk wizard, instead of writing a message: save the file's people as contacts in a group.

Chosen on the first page ("Only add them to my contacts"). Nothing is sent. Every row is
accounted for once saved: added, merged into a contact who already had that number, or
skipped with the reason (a number that is not one, a date that is not a date).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWizard

from smsdesk.domain.contacts import FieldKind
from smsdesk.services.contact_files import ContactImport
from smsdesk.services.contact_table import save_table
from smsdesk.ui.aio import spawn
from smsdesk.ui.views.bulk_send.common import ERR, StepPage, WizardHost
from smsdesk.ui.widgets.labels import WrapLabel

SHOWN_SKIPS = 12
KIND_WORDS = {FieldKind.TEXT: "text", FieldKind.NUMBER: "number", FieldKind.DATE: "date"}


class ContactsPage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.setSubTitle("Nothing is sent. Numbers already in your contacts are merged into those contacts.")
        self.setButtonText(QWizard.WizardButton.FinishButton, "Save contacts")
        self.group_name = QLineEdit()
        self.group_name.setObjectName("contacts_group_name")
        self.group_name.setPlaceholderText("Name of the group, e.g. Clients")
        self.group_name.setToolTip("A group of that name is made, or added to if you have one")
        self.group_name.textChanged.connect(lambda _t: self.announce())
        self.summary = WrapLabel(objectName="contacts_summary")
        self.result = WrapLabel(objectName="contacts_result")
        self.feedback = WrapLabel(objectName="contacts_feedback")
        self.feedback.setStyleSheet(ERR)
        self.feedback.hide()  # its bar shows only with a reason in it
        self.show_group = QPushButton("Show them in Contacts")
        self.show_group.setObjectName("show_group")
        self.show_group.clicked.connect(self._show_group)
        self.show_group.hide()
        form = QFormLayout()
        form.addRow("Add them to the group", self.group_name)
        row = QHBoxLayout()
        row.addWidget(self.show_group)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.feedback)
        layout.addWidget(self.result)
        layout.addLayout(row)
        layout.addStretch(1)
        self._saving = False
        self.saved: ContactImport | None = None

    def nextId(self) -> int:  # noqa: N802 - Qt API
        return -1  # the last page: Finish saves, then starts over

    def initializePage(self) -> None:  # noqa: N802
        state = self.host.state
        table, mapping = state.table, state.mapping
        assert table is not None and mapping is not None
        self.saved = None
        self.result.clear()
        self.feedback.clear()
        self.feedback.hide()
        self.show_group.hide()
        self.setButtonText(QWizard.WizardButton.FinishButton, "Save contacts")
        stem = state.path.stem if state.path else "Import"
        if not self.group_name.text():
            self.group_name.setText(f"{stem} {datetime.now():%Y-%m-%d}")
        roles = {mapping.phone, mapping.fields.get("name"), mapping.fields.get("first_name")}
        kept = [f"{table.headers[i]} ({KIND_WORDS[k]})" for i, k in sorted(state.kinds.items()) if i not in roles]
        lines = [f"{len(table.rows):,} rows will be added to your contacts."]
        lines.append("Kept on each contact: " + (", ".join(kept) if kept else "only the name and number") + ".")
        self.summary.setText("\n".join(lines))

    def isComplete(self) -> bool:  # noqa: N802
        return not self._saving and (self.saved is not None or bool(self.group_name.text().strip()))

    def validatePage(self) -> bool:  # noqa: N802
        if self.saved is not None:
            return True  # Finish after saving: start over
        if self._saving:
            return False
        state = self.host.state
        assert state.table is not None and state.mapping is not None
        services = self.host.ctx.services
        self._saving = True
        self.feedback.clear()
        self.feedback.hide()
        self.result.setText("Saving contacts…")
        self.announce()
        source = state.path.name if state.path else "import"
        spawn(
            save_table(
                services.contacts,
                services.groups,
                state.table,
                state.mapping,
                dict(state.kinds),
                self.group_name.text(),
                source,
            ),
            title="Save contacts",
            on_done=self._saved,
            on_error=self._failed,
        )
        return False

    def _saved(self, result: ContactImport) -> None:
        self._saving = False
        self.saved = result
        name = " ".join(self.group_name.text().split())
        total = result.added + result.merged + len(result.skipped)
        lines = [
            f"{total:,} rows: {result.added:,} new contacts, {result.merged:,} merged into contacts you had, "
            f"{len(result.skipped):,} skipped. They are in the group '{name}'."
        ]
        for s in result.skipped[:SHOWN_SKIPS]:
            lines.append(f"Row {s.position}: {s.reason}")
        if len(result.skipped) > SHOWN_SKIPS:
            lines.append(f"…and {len(result.skipped) - SHOWN_SKIPS:,} more skipped rows.")
        self.result.setText("\n".join(lines))
        self.group_name.setReadOnly(True)
        self.show_group.show()
        self.setButtonText(QWizard.WizardButton.FinishButton, "Import another file")
        self.announce()

    def _failed(self, exc: BaseException) -> None:
        self._saving = False
        self.result.clear()
        self.feedback.setText(str(exc))
        self.feedback.show()
        self.announce()

    def _show_group(self) -> None:
        if self.saved is None or self.saved.group_id is None:
            return
        show_page = getattr(self.window(), "show_page", None)
        page = show_page("contacts") if show_page is not None else None
        panel = getattr(page, "groups_panel", None)
        if panel is not None:
            panel.choose(self.saved.group_id)

    def reset(self) -> None:
        self.group_name.setReadOnly(False)
        self.group_name.clear()
        self.saved = None
        self._saving = False
        self.result.clear()
        self.feedback.clear()
        self.feedback.hide()
        self.show_group.hide()
