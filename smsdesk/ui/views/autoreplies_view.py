"""Settings -> Automatic replies: the business's hours, and each account's rules in their order.

The rules are tried top to bottom and the first that matches answers (move them with Up and
Down); STOP and START are never answered. "Try a text" says which rule would answer a text
and with what, sending nothing. Opening hours, holidays, the time zone and the business's
name are kept in the settings on Save hours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.autoreply import WEEKDAYS, Match, Rule, RuleKind
from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.schedule import zone as check_zone
from smsdesk.services.autoreplies import WEEK_DEFAULT, business_hours
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import confirm
from smsdesk.ui.views.autoreply_dialog import AutoReplyDialog
from smsdesk.ui.widgets.labels import WrapLabel


def rule_text(r: Rule) -> str:
    state = "" if r.enabled else "  (off)"
    starts = " (at the start)" if r.kind == RuleKind.KEYWORD and r.match == Match.STARTS else ""
    reply = " ".join((r.reply or "the standard HELP answer").split())
    return f"{r.label}{starts} → {reply}{state}"


class AutoRepliesView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = ctx.services.autoreplies
        self.dialog: AutoReplyDialog | None = None
        self.setObjectName("AutoRepliesView")

        # ---- the business -------------------------------------------------------------------
        s = ctx.services.settings_file.settings
        self.business = QLineEdit(s.business_name)
        self.business.setObjectName("business_name")
        self.business.setPlaceholderText("Salon Bella")
        self.zone = QLineEdit(s.business_zone)
        self.zone.setObjectName("business_zone")
        self.zone.setPlaceholderText("This computer's time zone (or e.g. Europe/London)")
        week = list(s.business_hours) if len(s.business_hours) == 7 else list(WEEK_DEFAULT)
        self.days: list[QLineEdit] = []
        days = QGridLayout()
        for i, day in enumerate(WEEKDAYS):
            edit = QLineEdit(week[i])
            edit.setObjectName(f"hours_{day}")
            edit.setPlaceholderText("closed")
            edit.setMaximumWidth(120)
            days.addWidget(QLabel(day.title()), 0, i)
            days.addWidget(edit, 1, i)
            self.days.append(edit)
        self.holidays = QLineEdit(", ".join(s.holidays))
        self.holidays.setObjectName("holidays")
        self.holidays.setPlaceholderText("2026-12-25, 2026-12-26")
        self.save_hours = QPushButton("Save hours")
        self.save_hours.setObjectName("save_hours")
        self.save_hours.clicked.connect(self.save_business)
        self.hours_said = WrapLabel(objectName="hours_said")
        hours_box = QGroupBox("The business")
        form = QFormLayout(hours_box)
        form.addRow("Name", self.business)
        form.addRow("Time zone", self.zone)
        form.addRow("Opening hours", days)
        form.addRow("Closed all day on", self.holidays)
        row = QHBoxLayout()
        row.addWidget(self.save_hours)
        row.addWidget(self.hours_said, 1)
        form.addRow("", row)

        # ---- the rules ------------------------------------------------------------------------
        self.account = QComboBox()
        self.account.setObjectName("account")
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.setMinimumContentsLength(24)
        self.account.currentIndexChanged.connect(lambda _i: self.reload())
        self.list = QListWidget()
        self.list.setObjectName("rules")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.itemDoubleClicked.connect(lambda _i: self.edit_selected())
        self.list.currentRowChanged.connect(lambda _r: self._enable())
        self.add_keyword = self._button("Add keyword reply…", "add_keyword", lambda: self.new(RuleKind.KEYWORD))
        self.add_help = self._button("Add HELP reply…", "add_help", lambda: self.new(RuleKind.HELP))
        self.add_hours = self._button("Add out-of-hours reply…", "add_hours", lambda: self.new(RuleKind.HOURS))
        self.edit_button = self._button("Edit…", "edit", self.edit_selected)
        self.toggle_button = self._button("Turn off", "toggle", self.toggle_selected)
        self.up_button = self._button("Up", "up", lambda: self.move_selected(True))
        self.down_button = self._button("Down", "down", lambda: self.move_selected(False))
        self.remove_button = self._button("Remove…", "remove", self.remove_selected)
        buttons = QHBoxLayout()
        for b in (self.add_keyword, self.add_help, self.add_hours):
            buttons.addWidget(b)
        buttons.addStretch(1)
        actions = QHBoxLayout()
        for b in (self.edit_button, self.toggle_button, self.up_button, self.down_button, self.remove_button):
            actions.addWidget(b)
        actions.addStretch(1)
        self.try_text = QLineEdit()
        self.try_text.setObjectName("try_text")
        self.try_text.setPlaceholderText("Try a text, e.g. Are you open? (nothing is sent)")
        self.try_text.textChanged.connect(lambda _t: self._try())
        self.try_said = WrapLabel(objectName="try_said")
        self.feedback = WrapLabel(objectName="feedback")
        rules_box = QGroupBox("Replies, tried from the top; the first that matches answers")
        rules = QVBoxLayout(rules_box)
        top = QFormLayout()
        top.addRow("Account", self.account)
        rules.addLayout(top)
        rules.addLayout(buttons)
        rules.addWidget(self.list, 1)
        rules.addLayout(actions)
        rules.addWidget(self.try_text)
        rules.addWidget(self.try_said)
        rules.addWidget(self.feedback)
        note = WrapLabel(
            "STOP and START are never answered (they opt people out and back in), and each number gets at "
            "most one answer from a rule in 12 hours, so two automatic responders cannot loop."
        )
        theme.set_tone(note, "muted")
        rules.addWidget(note)
        layout = QVBoxLayout(self)
        layout.addWidget(hours_box)
        layout.addWidget(rules_box, 1)
        self._fill_accounts()
        ctx.bridge.sig_changed.connect(self._on_changes)

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.clicked.connect(slot)
        return b

    # ---- reading ------------------------------------------------------------------------------
    def _fill_accounts(self) -> None:
        current = self.account.currentData()
        self.account.blockSignals(True)
        self.account.clear()
        for acct in self.ctx.services.accounts.all():
            self.account.addItem(acct.name, acct.id)
        self.account.setCurrentIndex(max(0, self.account.findData(current)))
        self.account.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        keep = self.selected()
        self.list.clear()
        account_id = self.account.currentData()
        for r in self.svc.rules(account_id) if account_id is not None else []:
            item = QListWidgetItem(rule_text(r))
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            item.setToolTip(r.reply or "The standard HELP answer")
            if not r.enabled:
                item.setForeground(self.palette().placeholderText())
            self.list.addItem(item)
            if keep is not None and r.id == keep.id:
                self.list.setCurrentItem(item)
        self._enable()
        self._try()

    def rule_texts(self) -> list[str]:
        """The rules as listed."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def selected(self) -> Rule | None:
        item = self.list.currentItem()
        if item is None:
            return None
        try:
            return self.svc.get(int(item.data(Qt.ItemDataRole.UserRole)))
        except SmsdeskError:
            return None

    def _enable(self) -> None:
        r = self.selected()
        for b in (self.edit_button, self.toggle_button, self.remove_button, self.up_button, self.down_button):
            b.setEnabled(r is not None)
        self.toggle_button.setText("Turn on" if r is not None and not r.enabled else "Turn off")
        kinds = {rule.kind for rule in self.svc.rules(self.account.currentData())} if self.account.count() else set()
        self.add_help.setEnabled(RuleKind.HELP not in kinds)
        self.add_hours.setEnabled(RuleKind.HOURS not in kinds)

    def _try(self) -> None:
        text = self.try_text.text()
        account_id = self.account.currentData()
        if not text.strip() or account_id is None:
            self.try_said.setText("")
            return
        try:
            found = self.svc.reply_for(account_id, text, at=datetime.now(UTC))
        except SmsdeskError as exc:
            self.try_said.setText(str(exc))
            return
        if found is None:
            self.try_said.setText("No automatic reply would be sent.")
        else:
            self.try_said.setText(f"{found[0].label} would answer: {found[1]}")

    def _on_changes(self, changes: Changes) -> None:
        if changes.accounts:
            self._fill_accounts()
        if changes.autoreplies and not changes.accounts:
            self.reload()  # a rule changed (here, or in a rule's dialog)

    # ---- the business -----------------------------------------------------------------------
    def save_business(self) -> None:
        week = [d.text().strip() for d in self.days]
        holidays = [h.strip() for h in self.holidays.text().replace(";", ",").split(",") if h.strip()]
        zone = self.zone.text().strip()
        try:
            if zone:
                check_zone(zone)
            business_hours(zone or "UTC", week, holidays)
        except SmsdeskError as exc:
            theme.set_tone(self.hours_said, "error")
            self.hours_said.setText(str(exc))
            return
        s = self.ctx.services.settings_file.settings
        s.business_name = self.business.text().strip()
        s.business_zone = zone
        s.business_hours = week
        s.holidays = holidays
        self.ctx.services.settings_file.save()
        theme.set_tone(self.hours_said, "ok")
        self.hours_said.setText("Saved.")
        self._try()

    # ---- rules --------------------------------------------------------------------------------
    def new(self, kind: RuleKind) -> None:
        self._open(kind, None)

    def edit_selected(self) -> None:
        r = self.selected()
        if r is not None:
            self._open(r.kind, r)

    def _open(self, kind: RuleKind, rule: Rule | None) -> None:
        account_id = self.account.currentData()
        if account_id is None:
            self._say("Add an account in Settings -> Accounts first.", "error")
            return
        groups = [(g.id, g.name) for g in self.ctx.services.groups.groups() if not g.smart]
        dialog = AutoReplyDialog(kind, groups, rule, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_submitted.connect(lambda v: self._submit(dialog, account_id, kind, rule, v))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def _submit(
        self, dialog: AutoReplyDialog, account_id: int, kind: RuleKind, rule: Rule | None, v: dict[str, Any]
    ) -> None:
        if rule is None:
            coro = self.svc.add(account_id, kind, v["reply"], v["keywords"], v["match"], v["group_id"], v["tag"])
        else:
            words = v["keywords"] if kind == RuleKind.KEYWORD else None
            coro = self.svc.edit(rule.id, reply=v["reply"], keywords=words, match=v["match"])

        def done(saved: Rule) -> None:
            dialog.accept()
            self.reload()
            self._select(saved.id)
            self._say(f"Saved the {saved.label} reply.", "ok")

        spawn(coro, title="Automatic reply", on_done=done, on_error=lambda exc: dialog.show_error(str(exc)))

    def _select(self, rule_id: int) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == rule_id:
                self.list.setCurrentRow(i)

    def toggle_selected(self) -> None:
        r = self.selected()
        if r is not None:
            self._run(self.svc.edit(r.id, enabled=not r.enabled), "Turned " + ("off." if r.enabled else "on."))

    def move_selected(self, up: bool) -> None:
        r = self.selected()
        if r is not None:
            self._run(self.svc.move(r.id, up), "")

    def remove_selected(self) -> None:
        r = self.selected()
        if r is None:
            return
        confirm(
            self,
            "Remove automatic reply",
            f"Remove the {r.label} reply? Texts it answered keep their answers.",
            lambda: self._run(self.svc.remove(r.id), f"Removed the {r.label} reply."),
            name="confirm_remove_autoreply",
        )

    def _run(self, coro: Any, said: str) -> None:
        def done(_r: object) -> None:
            self.reload()
            if said:
                self._say(said, "ok")

        spawn(coro, title="Automatic replies", on_done=done, on_error=lambda exc: self._say(str(exc), "error"))

    def _say(self, text: str, tone: str) -> None:
        theme.set_tone(self.feedback, tone)
        self.feedback.setText(text)
