"""Contacts: the address book. Find anyone as you type, see and change them, group them.

Three parts side by side: the groups (choose one to see its members), the list (a model over
paged queries: fast at 100,000 contacts; search as you type in names, numbers and every
field; filter by tag and by whether they can be texted; sort by a column), and the chosen
contact's pane. Deleting contacts keeps their messages and can be undone (Ctrl+Z); two
contacts that are one person can be merged; "Erase everything" is the data-protection
request, confirmed by typing the name. Message opens Compose addressed to the contact.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.contacts import Contact, ContactQuery
from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.contacts import Removed, Saved  # what the service returns
from smsdesk.services.recipients import GROUP_MARK
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import ask_text, confirm
from smsdesk.ui.models.contacts_model import ContactsModel
from smsdesk.ui.views.contacts.editor import ContactDialog
from smsdesk.ui.views.contacts.files import ContactFiles
from smsdesk.ui.views.contacts.groups_panel import GroupsPanel
from smsdesk.ui.views.contacts.pane import ContactPane
from smsdesk.ui.widgets.group_menu import GroupMenuButton
from smsdesk.ui.widgets.labels import WrapLabel

SEARCH_DELAY_MS = 120  # one query per pause in typing, not per key of a fast typist
STATES = (("Everyone", None), ("Can be texted", False), ("Opted out", True))


class ContactsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._contacts = ctx.services.contacts
        self._groups = ctx.services.groups
        self.setObjectName("ContactsView")
        self._removed: Removed | None = None
        self._dialog: ContactDialog | None = None

        title = QLabel("Contacts")
        title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.search = QLineEdit()
        self.search.setObjectName("contact_search")
        self.search.setPlaceholderText("Find a name, number, tag or any detail…")
        self.search.setClearButtonEnabled(True)
        self.tag = QComboBox()
        self.tag.setObjectName("contact_tag_filter")
        self.tag.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.tag.setMinimumContentsLength(12)
        self.state = QComboBox()
        self.state.setObjectName("contact_state_filter")
        for text, value in STATES:
            self.state.addItem(text, value)
        self.add_button = QPushButton("Add contact…")
        self.add_button.setObjectName("contact_add")
        self.add_button.setToolTip("Add a contact (Ctrl+N)")
        self.import_button = QPushButton("Import…")
        self.import_button.setObjectName("contact_import")
        self.import_button.setToolTip("Add contacts from a spreadsheet or a .vcf file (nothing is sent)")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("contact_export")
        self.export_button.setToolTip("Save the contacts shown (everyone, or the chosen group) as CSV, Excel or vCard")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.search, 1)
        top.addWidget(self.tag)
        top.addWidget(self.state)
        top.addWidget(self.add_button)
        top.addWidget(self.import_button)
        top.addWidget(self.export_button)

        self.groups_panel = GroupsPanel(self._groups, self._contacts)
        self.pane = ContactPane(self._contacts, self._groups)
        self.model = ContactsModel(self._contacts)
        self.table = QTableView()
        self.table.setObjectName("contact_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names get what is left
        self.table.setWordWrap(False)  # a long name is cut with "…", rows keep one height
        for col, width in ((1, 115), (2, 100), (3, 70)):
            header.resizeSection(col, width)
        self.count = QLabel()
        self.count.setObjectName("contact_count")
        theme.set_tone(self.count, "muted")
        self.group_add = GroupMenuButton("Add to group", self._groups, self.add_to_group, self._add_to_new_group)
        self.group_add.setObjectName("contact_group_add")
        self.group_remove = QPushButton("Remove from group")
        self.group_remove.setObjectName("contact_group_remove")
        self.merge_button = QPushButton("Merge two…")
        self.merge_button.setObjectName("contact_merge")
        self.merge_button.setToolTip("Select the two contacts that are one person")
        self.erase_button = self.pane.erase_button
        list_actions = QHBoxLayout()
        list_actions.addStretch(1)
        for b in (self.group_add, self.group_remove, self.merge_button):
            list_actions.addWidget(b)
        middle = QWidget()
        middle.setMinimumWidth(340)
        mid_layout = QVBoxLayout(middle)
        mid_layout.setContentsMargins(0, 0, 0, 0)
        mid_layout.addWidget(self.count)
        mid_layout.addWidget(self.table, 1)
        mid_layout.addLayout(list_actions)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.groups_panel)
        splitter.addWidget(middle)
        splitter.addWidget(self.pane)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([160, 520, 330])

        self.feedback = WrapLabel(objectName="contact_feedback")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("contact_undo")
        self.undo_button.setToolTip("Bring back the contacts just deleted (Ctrl+Z)")
        self.undo_button.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.feedback, 1)
        bottom.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._focus_list)
        self.tag.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.state.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.groups_panel.sig_chosen.connect(lambda _gid: self.apply_filters())
        self.groups_panel.sig_said.connect(self._say)
        self.groups_panel.message_button.clicked.connect(self._message_group)
        self.model.sig_total.connect(self._show_total)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.add_button.clicked.connect(self.new_contact)
        self.files = ContactFiles(self, self._contacts, self.groups_panel.current_id, self._say)
        self.import_button.clicked.connect(self.files.ask_import)
        self.export_button.clicked.connect(self.files.ask_export)
        self.files.sig_imported.connect(self._imported)
        self.files.sig_exporting.connect(lambda busy: self.export_button.setEnabled(not busy))
        self.group_remove.clicked.connect(self.remove_from_group)
        self.merge_button.clicked.connect(self.ask_merge)
        self.erase_button.clicked.connect(self.ask_erase)
        self.undo_button.clicked.connect(self.undo)
        self.pane.edit_button.clicked.connect(self.edit_selected)
        self.pane.delete_button.clicked.connect(self.delete_selected)
        self.pane.sig_message.connect(self._message)
        self.pane.sig_open_conversation.connect(self._open_conversation)
        for keys, slot in (
            ("Ctrl+N", self.new_contact),
            ("Ctrl+F", self._focus_search),
            ("Ctrl+Z", self.undo),
            ("Delete", self.delete_selected),
            ("Return", self.edit_selected),
        ):
            # Page-wide keys work wherever the focus is in the window while this page shows
            # (a hidden page's shortcuts are off); Delete and Return act on the list only.
            on_list = keys in ("Delete", "Return")
            shortcut = QShortcut(QKeySequence(keys), self.table if on_list else self)
            if on_list:
                shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        ctx.bridge.sig_changed.connect(self._on_changes)
        self._fill_tags()
        self.apply_filters()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """Opening the page puts the cursor in the search box: finding someone is what comes next."""
        super().showEvent(event)
        QTimer.singleShot(0, lambda: self.search.setFocus(Qt.FocusReason.OtherFocusReason))

    # ---- finding -----------------------------------------------------------------------
    def query(self) -> ContactQuery:
        """The list's query from the search box and the filters, in the model's sort order."""
        return replace(
            self.model.query,
            text=self.search.text(),
            group_id=self.groups_panel.current_id(),
            tag=self.tag.currentData(),
            opted_out=self.state.currentData(),
        )

    def apply_filters(self) -> None:
        self._search_timer.stop()
        keep = self.selected_ids()
        try:
            self.model.set_query(self.query())
        except SmsdeskError as exc:
            self._say(str(exc), "error")
            return
        self._reselect(keep)
        self._update_group_buttons()

    def _fill_tags(self) -> None:
        current = self.tag.currentData()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItem("Any tag", None)
        for tag, n in self._contacts.tags():
            self.tag.addItem(f"{tag} ({n:,})", tag)
        index = self.tag.findData(current)
        self.tag.setCurrentIndex(max(index, 0))
        self.tag.blockSignals(False)

    def _show_total(self, total: int) -> None:
        scope = f" in '{self.groups_panel.current_name()}'" if self.groups_panel.current_id() is not None else ""
        filtered = bool(self.search.text().strip()) or self.tag.currentData() is not None
        filtered = filtered or self.state.currentData() is not None
        noun = "contact" if total == 1 else "contacts"
        if self.model.at_least:
            self.count.setText(f"More than {total - 1:,} {noun}{scope}" + (" match" if filtered else ""))
            return
        self.count.setText(f"{total:,} {noun}{scope}" + (" match" if filtered else ""))

    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _focus_list(self) -> None:
        self.apply_filters()
        if self.model.rowCount():
            self.table.selectRow(0)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---- selection ---------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [c.id for r in rows if (c := self.model.contact_at(r)) is not None]

    def _selected(self) -> Contact | None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return None
        try:
            return self._contacts.get(ids[0])
        except SmsdeskError:
            return None

    def _reselect(self, ids: list[int]) -> None:
        selection = self.table.selectionModel()
        for cid in ids:
            row = self.model.row_of(cid)
            if row >= 0:
                flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
                selection.select(self.model.index(row, 0), flags)
        self._selection_changed()

    def _selection_changed(self) -> None:
        ids = self.selected_ids()
        self.pane.show_contact(self._selected())
        self.pane.delete_button.setEnabled(bool(ids))
        self.merge_button.setEnabled(len(ids) == 2)
        self.erase_button.setEnabled(len(ids) == 1)
        self.group_add.setEnabled(bool(ids))
        self._update_group_buttons()

    def _update_group_buttons(self) -> None:
        gid = self.groups_panel.current_id()
        smart = gid is not None and any(g.id == gid and g.smart for g in self._groups.groups())
        self.group_remove.setEnabled(gid is not None and not smart and bool(self.selected_ids()))

    # ---- add, edit, delete, undo -------------------------------------------------------
    def new_contact(self) -> None:
        self._open_dialog(None)

    def edit_selected(self) -> None:
        contact = self._selected()
        if contact is not None:
            self._open_dialog(contact)

    def _open_dialog(self, contact: Contact | None) -> None:
        if contact is None:
            dialog = ContactDialog(self, self._contacts.field_defs(), self._contacts.add, None, self._added)
        else:
            cid = contact.id
            dialog = ContactDialog(
                self,
                self._contacts.field_defs(),
                lambda draft: self._contacts.edit(cid, draft),
                contact,
                lambda _r: self._edited(cid),
            )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = dialog
        dialog.open()

    def _added(self, saved: Saved) -> None:
        name = self._contacts.get(saved.contact_id).shown_name or "The contact"
        if saved.merged:
            self._say(f"That number was already in your contacts: the details were added to {name}.", "ok")
        else:
            self._say(f"{name} added.", "ok")
        self.search.clear()
        self.apply_filters()
        self._select_id(saved.contact_id)

    def _edited(self, contact_id: int) -> None:
        self._say("Contact saved.", "ok")
        self.apply_filters()
        self._select_id(contact_id)

    def _select_id(self, contact_id: int) -> None:
        while self.model.row_of(contact_id) < 0 and self.model.canFetchMore():
            self.model.fetchMore()
        row = self.model.row_of(contact_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        spawn(self._contacts.remove(ids), title="Delete contacts", on_done=self._deleted, on_error=self._failed)

    def _deleted(self, removed: Removed) -> None:
        self._removed = removed
        who = removed.contacts[0].shown_name if removed.count == 1 else ""
        what = who or (f"{removed.count:,} contacts" if removed.count != 1 else "1 contact")
        self._say(f"Deleted {what}. Their messages stay in Conversations.", "")
        self.undo_button.show()
        self.apply_filters()

    def undo(self) -> None:
        removed, self._removed = self._removed, None
        if removed is None:
            return
        self.undo_button.hide()
        spawn(self._contacts.restore(removed), title="Undo", on_done=self._restored, on_error=self._failed)

    def _restored(self, ids: list[int]) -> None:
        self._say(f"Brought back {len(ids):,} contact{'s' if len(ids) != 1 else ''}.", "ok")
        self.apply_filters()
        if ids:
            self._select_id(ids[0])

    # ---- groups ------------------------------------------------------------------------
    def add_to_group(self, group_id: int, name: str) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        spawn(
            self._groups.add_members(group_id, ids),
            title="Add to group",
            on_done=lambda added: self._say(f"Added {added:,} to '{name}' ({len(ids) - added:,} already in it).", "ok"),
            on_error=self._failed,
        )

    def _add_to_new_group(self) -> None:
        ids = self.selected_ids()
        ask_text(
            self,
            "New group",
            "Name of the new group:",
            lambda name: spawn(
                self._groups.create_with(name, ids),
                title="New group",
                on_done=lambda _gid: self._say(f"Made '{name}' with {len(ids):,} contacts.", "ok"),
                on_error=self._failed,
            ),
            name="ask_group_name",
        )

    def remove_from_group(self) -> None:
        gid, ids = self.groups_panel.current_id(), self.selected_ids()
        if gid is None or not ids:
            return
        name = self.groups_panel.current_name()
        spawn(
            self._groups.remove_members(gid, ids),
            title="Remove from group",
            on_done=lambda n: self._say(f"Took {n:,} out of '{name}'; they are still in your contacts.", "ok"),
            on_error=self._failed,
        )

    # ---- merge and erase ---------------------------------------------------------------
    def ask_merge(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 2:
            return
        keep, other = (self._contacts.get(i) for i in ids)
        if (other.updated_at or "") > (keep.updated_at or ""):
            keep, other = other, keep  # the one changed last is usually the one the person trusts
        confirm(
            self,
            "Merge contacts",
            f"Merge '{_who(other)}' into '{_who(keep)}'?\n\n'{_who(keep)}' keeps its name and gains the other's "
            "numbers, tags, details and groups. Messages are not changed.",
            lambda: spawn(
                self._contacts.merge(keep.id, other.id),
                title="Merge contacts",
                on_done=self._merged,
                on_error=self._failed,
            ),
            name="confirm_merge",
        )

    def _merged(self, contact: Contact) -> None:
        self._say(f"Merged into {_who(contact)}.", "ok")
        self.apply_filters()
        self._select_id(contact.id)

    def ask_erase(self) -> None:
        contact = self._selected()
        if contact is None:
            return
        expected = contact.name or contact.number
        ask_text(
            self,
            "Erase everything about this person",
            f"This deletes {_who(contact)}, every message and conversation with them, for good. It cannot be "
            f"undone. If they opted out, only a scrambled trace stays so they are never texted again.\n\n"
            f"To go ahead, type their name: {expected}",
            lambda typed: spawn(
                self._contacts.erase(contact.id, typed),
                title="Erase",
                on_done=lambda e: self._say(
                    f"Erased: {e.messages:,} messages and {e.conversations:,} conversations deleted.", "ok"
                ),
                on_error=self._failed,
            ),
            name="ask_erase",
        )

    def import_from(self, path: Path) -> None:
        """Add or merge every contact in ``path`` (into the chosen group, if any), with progress."""
        self.import_button.setEnabled(False)
        self.files.import_from(path)

    def export_to(self, path: Path) -> None:
        """Write the contacts shown (everyone, or the chosen group) to ``path``."""
        self.files.export_to(path)

    def _imported(self) -> None:
        self.import_button.setEnabled(True)
        self._fill_tags()
        self.groups_panel.reload()
        self.apply_filters()

    # ---- elsewhere ---------------------------------------------------------------------
    def _message(self, number: str) -> None:
        self._compose_to(self._contacts.number_text(number))

    def _message_group(self) -> None:
        name = self.groups_panel.current_name()
        if name:
            self._compose_to(f"{GROUP_MARK}{name}")

    def _compose_to(self, part: str) -> None:
        show_page = getattr(self.window(), "show_page", None)
        if show_page is None:
            return
        address = getattr(show_page("compose"), "address", None)
        if address is not None:
            address([part])

    def _open_conversation(self, conversation_id: int) -> None:
        show_page = getattr(self.window(), "show_page", None)
        if show_page is None:
            return
        opener = getattr(show_page("conversations"), "open_conversation", None)
        if opener is not None:
            opener(conversation_id)

    def _on_changes(self, changes: Changes) -> None:
        if changes.contacts or changes.optouts or changes.everything:
            self._fill_tags()
            self.groups_panel.reload()
            self.apply_filters()

    def _say(self, text: str, tone: str) -> None:
        if tone == "error" or not text.startswith("Deleted"):
            self.undo_button.setVisible(self._removed is not None and text.startswith("Deleted"))
        theme.set_tone(self.feedback, tone)
        self.feedback.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self._say(str(exc) if isinstance(exc, SmsdeskError) else f"Failed: {exc}", "error")


def _who(contact: Contact) -> str:
    return contact.shown_name or contact.number
