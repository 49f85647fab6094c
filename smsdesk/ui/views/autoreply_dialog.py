"""New / edit automatic reply: its keywords (or HELP, or out of hours), the reply, a group to join.

Save emits :attr:`AutoReplyDialog.sig_submitted` with the values; the owning view runs the
service call and closes the dialog, or shows the reason here (no modal loop).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.autoreply import Match, Rule, RuleKind
from smsdesk.ui.widgets.labels import WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit

ERR = "color: #b3261e;"
TITLES = {
    RuleKind.KEYWORD: "keyword reply",
    RuleKind.HELP: "HELP reply",
    RuleKind.HOURS: "out-of-hours reply",
}
HINTS = {
    RuleKind.KEYWORD: "Sent when a text is one of these words (any case, accents and punctuation ignored).",
    RuleKind.HELP: "Sent when someone texts HELP or INFO. Leave it empty for the standard answer, which "
    "names the business (Settings -> Automatic replies) and says how to opt out.",
    RuleKind.HOURS: "Sent once to a text that arrives while the business is closed and no keyword answered it.",
}


class AutoReplyDialog(QDialog):
    """Values: keywords (list), match, reply, group_id."""

    sig_submitted = Signal(object)

    def __init__(
        self, kind: RuleKind, groups: list[tuple[int, str]], rule: Rule | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.rule = rule
        self.setObjectName("autoreply_dialog")
        self.setWindowTitle(("Edit " if rule else "New ") + TITLES[kind])
        self.setMinimumWidth(480)
        self.keywords = QLineEdit()
        self.keywords.setObjectName("keywords")
        self.keywords.setPlaceholderText("OPEN, HOURS (separate with commas)")
        self.match = QComboBox()
        self.match.setObjectName("match")
        self.match.addItem("the whole text is the word", Match.WORD.value)
        self.match.addItem("the text starts with the word", Match.STARTS.value)
        self.reply = MessageEdit(objectName="reply_text")
        self.reply.setPlaceholderText("Yes {{first_name|there}}, we are open until 6pm today.")
        self.reply.setFixedHeight(90)
        self.counter = MessageCounter(objectName="reply_counter", merge_fields=True)
        self.counter.follow(self.reply)
        self.group = QComboBox()
        self.group.setObjectName("join_group")
        self.group.addItem("(no group)", None)
        for gid, name in groups:
            self.group.addItem(name, gid)
        self.tag = QLineEdit()
        self.tag.setObjectName("add_tag")
        self.tag.setPlaceholderText("e.g. newsletter (optional)")
        hint = WrapLabel(HINTS[kind], objectName="hint")
        self.error = WrapLabel(objectName="error")
        self.error.setStyleSheet(ERR)
        form = QFormLayout()
        if kind == RuleKind.KEYWORD:
            form.addRow("Keywords", self.keywords)
            form.addRow("Answer when", self.match)
        form.addRow("Reply", self.reply)
        form.addRow("", self.counter)
        if kind == RuleKind.KEYWORD:
            form.addRow("Also add them to", self.group)
            form.addRow("And give them the tag", self.tag)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("save")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if rule is not None:
            self.keywords.setText(", ".join(k.upper() for k in rule.keywords))
            self.match.setCurrentIndex(max(0, self.match.findData(rule.match.value)))
            self.reply.setPlainText(rule.reply)
            self.group.setCurrentIndex(max(0, self.group.findData(rule.add_group_id)))
            self.group.setEnabled(False)  # changed by a new rule (what joined stays joined)
            self.tag.setText(rule.add_tag)
            self.tag.setEnabled(False)

    def values(self) -> dict[str, Any]:
        return {
            "keywords": [k.strip() for k in self.keywords.text().split(",") if k.strip()],
            "match": Match(self.match.currentData()),
            "reply": self.reply.toPlainText(),
            "group_id": self.group.currentData(),
            "tag": self.tag.text().strip(),
        }

    def _submit(self) -> None:
        self.error.setText("")
        self.save_button.setEnabled(False)
        self.sig_submitted.emit(self.values())

    def show_error(self, text: str) -> None:
        self.save_button.setEnabled(True)
        self.error.setText(text)
