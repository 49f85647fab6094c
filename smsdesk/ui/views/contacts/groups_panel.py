"""The Contacts page's list of groups: choose one to see its members; create, rename, delete.

"All contacts" comes first; every group shows its size now (a smart group's rule is
evaluated when the list is read, and its rule is in the tooltip). Deleting asks first and
keeps the members as contacts; a group that a scheduled send still uses is refused with the
send named (the service says so).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from smsdesk.domain.errors import SmsdeskError
from smsdesk.services.contacts import ContactService
from smsdesk.services.groups import GroupService
from smsdesk.ui.aio import spawn
from smsdesk.ui.dialogs import ask_text, confirm
from smsdesk.ui.views.contacts.smart_group_dialog import SmartGroupDialog

ALL = -1  # the "All contacts" row's id


class GroupsPanel(QWidget):
    """Signals:
    sig_chosen: the group to show (its id, or None for everyone).
    sig_said: a line for the page's status (text, tone).
    """

    sig_chosen = Signal(object)
    sig_said = Signal(str, str)

    def __init__(self, groups: GroupService, contacts: ContactService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._groups = groups
        self._contacts = contacts
        self.setObjectName("groups_panel")
        title = QLabel("Groups")
        title.setStyleSheet("font-weight: 600;")
        self.list = QListWidget()
        self.list.setObjectName("group_list")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.new_button = QPushButton("New group…")
        self.new_button.setObjectName("group_new")
        self.new_button.setToolTip("Make a new group (a list of contacts)")
        self.smart_button = QPushButton("Smart group…")
        self.smart_button.setObjectName("group_smart")
        self.smart_button.setToolTip("A group defined by a rule (a tag, a date such as 'appointment is tomorrow')")
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setObjectName("group_rename")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("group_delete")
        self.delete_button.setToolTip("Delete the group; its members stay as contacts")
        self.message_button = QPushButton("Message group…")
        self.message_button.setObjectName("group_message")
        self.message_button.setToolTip("Write one message to everyone in the group, personalised for each")
        # Two rows: the panel stays narrow enough for the list and the contact beside it.
        edits = QHBoxLayout()
        edits.setSpacing(4)
        edits.addWidget(self.rename_button)
        edits.addWidget(self.delete_button)
        buttons = QVBoxLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.message_button)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.smart_button)
        buttons.addLayout(edits)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.list.currentRowChanged.connect(self._changed)
        self.new_button.clicked.connect(self.ask_new)
        self.smart_button.clicked.connect(self.ask_smart)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self.ask_delete)
        self.reload()

    # ---- the list ------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the groups and their sizes again, keeping the chosen one."""
        keep = self.current_id()
        self.list.blockSignals(True)
        self.list.clear()
        everyone = QListWidgetItem("All contacts")
        everyone.setData(Qt.ItemDataRole.UserRole, ALL)
        self.list.addItem(everyone)
        row = 0
        for g in self._groups.groups():
            item = QListWidgetItem(f"{g.name}  ({g.size:,})")
            if g.smart:  # italic: its members follow its rule (in the tooltip)
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
            item.setData(Qt.ItemDataRole.UserRole, g.id)
            item.setToolTip(f"Smart group: {g.rule}" if g.smart else f"{g.size:,} members")
            self.list.addItem(item)
            if g.id == keep:
                row = self.list.count() - 1
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        self._enable()
        if keep is not None and row == 0:
            self.sig_chosen.emit(None)  # the group shown was deleted meanwhile

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        gid = int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ALL
        return None if gid == ALL else gid

    def current_name(self) -> str:
        item = self.list.currentItem()
        return item.text().split("  (")[0] if item is not None else ""

    def names(self) -> list[tuple[int, str]]:
        """Every group (id, name), for "Add to group"."""
        return [(g.id, g.name) for g in self._groups.groups() if not g.smart]

    def choose(self, group_id: int | None) -> None:
        for row in range(self.list.count()):
            gid = int(self.list.item(row).data(Qt.ItemDataRole.UserRole))
            if gid == (ALL if group_id is None else group_id):
                self.list.setCurrentRow(row)
                return

    def _changed(self, _row: int) -> None:
        self._enable()
        self.sig_chosen.emit(self.current_id())

    def _enable(self) -> None:
        chosen = self.current_id() is not None
        self.rename_button.setEnabled(chosen)
        self.message_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    # ---- create, rename, delete ------------------------------------------------------------
    def ask_new(self) -> None:
        ask_text(self, "New group", "Name of the new group:", self.create_group, name="ask_group_name")

    def create_group(self, name: str) -> None:
        spawn(self._groups.create(name), title="New group", on_done=self._created, on_error=self._failed)

    def _created(self, gid: int) -> None:
        self.reload()
        self.choose(gid)
        group = self._groups.get(gid)
        if group.smart:
            who = "1 contact matches" if group.size == 1 else f"{group.size:,} contacts match"
            self.sig_said.emit(f"Smart group '{group.name}' made: {who} it now.", "ok")
        else:
            self.sig_said.emit(f"Group '{group.name}' made. Select contacts and use Add to group.", "ok")

    def ask_smart(self) -> None:
        tags = [tag for tag, _n in self._contacts.tags()]
        dialog = SmartGroupDialog(self, self._groups, tags, self._contacts.field_defs(), self._created)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def ask_rename(self) -> None:
        gid = self.current_id()
        if gid is None:
            return
        ask_text(
            self,
            "Rename group",
            "New name:",
            lambda name: spawn(
                self._groups.rename(gid, name),
                title="Rename group",
                on_done=lambda _r: self.reload(),
                on_error=self._failed,
            ),
            text=self.current_name(),
            name="ask_group_rename",
        )

    def ask_delete(self) -> None:
        gid = self.current_id()
        if gid is None:
            return
        name = self.current_name()
        confirm(
            self,
            "Delete group",
            f"Delete the group '{name}'?\n\nIts members stay in your contacts; only the list goes.",
            lambda: spawn(
                self._groups.delete(gid),
                title="Delete group",
                on_done=lambda _r: self._deleted(name),
                on_error=self._failed,
            ),
            name="confirm_delete_group",
        )

    def _deleted(self, name: str) -> None:
        self.reload()
        self.sig_said.emit(f"Group '{name}' deleted; its members are still in your contacts.", "ok")

    def _failed(self, exc: BaseException) -> None:
        self.sig_said.emit(str(exc) if isinstance(exc, SmsdeskError) else f"Failed: {exc}", "error")
