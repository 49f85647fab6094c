"""Typing as a person does: real key events, sent to whichever widget has the focus.

``QTest.keyClicks`` (and pytest-qt's ``keyClicks``) abort the whole process on a non-ASCII
character (``ASSERT: "false" in qasciikey.cpp``), so :func:`type_text` sends ASCII through
``QTest.keyClicks`` and anything else the way a keyboard layout or an input method does: a
single code point as a ``QKeyEvent`` with ``Qt.Key_unknown`` and the text, a cluster of code
points (a flag, a family emoji) as one ``QInputMethodEvent`` commit, as an emoji picker does.

Every key goes to the focus widget of the target's window *at that moment*, not to the widget
named: if a key press moves the focus elsewhere, the next letters land there, as they would
under a person's fingers, and a test sees it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication, QInputMethodEvent, QKeyEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from smsdesk.domain.segments import graphemes


def focus(widget: QWidget) -> None:
    """Put the keyboard focus in ``widget`` as a click or Tab would, and let Qt settle."""
    widget.window().activateWindow()
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    QApplication.processEvents()


def focused(widget: QWidget) -> QWidget:
    """The widget that receives keys in ``widget``'s window now."""
    return widget.window().focusWidget() or widget


def type_text(widget: QWidget, text: str) -> None:
    """Focus ``widget``, then type ``text`` key by key ("\\t" is the Tab key, "\\n" Return).

    Events are processed after every key, so whatever a key press sets off (a re-layout, a
    focus change, a timer) happens before the next key, as it does at human speed.
    """
    focus(widget)
    for cluster in graphemes(text):
        target = focused(widget)
        if cluster.isascii():
            QTest.keyClicks(target, cluster)
        elif len(cluster) == 1:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(
                    target, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, cluster)
                )
        else:
            event = QInputMethodEvent("", [])
            event.setCommitString(cluster)
            QApplication.sendEvent(target, event)
        QApplication.processEvents()


def press(widget: QWidget, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press one key (Tab, Backspace, Ctrl+A ...) in whatever has the focus in ``widget``'s window."""
    QTest.keyClick(focused(widget), key, modifiers)
    QApplication.processEvents()


def _standard_key(widget: QWidget, key: QKeySequence.StandardKey) -> None:
    combo = QKeySequence(key)[0]
    QTest.keyClick(focused(widget), combo.key(), combo.keyboardModifiers())
    QApplication.processEvents()


def paste(widget: QWidget, text: str) -> None:
    """Focus ``widget`` and paste ``text`` with Ctrl+V (how a tab or a long text gets in)."""
    focus(widget)
    QGuiApplication.clipboard().setText(text)
    _standard_key(widget, QKeySequence.StandardKey.Paste)


def clear(widget: QWidget) -> None:
    """Empty ``widget`` as a person does: select all (Ctrl+A), then Backspace."""
    focus(widget)
    _standard_key(widget, QKeySequence.StandardKey.SelectAll)
    press(widget, Qt.Key.Key_Backspace)


def replace_text(widget: QWidget, text: str) -> None:
    """Type ``text`` over whatever ``widget`` holds (select all, then type)."""
    focus(widget)
    _standard_key(widget, QKeySequence.StandardKey.SelectAll)
    type_text(widget, text)
