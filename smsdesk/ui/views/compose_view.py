"""Compose: pick an account, type recipients (checked as you type), write, Send (Ctrl+Enter).

The counter shows characters, text messages and the special characters that make each part
hold 70 characters instead of 160 (see ``ui/widgets/message_editor.py``); Tab moves on from
the message box. The list below shows sent messages whose status cells change live as
receipts arrive. From a number of recipients (Settings -> General), or when some typed
numbers opted out, Send asks first (:class:`SendConfirmDialog`); after a send the To box is
emptied, so a second Send does not send the same message again.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError, StorageError
from smsdesk.domain.events import Changes
from smsdesk.domain.template import compile_template
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.models.sent_messages_model import SentMessagesModel
from smsdesk.ui.widgets.labels import WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit
from smsdesk.ui.widgets.recipient_chips import MAX_CHIPS, Chip, RecipientChips
from smsdesk.ui.widgets.recipient_completer import RecipientCompleter

# Compose is the first page painted: what it needs only once a person types a name or a
# group, sends, or picks a template (the address book, the send dialog) is imported then.
if TYPE_CHECKING:
    from smsdesk.services import recipients
    from smsdesk.services.send import Draft, SendPlan
    from smsdesk.services.templates import SavedTemplate
    from smsdesk.ui.views.send_confirm_dialog import SendConfirmDialog

_SPLIT = re.compile(r"[,;\n]+")
OK_STYLE = "color: #1b7f3b;"
ERR_STYLE = "color: #b3261e;"
WARN_STYLE = "color: #a15c00;"
SHOWN_NUMBERS = 6  # recipients named on the line under To; the rest are counted
HINT_STYLE = "color: palette(mid);"


def split_recipients(text: str) -> list[str]:
    return [p.strip() for p in _SPLIT.split(text) if p.strip()]


class ComposeView(QWidget):
    sig_sent = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ComposeView")
        self.account = QComboBox()
        self.account.setObjectName("account")
        # Sized by a typical name, not the longest one: a long account name must not widen the window.
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.setMinimumContentsLength(24)
        self.sender_id = QLineEdit()
        self.sender_id.setObjectName("sender_id")
        self.sender_id.setPlaceholderText("Sender name (up to 11 characters) or number")
        self.to = QLineEdit()
        self.to.setObjectName("to")
        self.to.setPlaceholderText("07911 123456, Ann Lee, @Saturday team, #vip (separate with commas)")
        self.to_completer = RecipientCompleter(self.to, self._suggest)
        self.to_chips = RecipientChips()
        self.to_chips.sig_remove.connect(self.remove_recipient)
        self.to_chips.hide()
        self.to_status = WrapLabel(objectName="to_status")
        self.body = MessageEdit(objectName="body")
        self.body.setPlaceholderText("Type your message…")
        self.counter = MessageCounter(objectName="counter")
        self._recipients: tuple[list[str], int] = ([], 0)  # who the cost under the message is for
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("send")
        self.send_button.setDefault(True)
        self.send_button.setToolTip("Send now (Ctrl+Enter)")
        self.feedback = WrapLabel(objectName="feedback")

        form = QFormLayout()
        form.addRow("Account", self.account)
        form.addRow("From", self.sender_id)
        form.addRow("To", self.to)
        form.addRow("", self.to_chips)
        form.addRow("", self.to_status)
        form.addRow("Message", self.body)
        form.addRow("", self.counter)
        actions = QHBoxLayout()
        actions.addWidget(self.feedback, 1)
        self.template_button = QPushButton("Insert template…")
        self.template_button.setObjectName("insert_template")
        self.template_button.setToolTip("Insert a saved template at the cursor (Ctrl+T)")
        actions.addWidget(self.template_button)
        hint = QLabel("Ctrl+Enter")
        hint.setStyleSheet(HINT_STYLE)
        actions.addWidget(hint)
        actions.addWidget(self.send_button)
        form.addRow("", _wrap(actions))
        top = QWidget()
        top.setLayout(form)

        # Filled once the services are up (services_ready), right after the first paint.
        self.model = SentMessagesModel(lambda: ctx.services.sending, lambda: ctx.services.contacts)
        self._confirm: SendConfirmDialog | None = None
        self.table = QTableView()
        self.table.setObjectName("sent_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # Fixed widths, not ResizeToContents: that re-measures all 500 rows on every status
        # change, and a bulk run's receipts then froze the window for seconds (bench/ui_stall).
        # Narrow enough that the message keeps ~150 px in a 900 px window.
        for col, width in ((0, 110), (1, 120), (2, 90), (4, 90), (5, 160)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        sent_box = QWidget()
        sent_layout = QVBoxLayout(sent_box)
        sent_layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Sent messages")
        title.setStyleSheet("font-weight: 600;")
        sent_layout.addWidget(title)
        sent_layout.addWidget(self.table)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(sent_box)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(120)
        self._validate_timer.timeout.connect(self.validate_recipients)
        self.to.textChanged.connect(lambda _t: self._validate_timer.start())
        self.counter.follow(self.body)
        # A status line ("Queued 1 message", "The message is empty.") belongs to the last
        # message: it goes when the person starts the next one.
        self.body.sig_edited.connect(self.feedback.clear)
        self.to.textEdited.connect(lambda _t: self.feedback.clear())
        self.account.currentIndexChanged.connect(self._account_changed)
        self.send_button.clicked.connect(self.send)
        self.template_button.clicked.connect(self.insert_template)
        QShortcut(QKeySequence("Ctrl+T"), self).activated.connect(self.insert_template)
        # Tab from the message goes to Send (what comes next); the template button after it.
        QWidget.setTabOrder(self.body, self.send_button)
        QWidget.setTabOrder(self.send_button, self.template_button)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.send)
        ctx.bridge.sig_changed.connect(self._on_changes)

        self._sent_stale = False  # the sent list missed changes while the page was hidden
        self._unchecked = ""  # why To could not be checked (the database out of reach), or ""
        self.validate_recipients()
        self._put_back_unsent()

    def _put_back_unsent(self) -> None:
        """What was typed and not sent when smsdesk last closed (or could not reach its
        database) comes back, so nothing typed is lost."""
        kept = self.ctx.services.unsent.get()
        if kept is None:
            return
        self.to.setText(kept.to)
        self.body.setPlainText(kept.body)
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText(f"Your message{_from(kept.at)} was not sent; it is back here.")

    def keep_unsent(self, reason: str = "") -> None:
        """Keep what To and the message box hold on this computer (the window is closing, or the
        send could not be written); put back at the next start."""
        self.ctx.services.unsent.keep(self.to.text(), self.body.toPlainText(), reason)

    def painted(self) -> None:
        """The window is on screen (``MainWindow.painted``): fill the Account box, which the
        first paint leaves empty (what it reads is imported meanwhile)."""
        self.reload_accounts()

    def services_ready(self) -> None:
        """The window's services are up (``MainWindow.services_ready``): show the sent messages."""
        self._sent_stale = False
        self.model.reload()

    # ---- accounts ----------------------------------------------------------------------
    def reload_accounts(self) -> None:
        current = self.account.currentData()
        try:
            accounts = self.ctx.services.accounts.all()
        except StorageError:  # a workspace that does not answer yet: read once it does (_on_changes)
            if self.account.count() == 0:
                self.account.setPlaceholderText("Read once the workspace answers")
            return
        self.account.blockSignals(True)
        self.account.clear()
        for acct in accounts:
            self.account.addItem(f"{acct.name}  ({self.ctx.services.accounts.spec(acct).name})", acct.id)
        idx = self.account.findData(current)
        self.account.setCurrentIndex(idx if idx >= 0 else 0)
        self.account.blockSignals(False)
        self._account_changed()

    def _account_changed(self) -> None:
        account_id = self.account.currentData()
        if account_id is None:
            self.counter.set_unicode_mode(None)
            return
        try:
            acct = self.ctx.services.accounts.get(account_id)
        except SmsdeskError:
            return
        self.sender_id.setText(acct.sender)
        spec = self.ctx.services.accounts.spec(acct)
        self.counter.set_unicode_mode((acct.settings.get("unicode") or None) if spec.field("unicode") else None)
        self._show_price()

    def _show_price(self, numbers: list[str] | None = None, others: int = 0) -> None:
        """The cost under the message: the text's parts x each number's price (prices can differ
        by country), with ``others`` more people (a group's members) at the account's price."""
        if numbers is not None:
            self._recipients = (numbers, others)
        account_id = self.account.currentData()
        if account_id is None:
            return
        prices = self.ctx.services.accounts.prices(int(account_id))
        typed, more = self._recipients
        each = [prices.per_part(n) for n in typed] + [prices.base] * more
        if any(p is None for p in each):
            self.counter.set_price(None, prices.currency)
        else:
            total = sum((Decimal(p or 0) for p in each), Decimal(0))
            self.counter.set_price(str(total) if each else prices.base, prices.currency, len(each) or 1)

    def address(self, parts: list[str]) -> None:
        """Start a message to ``parts`` (numbers, names or @groups, from the Contacts page's
        Message buttons): To is filled in and the cursor waits in the message box."""
        self.to.setText(", ".join(parts))
        self.feedback.clear()
        self._validate_timer.stop()  # checked now, not once more in 120 ms
        self.validate_recipients()
        self.body.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---- live checks -------------------------------------------------------------------
    def _suggest(self, part: str) -> list[recipients.Suggestion]:
        from smsdesk.services import recipients

        try:
            return recipients.suggest(part, self.ctx.services.contacts, self.ctx.services.groups)
        except StorageError:
            return []  # the address book is out of reach: numbers can still be typed

    def _read_to(self) -> recipients.Read:
        from smsdesk.services import recipients

        services = self.ctx.services
        return recipients.read(split_recipients(self.to.text()), services.contacts, services.groups)

    def remove_recipient(self, position: int) -> None:
        """Take the part at ``position`` out of To (a chip's ✕)."""
        parts = split_recipients(self.to.text())
        if 0 <= position < len(parts):
            del parts[position]
            self.to.setText(", ".join(parts) + (", " if parts else ""))
            self._validate_timer.stop()
            self.validate_recipients()
            self.to.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_chips(self, parts: list[str]) -> None:
        if not parts:
            self.to_chips.set_chips([])
            return
        from smsdesk.services import recipients

        services = self.ctx.services
        chips: list[Chip] = []
        for part in parts[:MAX_CHIPS]:
            shown, why = recipients.describe(part, services.contacts, services.groups)
            if (
                not why
                and not recipients.is_name(part)
                and part[:1] not in (recipients.GROUP_MARK, recipients.TAG_MARK)
            ):
                checked = services.sending.check_recipient(part)
                why = checked.error or "" if checked.number is None else ""
            chips.append(Chip(shown, not why, why))
        chips += [Chip(p) for p in parts[MAX_CHIPS:]]  # counted in "+N more", not looked up
        self.to_chips.set_chips(chips)

    def validate_recipients(self) -> bool:
        """Check To as typed and say what is wrong, or who the message goes to; True when it
        can be sent."""
        self._unchecked = ""
        try:
            return self._check_recipients()
        except StorageError as exc:
            # Names, groups and opt-outs live in the database, which does not answer (a
            # workspace's server away): nothing is checked, so nothing can be sent yet.
            self._unchecked = str(exc)
            self.to_status.setStyleSheet(WARN_STYLE)
            self.to_status.setText("Recipients are checked once the workspace answers again.")
            return False

    def _check_recipients(self) -> bool:
        parts = split_recipients(self.to.text())
        self._show_chips(parts)
        if not parts:
            self.to_status.setStyleSheet(HINT_STYLE)
            self.to_status.setText("Add one or more numbers, contacts' names or @groups.")
            return False
        parsed = self._read_to()
        checked = [self.ctx.services.sending.check_recipient(p) for p in parsed.numbers]
        bad = [c.error or "" for c in checked if c.number is None]
        if parsed.errors or bad:
            self.to_status.setStyleSheet(ERR_STYLE)
            self.to_status.setText("✗ " + " ".join(parsed.errors + bad))
            self.to.setProperty("invalid", True)
            return False
        if parsed.groups or parsed.tags:
            named = [(name, size) for _gid, name, size in parsed.groups] + [(f"#{t}", n) for t, n in parsed.tags]
            groups = ", ".join(f"{name} ({size:,})" for name, size in named)
            numbers = [c.number for c in checked if c.number and not c.error]
            self._show_price(numbers, sum(size for _name, size in named))
            more = f" and {len(parsed.numbers):,} more" if parsed.numbers else ""
            self.to_status.setStyleSheet(OK_STYLE)
            self.to_status.setText(
                f"✓ {groups}{more}. Send opens Bulk send, where each message is personalised and checked."
            )
            self.to.setProperty("invalid", False)
            return True
        labels = self.ctx.services.contacts.labels_for(c.number or "" for c in checked)
        ok = list(dict.fromkeys(c.number or "" for c in checked if not c.error))
        opted = list(dict.fromkeys(c.number or "" for c in checked if c.error))
        if not ok:  # every number opted out: nothing could be sent
            self.to_status.setStyleSheet(ERR_STYLE)
            self.to_status.setText("✗ " + " ".join(dict.fromkeys(c.error or "" for c in checked)))
            self.to.setProperty("invalid", True)
            return False
        self._show_price(ok)
        names = ", ".join(labels[n].full for n in ok[:SHOWN_NUMBERS])
        more = f" +{len(ok) - SHOWN_NUMBERS:,} more" if len(ok) > SHOWN_NUMBERS else ""
        line = f"✓ {len(ok):,} recipient{'s' if len(ok) > 1 else ''}: {names}{more}"
        if opted:
            # Not an error to fix: Send offers to skip them (and says why each one is skipped).
            skipped = ", ".join(labels[n].full for n in opted[:SHOWN_NUMBERS])
            extra = f" +{len(opted) - SHOWN_NUMBERS:,} more" if len(opted) > SHOWN_NUMBERS else ""
            line += f" · opted out, will be skipped: {skipped}{extra}"
        self.to_status.setStyleSheet(WARN_STYLE if opted else OK_STYLE)
        self.to_status.setText(line)
        self.to.setProperty("invalid", False)
        return True

    # ---- sending -----------------------------------------------------------------------
    def send(self) -> None:
        if not self.send_button.isEnabled() or self._confirm is not None:
            return
        if not self.validate_recipients():
            if self._unchecked:
                self.keep_unsent(self._unchecked)  # kept on this computer even if smsdesk is closed now
            self.feedback.setStyleSheet(ERR_STYLE)
            self.feedback.setText(
                "Not sent: the workspace does not answer. Your message stays here; send it once the "
                "banner above has gone."
                if self._unchecked
                else "Fix the recipients first."
            )
            self.to.setFocus()
            return
        account_id = self.account.currentData()
        if account_id is None:
            self.feedback.setStyleSheet(ERR_STYLE)
            self.feedback.setText("Add an account in Settings first.")
            return
        parsed = self._read_to()
        if parsed.groups or parsed.tags or compile_template(self.body.toPlainText()).is_personalised:
            self._send_to_groups(parsed, account_id)
            return
        from smsdesk.services.send import Draft

        draft = Draft(account_id, parsed.numbers, self.body.toPlainText(), self.sender_id.text() or None)
        try:
            plan = self.ctx.services.sending.plan(draft)
        except SmsdeskError as exc:
            self._send_failed(exc)
            return
        if plan.opted_out or plan.confirm:
            self._ask(plan, draft)
            return
        self._queue(draft, plan)

    def insert_template(self) -> None:
        """Pick a saved template and put it in at the cursor (its merge fields are filled for
        each recipient when it is sent)."""
        from smsdesk.ui.widgets.template_picker import open_picker

        open_picker(self, self.ctx.services.templates, self._insert)

    def _insert(self, template: SavedTemplate) -> None:
        self.body.setFocus(Qt.FocusReason.OtherFocusReason)
        self.body.insertPlainText(template.body)

    def _send_to_groups(self, parsed: recipients.Read, account_id: int) -> None:
        """A group's members, or a text with merge fields, each get their own message: the
        bulk path personalises it, leaves out opted-out people and duplicates with the
        reasons, previews and confirms."""
        from smsdesk.services import recipients

        services = self.ctx.services
        people = recipients.bulk_recipients(parsed, services.contacts, services.groups)
        named = [name for _gid, name, _size in parsed.groups] + [f"#{t}" for t, _n in parsed.tags]
        names = ", ".join(named) or "the recipients typed in Compose"
        show_page = getattr(self.window(), "show_page", None)
        bulk = show_page("bulk") if show_page is not None else None
        start = getattr(getattr(bulk, "wizard", None), "send_to_contacts", None)
        refused = start(people, names, self.body.toPlainText(), account_id) if start is not None else "unavailable"
        if refused:
            if show_page is not None:
                show_page("compose")
            self.feedback.setStyleSheet(ERR_STYLE)
            self.feedback.setText(refused)
            return
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText(f"Opened Bulk send for {names}: check the preview there, then send.")
        self.body.clear()
        self.to.clear()

    def _ask(self, plan: SendPlan, draft: Draft) -> None:
        from smsdesk.ui.views.send_confirm_dialog import SendConfirmDialog

        labels = self.ctx.services.contacts.labels_for(s.number for s in plan.opted_out)
        dialog = SendConfirmDialog(plan, labels, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_answered.connect(lambda ok: self._answered(ok, plan, draft))
        self._confirm = dialog
        dialog.open()

    def _answered(self, ok: bool, plan: SendPlan, draft: Draft) -> None:
        self._confirm = None
        if ok:
            self._queue(dataclasses.replace(draft, skip_opted_out=True, over_limit_ok=True), plan)
        else:
            self.feedback.setStyleSheet(HINT_STYLE)
            self.feedback.setText("Not sent.")

    def _queue(self, draft: Draft, plan: SendPlan) -> None:
        self.send_button.setEnabled(False)
        self.feedback.setStyleSheet(HINT_STYLE)
        self.feedback.setText("Queuing…")
        spawn(
            self.ctx.services.sending.queue(draft),
            title="Send",
            on_done=lambda ids: self._sent(ids, len(plan.opted_out)),
            on_error=self._send_failed,
        )

    def _sent(self, ids: list[int], skipped: int = 0) -> None:
        self.send_button.setEnabled(True)
        self.feedback.setStyleSheet(OK_STYLE)
        left_out = f" Skipped {skipped} opted-out number{'s' if skipped != 1 else ''}." if skipped else ""
        self.feedback.setText(
            f"Queued {len(ids)} message{'s' if len(ids) != 1 else ''}; watch the status below.{left_out}"
        )
        self.ctx.services.unsent.forget()
        self.body.clear()
        # The numbers stay in the sent list below; an emptied To box means pressing Send
        # again cannot send the same message to them a second time.
        self.to.clear()
        if self.isVisible():
            self.to.setFocus()  # who the next message goes to is the first thing to type
        self.sig_sent.emit(len(ids))

    def _send_failed(self, exc: BaseException) -> None:
        if isinstance(exc, StorageError):  # not written: kept on this computer too
            self.keep_unsent(str(exc))
        self.send_button.setEnabled(True)
        self.feedback.setStyleSheet(ERR_STYLE)
        self.feedback.setText(str(exc) if isinstance(exc, SmsdeskError) else f"Could not send: {exc}")

    def _on_changes(self, changes: Changes) -> None:
        if changes.accounts or (changes.everything and self.account.count() == 0):
            self.reload_accounts()  # (the list may be empty because the workspace did not answer)
        if changes.optouts:
            self._validate_timer.start()
        if self.isVisible():
            self.model.apply(changes)
        else:
            # Nobody sees the list: catch up once when the page shows again, not on every
            # change (a 10,000-message bulk run on another page cost 44 ms a batch here).
            self._sent_stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._sent_stale:
            self._sent_stale = False
            self.model.reload()


def _from(at: str) -> str:
    """When a kept message was written, in words: ' from 10:42' today, ' from 5 Dec 10:42'
    another day, '' when ``at`` does not read."""
    from datetime import datetime

    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return ""
    today = datetime.now(when.tzinfo).date()
    return f" from {when:%H:%M}" if when.date() == today else f" from {when.day} {when:%b %H:%M}"


def _wrap(layout: QHBoxLayout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w
