"""A spin box for how often a send repeats, in words: "every week", "every 2 weeks"."""

from __future__ import annotations

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QSpinBox, QWidget


class IntervalSpin(QSpinBox):
    """ "every week", "every 2 weeks": how often a send repeats, in words (never "every 1 weeks")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.unit = "week"

    def set_unit(self, unit: str) -> None:
        """The repeat's unit (day, week, month); the text follows at once."""
        self.unit = unit
        self.lineEdit().setText(self.textFromValue(self.value()))
        self.updateGeometry()

    def textFromValue(self, value: int) -> str:  # noqa: N802 - Qt API
        return f"every {self.unit}" if value == 1 else f"every {value} {self.unit}s"

    def valueFromText(self, text: str) -> int:  # noqa: N802 - Qt API
        digits = "".join(ch for ch in text if ch.isdigit())
        return int(digits) if digits else 1

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        # Any text whose number (none means 1) is in range: "every week", "every 3 weeks", "3".
        value = self.valueFromText(text)
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Invalid), text, pos
