"""Completion for a To box of comma-separated recipients: names, numbers and groups.

Only the part being typed (after the last comma) is completed; choosing a suggestion puts
it in place of that part and adds ", " so the next recipient can be typed at once. The
suggestions come from a function (the recipients service), asked once per edit; the popup
lists them as they come (no filtering of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStringListModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QCompleter, QLineEdit

if TYPE_CHECKING:  # the address book is imported when a person first types a part to complete
    from smsdesk.services.recipients import Suggestion

Suggest = Callable[[str], "list[Suggestion]"]


def current_part(text: str) -> tuple[str, str]:
    """(what comes before the part being typed, the part): ``"a, b, An"`` -> ``("a, b", "An")``."""
    head, sep, tail = text.rpartition(",")
    return (head.strip() if sep else ""), tail.strip()


class RecipientCompleter(QObject):
    """Suggests recipients for ``edit`` while a person types."""

    def __init__(self, edit: QLineEdit, suggest: Suggest, min_chars: int = 1) -> None:
        super().__init__(edit)
        self.edit = edit
        self._suggest = suggest
        self._min = min_chars
        self._inserts: dict[str, str] = {}
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setWidget(edit)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        popup = self.completer.popup()
        assert popup is not None  # QCompleter makes its list view when built
        popup.setObjectName("to_suggestions")
        self.popup: QAbstractItemView = popup
        self.completer.activated.connect(self._chosen)
        edit.textEdited.connect(self._edited)

    @property
    def suggestions(self) -> list[str]:
        """What the popup lists now."""
        return list(self.model.stringList())

    def _edited(self, text: str) -> None:
        _head, part = current_part(text)
        found = self._suggest(part) if len(part) >= self._min else []
        self._inserts = {s.shown: s.insert for s in found}
        self.model.setStringList([s.shown for s in found])
        if found:
            self.completer.complete()
        else:
            self.popup.hide()

    def choose(self, shown: str) -> None:
        """Put the suggestion shown as ``shown`` in place of the part being typed."""
        insert = self._inserts.get(shown)
        if insert is None:
            return
        head, _part = current_part(self.edit.text())
        self.edit.setText(f"{head}, {insert}, " if head else f"{insert}, ")
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.edit.end(False)

    def _chosen(self, shown: str) -> None:
        self.choose(shown)
