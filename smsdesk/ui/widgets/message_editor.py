"""The box a text message is typed in, and the counter under it (Compose, a conversation's
reply, the schedule dialog and the bulk message page all use these two).

In a text message a tab character only does harm: it is outside the SMS alphabet, so it
silently shrinks every part from 160 to 70 characters. In :class:`MessageEdit` Tab and
Shift+Tab move the focus like in any form; a tab that arrives by pasting stays, and
:class:`MessageCounter` names it like any other special character.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Signal
from PySide6.QtGui import QInputMethodEvent, QKeyEvent, QPalette, QTextLayout
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from smsdesk.domain.pricing import estimate_words
from smsdesk.ui.widgets.counter_text import PLAIN, PROBLEM, SPECIAL, CounterText, describe_message
from smsdesk.ui.widgets.labels import WrapLabel

# Text colours with contrast >= 4.5:1 on the light and the dark window background.
_COLOURS = {
    "light": {SPECIAL: "#8a5300", PROBLEM: "#b3261e"},
    "dark": {SPECIAL: "#e8b05c", PROBLEM: "#ff8f85"},
}


class MessageEdit(QPlainTextEdit):
    """A plain-text box for a message; Tab and Shift+Tab move the focus.

    ``sig_edited`` tells a change the person made (typing, an input method, pasting, dropping)
    from one the program made (a draft loaded, the box cleared after Send): a status line
    such as "Queued 1 message" is cleared when the next message is started, not when the
    view empties the box.
    """

    sig_edited = Signal()

    def __init__(self, parent: QWidget | None = None, *, objectName: str = "") -> None:  # noqa: N803
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self.setTabChangesFocus(True)
        self._by_person = 0
        self.textChanged.connect(self._changed)

    def _changed(self) -> None:
        if self._by_person:
            self.sig_edited.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        self._by_person += 1
        try:
            super().keyPressEvent(event)
        finally:
            self._by_person -= 1

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:  # noqa: N802 - Qt API
        self._by_person += 1
        try:
            super().inputMethodEvent(event)
        finally:
            self._by_person -= 1

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt API
        self._by_person += 1  # Ctrl+V, the context menu's Paste, and dropping text
        try:
            super().insertFromMimeData(source)
        finally:
            self._by_person -= 1


class MessageCounter(WrapLabel):
    """Characters, text messages and special characters of the text in a :class:`MessageEdit`.

    Warns as you type: the special characters in amber, a text over the length limit (or
    characters the account refuses) in red, in words; the tooltip has the technical detail.
    """

    def __init__(
        self, parent: QWidget | None = None, *, objectName: str = "counter", merge_fields: bool = False
    ) -> None:  # noqa: N803
        super().__init__("", parent, objectName=objectName)
        self.merge_fields = merge_fields
        self.unicode_mode: str | None = None
        self.result: CounterText = describe_message("")
        self._source = ""
        self._drawable_cache: dict[str, bool] = {}
        self._style = ""
        self._editor: QPlainTextEdit | None = None
        self._price: tuple[str | None, str, int | None] | None = None  # per part, currency, people
        self.show_for("")

    def follow(self, editor: QPlainTextEdit) -> None:
        """Count ``editor``'s text now and after every change."""
        self._editor = editor
        # A bound slot of this label, not a lambda: Qt drops the connection when the label goes.
        editor.textChanged.connect(self._editor_changed)
        self.show_for(editor.toPlainText())

    def _editor_changed(self) -> None:
        if self._editor is not None:
            self.show_for(self._editor.toPlainText())

    def set_unicode_mode(self, mode: str | None) -> None:
        """The account's choice for special characters (Allow, Strip, Deny), or None."""
        if mode != self.unicode_mode:
            self.unicode_mode = mode
            self.show_for(self._source)

    def set_price(self, per_part: str | None, currency: str, recipients: int | None = 1) -> None:
        """Add what sending costs to the line (``per_part`` None: "cost unknown", never 0;
        ``recipients`` None: a group, whose size is known when it is sent)."""
        if self._price != (per_part, currency, recipients):
            self._price = (per_part, currency, recipients)
            self.show_for(self._source)

    def show_for(self, text: str) -> None:
        self._source = text
        self.result = describe_message(
            text, unicode_mode=self.unicode_mode, drawable=self.drawable, merge_fields=self.merge_fields
        )
        line = self.result.line
        if self._price is not None and not self.result.over_limit:
            cost = estimate_words(self.result.segments, *self._price)
            line = f"{line} · {cost}" if cost else line
        if self.text() != line:
            self.setText(line)
        self.setToolTip(self.result.tooltip)
        self._apply_colour()

    @property
    def over_limit(self) -> bool:
        return self.result.over_limit

    def drawable(self, cluster: str) -> bool:
        """Can this label's font (or a fallback font) draw ``cluster``? Glyph 0 is the empty box."""
        known = self._drawable_cache.get(cluster)
        if known is None:
            layout = QTextLayout(cluster, self.font())
            layout.beginLayout()
            layout.createLine()
            layout.endLayout()
            runs = layout.glyphRuns()
            known = bool(runs) and all(0 not in run.glyphIndexes() for run in runs)
            self._drawable_cache[cluster] = known
        return known

    def _apply_colour(self) -> None:
        scheme = "dark" if self.palette().color(QPalette.ColorRole.Window).lightness() < 128 else "light"
        level = self.result.level
        if level == PLAIN:
            style = "color: palette(mid);"
        else:
            style = f"color: {_COLOURS[scheme][level]};" + (" font-weight: 600;" if level == PROBLEM else "")
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._drawable_cache.clear()
        elif event.type() == QEvent.Type.PaletteChange:
            self._apply_colour()  # the theme changed: amber and red for the new background
