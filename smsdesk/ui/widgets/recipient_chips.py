"""The recipients of a To box as chips, each with a ✕ that takes it out.

The To box stays a line of text a person types into (commas between recipients, completion
as they type); the chips under it show what each part was understood as ("@Regulars · 12
people", "#vip · 3 people", "Ann Lee"), a part that names nobody in the error colour, and a
click on a chip's ✕ removes that part from the box. The chips flow onto more lines rather
than widen the window; past :data:`MAX_CHIPS` a "+N more" note stands for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLayout, QLayoutItem, QToolButton, QWidget

from smsdesk.ui import theme

MAX_CHIPS = 12
CHIP_TEXT_PX = 220
_CHIP_STYLE = "QFrame#chip { border: 1px solid palette(mid); border-radius: 10px; }"


@dataclass(frozen=True, slots=True)
class Chip:
    """One part of the To box as shown: its words, whether it names someone, a tooltip."""

    text: str
    ok: bool = True
    tip: str = ""


class FlowLayout(QLayout):
    """Lays its items left to right, wrapping onto new lines (height follows the width)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt API
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt API
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt API
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        # One line of every chip: a hint only (the minimum below is what the window must give);
        # a hint at the minimum width would be one chip per line, and the form kept that height.
        hints = [item.sizeHint() for item in self._items]
        width = sum(h.width() for h in hints) + self._spacing * max(0, len(hints) - 1)
        return QSize(width, max((h.height() for h in hints), default=0))

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt API
        # As narrow as its widest chip: more chips make it taller, never wider.
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QRect, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


class RecipientChips(QWidget):
    """Signals:
    sig_remove(int): the ✕ of the chip at that position was clicked.
    """

    sig_remove = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("to_chips")
        self._flow = FlowLayout(self)
        self._chips: list[Chip] = []

    def chips(self) -> list[str]:
        """The chips' words, as shown."""
        return [c.text for c in self._chips]

    def set_chips(self, chips: list[Chip]) -> None:
        if chips == self._chips:
            return
        self._chips = list(chips)
        while (item := self._flow.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        for i, chip in enumerate(chips[:MAX_CHIPS]):
            self._flow.addWidget(self._chip(i, chip))
        if len(chips) > MAX_CHIPS:
            more = QLabel(f"+{len(chips) - MAX_CHIPS:,} more")
            theme.set_tone(more, "muted")
            self._flow.addWidget(more)
        self.setVisible(bool(chips))
        self._fit()
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Ask for the height the chips take at this width (forms do not always ask the layout)."""
        height = self._flow.heightForWidth(max(1, self.width()))
        if self.minimumHeight() != height:
            self.setMinimumHeight(height)

    def remove_button(self, position: int) -> QToolButton:
        """The ✕ of the chip at ``position`` (for a click)."""
        buttons = self.findChildren(QToolButton, f"chip_remove_{position}")
        return next(b for b in buttons if not b.property("gone"))

    def _chip(self, position: int, chip: Chip) -> QFrame:
        frame = QFrame()
        frame.setObjectName("chip")
        frame.setStyleSheet(_CHIP_STYLE)
        row = QHBoxLayout(frame)
        row.setContentsMargins(8, 1, 2, 1)
        row.setSpacing(2)
        label = QLabel()
        # A pasted run of digits must not widen the window: long words end in "…" (tooltip: all).
        label.setText(label.fontMetrics().elidedText(chip.text, Qt.TextElideMode.ElideRight, CHIP_TEXT_PX))
        frame.setToolTip(chip.tip or (chip.text if label.text() != chip.text else ""))
        if not chip.ok:
            theme.set_tone(label, "error")
        remove = QToolButton()
        remove.setObjectName(f"chip_remove_{position}")
        remove.setText("✕")
        remove.setAutoRaise(True)
        remove.setToolTip(f"Take {chip.text} out")
        remove.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes from To to the message
        remove.clicked.connect(lambda: self._remove(remove, position))
        row.addWidget(label)
        row.addWidget(remove)
        return frame

    def _remove(self, button: QToolButton, position: int) -> None:
        button.setProperty("gone", True)  # deleted later; never found again
        self.sig_remove.emit(position)
