"""The contact pane: everything about one person, read from the address book when shown.

Name, numbers (the one texts go to marked), tags, custom fields, notes, consent, opt-out
state with where it came from, groups, and their conversations. The buttons act on the
shown contact; the page around it does the work (edit, delete, message).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.contacts import Contact
from smsdesk.services.contacts import ContactService
from smsdesk.services.groups import GroupService
from smsdesk.ui import theme
from smsdesk.ui.models.sent_messages_model import local_time
from smsdesk.ui.widgets.labels import WrapLabel


class ContactPane(QWidget):
    """One contact's details.

    Signals:
        sig_message: the person asked to text this contact (its number for texts).
        sig_open_conversation: a conversation in the history was opened (its id).
    """

    sig_message = Signal(str)
    sig_open_conversation = Signal(int)

    def __init__(self, contacts: ContactService, groups: GroupService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._contacts = contacts
        self._groups = groups
        self.contact: Contact | None = None
        self.setObjectName("contact_pane")
        self.setMinimumWidth(250)
        self.name = WrapLabel(objectName="contact_name")
        self.name.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.details = WrapLabel(objectName="contact_details")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.opt_state = WrapLabel(objectName="contact_optout")
        self.message_button = QPushButton("Message")
        self.message_button.setObjectName("contact_message")
        self.message_button.setToolTip("Write to this contact in Compose")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setObjectName("contact_edit")
        self.edit_button.setToolTip("Change this contact (Enter)")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("contact_delete")
        self.delete_button.setToolTip("Delete the selected contacts; their messages stay (Delete, undo with Ctrl+Z)")
        self.erase_button = QPushButton("Erase everything…")
        self.erase_button.setObjectName("contact_erase")
        self.erase_button.setFlat(True)
        self.erase_button.setToolTip(
            "Erase everything about this person: the contact and all their messages, for good "
            "(a data-protection request)"
        )
        self.history_title = QLabel("Conversations")
        self.history_title.setStyleSheet("font-weight: 600;")
        self.history = QListWidget()
        self.history.setObjectName("contact_history")
        self.history.itemActivated.connect(self._open_history)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.empty = WrapLabel("Choose a contact in the list to see it here.", objectName="contact_empty")
        theme.set_tone(self.empty, "muted")

        buttons = QHBoxLayout()
        buttons.addWidget(self.message_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        body = QWidget()
        inner = QVBoxLayout(body)
        inner.addWidget(self.name)
        inner.addLayout(buttons)
        inner.addWidget(self.opt_state)
        inner.addWidget(self.details)
        inner.addWidget(self.history_title)
        inner.addWidget(self.history, 1)
        erase_row = QHBoxLayout()
        erase_row.addStretch(1)
        erase_row.addWidget(self.erase_button)
        inner.addLayout(erase_row)
        self._body = body
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)
        self.message_button.clicked.connect(self._message)
        self.show_contact(None)

    def show_contact(self, contact: Contact | None) -> None:
        """Show ``contact`` as stored now (None: nothing chosen)."""
        self.contact = contact
        self.empty.setVisible(contact is None)
        self._body.setVisible(contact is not None)
        if contact is None:
            return
        self.name.setText(contact.shown_name or self._contacts.number_text(contact.number) or "(no name)")
        self.message_button.setEnabled(bool(contact.number) and not contact.opted_out)
        if contact.opted_out:
            self.opt_state.setText(f"Opted out ({contact.opted_out}): smsdesk will not text this number.")
            theme.set_tone(self.opt_state, "error")
        else:
            self.opt_state.setText("Can be texted." if contact.number else "No number for texts yet.")
            theme.set_tone(self.opt_state, "ok" if contact.number else "muted")
        self.details.setText(self._details_html(contact))
        self.history.clear()
        for row in self._contacts.conversations_of(contact.id):
            arrow = "←" if row.last_direction == "in" else "→"
            item = QListWidgetItem(f"{row.account}: {arrow} {row.last_body[:80]}  ·  {local_time(row.last_at)}")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            item.setToolTip("Open this conversation (double-click or Enter)")
            self.history.addItem(item)
        self.history_title.setText("Conversations" if self.history.count() else "No conversations yet")

    def _details_html(self, c: Contact) -> str:
        rows: list[tuple[str, str]] = []
        for n in c.numbers:
            shown = self._contacts.number_text(n.number)
            label = f" ({escape(n.label)})" if n.label else ""
            mark = " · <b>texts go here</b>" if n.for_sms and len(c.numbers) > 1 else ""
            rows.append(("Number", f"{escape(shown)}{label}{mark}"))
        if c.tags:
            rows.append(("Tags", escape(", ".join(c.tags))))
        for name, value in sorted(c.fields.items()):
            if value:
                rows.append((escape(name), escape(value)))
        groups = [name for _gid, name in self._groups.groups_of(c.id)]
        if groups:
            rows.append(("Groups", escape(", ".join(groups))))
        if c.consent is not None:
            how = f", {escape(c.consent.how)}" if c.consent.how else ""
            rows.append(("Agreed to marketing", f"{escape(c.consent.at)}{how}"))
        if c.notes:
            rows.append(("Notes", escape(c.notes).replace("\n", "<br>")))
        cells = "".join(
            f"<tr><td style='padding-right:12px; vertical-align:top'><i>{k}</i></td><td>{v}</td></tr>" for k, v in rows
        )
        return f"<table>{cells}</table>"

    def _message(self) -> None:
        if self.contact is not None and self.contact.number:
            self.sig_message.emit(self.contact.number)

    def _open_history(self, item: QListWidgetItem) -> None:
        self.sig_open_conversation.emit(int(item.data(Qt.ItemDataRole.UserRole)))
