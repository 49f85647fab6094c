"""A section that opens and closes under its own header ("▸ Advanced", "▸ Details").

Technical settings and details stay one click away without crowding what most people need.
Closed by default; the header is a button (mouse, or Tab then Space).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSizePolicy, QToolButton, QVBoxLayout, QWidget


class Collapsible(QWidget):
    """A header button and a body shown only while the section is open.

    Args:
        title: the header's words.
        body: the widget shown when open (a plain one is made when omitted; fill ``self.body``).
        name: object name prefix for tests and accessibility (``<name>_toggle``).
    """

    sig_toggled = Signal(bool)

    def __init__(self, title: str, body: QWidget | None = None, name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if name:
            self.setObjectName(name)
        self.toggle = QToolButton()
        self.toggle.setObjectName(f"{name}_toggle" if name else "section_toggle")
        self.toggle.setText(title)
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        # A disclosure header, not a pressed button: no sunken look when open; a focus ring for Tab.
        self.toggle.setStyleSheet(
            "QToolButton { border: 1px solid transparent; border-radius: 4px; padding: 2px 4px;"
            " background: transparent; font-weight: 600; }"
            " QToolButton:focus { border-color: palette(highlight); }"
            " QToolButton:hover { background: palette(alternate-base); }"
        )
        self.body = body if body is not None else QWidget()
        self.body.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)
        self.toggle.toggled.connect(self._toggled)

    def is_expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, on: bool) -> None:
        """Open or close the section (as a click on the header would)."""
        self.toggle.setChecked(on)

    def _toggled(self, on: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.body.setVisible(on)
        self.sig_toggled.emit(on)
