"""Labels whose text can grow without ever widening the window.

A plain ``QLabel`` asks its layout for the width of its whole text (or, word-wrapped, of its
longest word), and a top-level window grows to honour that: an emoji hint under a reply box
once pushed the window from 1100 to 1322 px, Send off the screen, and it stayed wide.
:class:`WrapLabel` wraps (a long unbroken run such as a path or a pasted code breaks anywhere)
and :class:`ElideLabel` stays on one line and ends in "…" with the whole text in its tooltip.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

_ZWSP = "\u200b"  # a line-break opportunity that draws nothing
_LONG_RUN = re.compile(r"\S{25,}")
_MIN_WIDTH = 80  # what a growing label asks for at least: a short word, never its whole text


def _breakable(text: str) -> str:
    """``text`` with a break opportunity every 20 characters inside unbroken runs of 25 or more."""
    return _LONG_RUN.sub(lambda m: _ZWSP.join(m.group(0)[i : i + 20] for i in range(0, len(m.group(0)), 20)), text)


class WrapLabel(QLabel):
    """A word-wrapped label that never asks for more width than a short word.

    Plain text only gets its long runs made breakable (rich text is shown as given, so keep
    long unbroken words out of it); :meth:`text` returns the text as set.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, *, objectName: str = "") -> None:  # noqa: N803
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self.setWordWrap(True)
        self._text = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._text = text
        rich = self.textFormat() == Qt.TextFormat.RichText or (
            self.textFormat() == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
        )
        super().setText(text if rich else _breakable(text))

    def text(self) -> str:
        return self._text

    def clear(self) -> None:
        self.setText("")

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), _MIN_WIDTH), hint.height())


class ElideLabel(QLabel):
    """One line that ends in "…" when there is no room; the whole text is then its tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, objectName: str = "") -> None:  # noqa: N803
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self._full = ""
        self._tip = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._full = text
        self.updateGeometry()
        self._fit()

    def text(self) -> str:
        return self._full

    def clear(self) -> None:
        self.setText("")

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - Qt API
        self._tip = tip
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().sizeHint()
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(min(self.sizeHint().width(), _MIN_WIDTH), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # e.g. a style sheet's font-size: measure again
            self.updateGeometry()
            self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(room, 0))
        if super().text() != shown:
            super().setText(shown)
        elided = shown != self._full
        tip = self._full if elided and not self._tip else (f"{self._full}\n{self._tip}" if elided else self._tip)
        if self.toolTip() != tip:
            super().setToolTip(tip)


def wrapped_label(text: str = "", name: str = "") -> QLabel:
    """A word-wrapped label that takes the width its layout gives it, named ``name`` if given
    (for rich text, where :class:`WrapLabel`'s breaking of long runs does not apply)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
    if name:
        label.setObjectName(name)
    return label


def waiting_for_store(what: str, name: str) -> QLabel:
    """The stand-in for a page or tab built from a database that does not answer yet:
    "Contacts opens as soon as the workspace answers again: smsdesk keeps trying."."""
    label = QLabel(
        f"{what} opens as soon as the workspace answers again: smsdesk keeps trying.",
        wordWrap=True,
        alignment=Qt.AlignmentFlag.AlignCenter,
    )
    label.setObjectName(name)
    return label
