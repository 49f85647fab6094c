"""An "Add to group" button: a menu of the plain groups, and "New group…", shown without
blocking; for one person, the groups they are in are ticked and choosing one takes them out.

``QPushButton.setMenu`` shows its menu with ``QMenu.exec()``, a nested event loop that would
step the asyncio tasks running in the GUI loop from inside a click; this button pops the menu
up instead (``popup``), and the menu is filled when it opens so it always lists today's groups.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from smsdesk.services.groups import GroupService


class GroupMenuButton(QPushButton):
    """Calls ``on_group(group_id, name)`` for a group chosen, ``on_new()`` for "New group…".

    Given ``member_of`` (the ids of the groups one person is in now) and ``on_remove``, the
    menu ticks those groups, and choosing a ticked one calls ``on_remove(group_id, name)``.
    """

    def __init__(
        self,
        text: str,
        groups: GroupService,
        on_group: Callable[[int, str], None],
        on_new: Callable[[], None],
        parent: QWidget | None = None,
        member_of: Callable[[], set[int]] | None = None,
        on_remove: Callable[[int, str], None] | None = None,
    ) -> None:
        super().__init__(text + " ▾", parent)
        self._groups = groups
        self._on_group = on_group
        self._on_new = on_new
        self._member_of = member_of
        self._on_remove = on_remove
        self.menu_ = QMenu(self)
        self.menu_.setObjectName("group_menu")
        self.clicked.connect(self.show_menu)

    def fill(self) -> None:
        """List today's plain groups (a smart group's members follow its rule)."""
        self.menu_.clear()
        plain = [g for g in self._groups.groups() if not g.smart]
        if not plain:
            self.menu_.addAction("No groups yet").setEnabled(False)
        ticked = self._member_of() if self._member_of is not None else set()
        for g in plain:
            if g.id in ticked and self._on_remove is not None:
                act = self.menu_.addAction(g.name, functools.partial(self._on_remove, g.id, g.name))
                act.setToolTip(f"Take them out of '{g.name}'")
            else:
                act = self.menu_.addAction(g.name, functools.partial(self._on_group, g.id, g.name))
            act.setCheckable(self._member_of is not None)
            act.setChecked(g.id in ticked)
        self.menu_.addSeparator()
        self.menu_.addAction("New group…", self._on_new)

    def show_menu(self) -> None:
        self.fill()
        self.menu_.popup(self.mapToGlobal(self.rect().bottomLeft()))

    def action(self, text: str) -> None:
        """Choose the entry ``text`` as a click in the open menu would."""
        for a in self.menu_.actions():
            if a.text() == text:
                self.menu_.hide()
                a.trigger()
                return
        raise LookupError(f"no '{text}' in the group menu")
