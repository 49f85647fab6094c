"""Scheduled: every scheduled and in-progress send, with its next run, recipients, account,
where it is scheduled and state; edit, send now, pause/resume, skip and cancel; the history
of past runs with outcome counts. A banner appears when sends fell due while smsdesk was
closed and are held for confirmation. Cancel and skip ask first (``QMessageBox.open()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import InvalidInput, OverLimit, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.schedule import ScheduleItem, counts_text, to_local, to_utc
from smsdesk.services.recipients import GROUP_MARK, read, suggest
from smsdesk.services.scheduler import ScheduleRequest
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.models.schedule_model import COLUMNS, MESSAGE_COL, NOTE_COL, ScheduleModel
from smsdesk.ui.views.schedule_dialog import ScheduleDialog
from smsdesk.ui.views.schedule_options_dialog import ScheduleOptionsDialog
from smsdesk.ui.widgets.labels import ElideLabel

SKIP_TIP = "Drop this run; a repeat keeps its later runs"
SKIP_ONE_OFF = "A one-off send has no later run to keep: use Cancel to drop it."
# Widest a column other than the message and the note gets before its text is elided.
COLUMN_CAP = 180


class ScheduledView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = ctx.services.scheduler
        self.setObjectName("ScheduledView")
        self.dialog: ScheduleDialog | None = None
        self.options: ScheduleOptionsDialog | None = None

        self.banner = QFrame()
        self.banner.setObjectName("held_banner")
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_button = QPushButton("Review")
        self.banner_button.clicked.connect(self.select_first_held)
        row = QHBoxLayout(self.banner)
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.banner_button)
        theme.set_banner(self.banner, "warn")
        self.banner.hide()

        self.new_button = self._button("New…", "new", self.new_item, "Schedule a send")
        self.edit_button = self._button("Edit…", "edit", self.edit_selected, "Change text, time, recipients or repeat")
        self.send_now_button = self._button("Send now", "send_now", self.send_now, "Send it now (confirms a held send)")
        self.pause_button = self._button("Pause", "pause", self.pause, "Stop it (or what is left of a run)")
        self.resume_button = self._button("Resume", "resume", self.resume, "Carry on")
        self.skip_button = self._button("Skip run", "skip", self.confirm_skip, SKIP_TIP)
        self.cancel_button = self._button(
            "Cancel…", "cancel", self.confirm_cancel, "Cancel it and what has not gone yet"
        )
        self.options_button = self._button(
            "Options…", "options", self.open_options, "Quiet hours and provider-side scheduling per account"
        )
        self.show_finished = QCheckBox("Show finished")
        self.show_finished.setObjectName("show_finished")
        self.show_finished.toggled.connect(self._toggle_finished)
        bar = QHBoxLayout()
        for b in (
            self.new_button,
            self.edit_button,
            self.send_now_button,
            self.pause_button,
            self.resume_button,
            self.skip_button,
            self.cancel_button,
        ):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.show_finished)
        bar.addWidget(self.options_button)

        self.model = ScheduleModel(self.svc, ctx.services.contacts, self._group_name)
        self.table = QTableView()
        self.table.setObjectName("queue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        # Widths are shared out by _fit_columns (every header readable, the rest to the message
        # and the note); a person can still drag them.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(24)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

        self.history_title = ElideLabel("History")  # a long repeat rule and zone must not widen the window
        self.history_title.setObjectName("history_title")
        self.detail = QLabel()
        self.detail.setObjectName("detail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.history = QListWidget()
        self.history.setObjectName("history")
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.history_title)
        lower_layout.addWidget(self.detail)
        lower_layout.addWidget(self.history)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)

        self.feedback = QLabel()
        self.feedback.setObjectName("feedback")
        self.feedback.setWordWrap(True)
        self.empty = QLabel("Nothing is scheduled. Press New… (or use smsdesk send --at) to schedule a send.")
        self.empty.setObjectName("empty")
        theme.set_tone(self.empty, "muted")

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(self.empty)
        layout.addWidget(split, 1)
        layout.addWidget(self.feedback)

        # Coalesce bursts of changes (a bulk run's receipts) into one reload.
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(150)
        self._reload_timer.timeout.connect(self._reload_if_shown)
        self._stale = False
        ctx.bridge.sig_changed.connect(self._on_changes)
        self.reload()

    def _button(self, text: str, name: str, slot: Any, tip: str) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    # ---- refresh -----------------------------------------------------------------------------
    def _on_changes(self, changes: Changes) -> None:
        if changes.queue or changes.accounts or changes.everything or changes.message_ids or changes.contacts:
            self._reload_timer.start()

    def _reload_if_shown(self) -> None:
        # A hidden page (another page is showing, or the window is closing and the runtime
        # stopping) reloads when it is shown again instead of querying now.
        if not self.isVisible():
            self._stale = True
            return
        self.reload()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()

    def _toggle_finished(self, on: bool) -> None:
        self.model.include_finished = on
        self.reload()

    def reload(self) -> None:
        keep = self.selected()
        self.model.reload()
        if keep is not None:
            self.select(keep.id)
        held = self.svc.held_count()
        self.banner.setVisible(held > 0)
        self.banner_text.setText(
            f"{held} scheduled send{'s' if held != 1 else ''} fell due while smsdesk was not running and "
            f"{'are' if held != 1 else 'is'} held. Check each one, then Send now, Skip run (a repeating send) "
            "or Cancel."
        )
        self.empty.setVisible(self.model.rowCount() == 0)
        self._selection_changed()
        self._fit_columns()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Every header in full within the table's width: short columns get what their text
        needs (up to :data:`COLUMN_CAP`, then it is elided), the note what it needs up to
        two-fifths of the rest, and the message everything left."""
        header = self.table.horizontalHeader()
        fm = header.fontMetrics()

        def head(col: int) -> int:
            return fm.horizontalAdvance(COLUMNS[col]) + 2 * fm.averageCharWidth() + 12

        widths: dict[int, int] = {}
        for col in range(len(COLUMNS)):
            if col not in (MESSAGE_COL, NOTE_COL):
                widths[col] = max(head(col), min(self.table.sizeHintForColumn(col), COLUMN_CAP))
        rest = self.table.viewport().width() - sum(widths.values())
        note = max(head(NOTE_COL), min(self.table.sizeHintForColumn(NOTE_COL), int(rest * 0.4)))
        widths[NOTE_COL] = note
        widths[MESSAGE_COL] = max(head(MESSAGE_COL), rest - note)
        for col, width in widths.items():
            header.resizeSection(col, width)

    def selected(self) -> ScheduleItem | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item_at(rows[0].row()) if rows else None

    def select(self, sid: int) -> None:
        row = self.model.row_of(sid)
        if row >= 0:
            self.table.selectionModel().select(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )

    def select_first_held(self) -> None:
        for row in range(self.model.rowCount()):
            item = self.model.item_at(row)
            if item is not None and item.state == "held":
                self.select(item.id)
                self.table.setFocus()
                return

    def _selection_changed(self) -> None:
        it = self.selected()
        state = it.state if it else ""
        at_provider = bool(it and it.location == "provider" and it.handed_off)
        self.edit_button.setEnabled(bool(it and it.editable))
        self.send_now_button.setEnabled(state in ("scheduled", "paused", "held"))
        self.pause_button.setEnabled(state in ("scheduled", "held", "running") and not at_provider)
        self.resume_button.setEnabled(state == "paused")
        one_off = bool(it and not it.recurrence.repeats)
        self.skip_button.setEnabled(state in ("held", "scheduled", "paused") and not at_provider and not one_off)
        self.skip_button.setToolTip(SKIP_ONE_OFF if one_off else SKIP_TIP)
        self.cancel_button.setEnabled(state in ("scheduled", "paused", "held", "running"))
        self._show_history(it)

    def _show_history(self, it: ScheduleItem | None) -> None:
        self.history.clear()
        self.detail.setText(it.reason if it else "")
        self.detail.setVisible(bool(it and it.reason))
        if it is None:
            self.history_title.setText("History")
            return
        self.history_title.setText(f"History of #{it.id} · {it.recurrence.describe()} · {it.zone}")
        for run in self.svc.history(it.id):
            due = to_local(_parse(run["due"]), it.zone).strftime("%a %d %b %Y %H:%M")
            line = f"{due}  ·  {run['state']}  ·  {counts_text(run['counts'], run['skipped'])}"
            if run["note"]:
                line += f"  ·  {run['note']}"
            self.history.addItem(line)
        if not self.history.count():
            self.history.addItem("No runs yet.")

    # ---- new / edit ---------------------------------------------------------------------------
    def new_item(self) -> None:
        self._open_dialog(None)

    def edit_selected(self) -> None:
        it = self.selected()
        if it is None or not it.editable:
            return
        self._open_dialog(it)

    def _open_dialog(self, item: ScheduleItem | None) -> None:
        accounts = self.ctx.services.accounts.all()
        services = self.ctx.services
        recipients = self.svc.recipients(item.id) if item else []
        if item is not None and item.group_id is not None:
            recipients = [GROUP_MARK + self._group_name(item.group_id)]
        dialog = ScheduleDialog(
            accounts,
            self.svc.default_zone(),
            item,
            recipients,
            self,
            suggest=lambda part: suggest(part, services.contacts, services.groups),
            templates=services.templates,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_submitted.connect(lambda values: self._submit(dialog, item, recipients, values))
        for signal in (dialog.to.textChanged, dialog.when.dateTimeChanged, dialog.zone.currentTextChanged):
            signal.connect(lambda *_: self._quiet_hint(dialog))
        self.dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        dialog.open()
        self._quiet_hint(dialog)

    def _quiet_hint(self, dialog: ScheduleDialog) -> None:
        v = dialog.values()
        numbers = [r.number for r in map(self.ctx.services.sending.check_recipient, v["recipients"]) if r.number]
        if v["account_id"] is None or not numbers:
            return
        try:
            text = self.svc.quiet_note(v["account_id"], numbers, to_utc(v["when"], v["zone"] or "UTC"))
        except Exception:  # noqa: BLE001 - an unfinished zone name while typing
            text = ""
        if dialog.item is None or dialog.item.kind != "bulk":
            dialog.show_hint(text)

    def _group_name(self, group_id: int) -> str:
        try:
            return self.ctx.services.groups.get(group_id).name
        except SmsdeskError:
            return "(a deleted group)"

    def _read_to(self, parts: list[str]) -> tuple[list[str], int | None]:
        """The numbers, or the one group, that the To box names.

        Raises:
            InvalidInput: a part names nobody, or a group is mixed with others.
        """
        services = self.ctx.services
        found = read(parts, services.contacts, services.groups)
        if found.errors:
            raise InvalidInput(" ".join(found.errors))
        if not found.groups:
            return found.numbers, None
        if len(found.groups) > 1 or found.numbers:
            raise InvalidInput(
                "A scheduled send goes to one group, or to numbers and names, not both: "
                "schedule a separate send for each."
            )
        return [], found.groups[0][0]

    def _submit(self, dialog: ScheduleDialog, item: ScheduleItem | None, before: list[str], v: dict[str, Any]) -> None:
        group_item = item is not None and item.group_id is not None
        try:
            numbers, group_id = self._read_to(v["recipients"]) if not group_item else ([], None)
        except InvalidInput as exc:
            dialog.show_error(str(exc))
            return
        if item is None:
            req = ScheduleRequest(
                v["account_id"],
                numbers,
                v["text"],
                v["when"],
                zone=v["zone"],
                recurrence=v["recurrence"],
                group_id=group_id,
            )
            coro = self.svc.create(req)
        else:
            orig_wall = to_local(item.next_run, item.zone).replace(tzinfo=None) if item.next_run else item.first_local
            timing = v["when"] != orig_wall or v["zone"] != item.zone or v["recurrence"] != item.recurrence
            coro = self.svc.edit(
                item.id,
                item.version,
                text=v["text"] if v["text"] != item.body else None,
                recipients=numbers if v["recipients"] != before and item.kind != "bulk" and not group_item else None,
                when=v["when"] if timing else None,
                zone_name=v["zone"] if timing else None,
                recurrence=v["recurrence"] if timing else None,
            )

        def done(saved: ScheduleItem) -> None:
            dialog.accept()
            self.reload()
            self.select(saved.id)
            self.feedback.setText(f"Saved #{saved.id}." + (f" {saved.reason}" if saved.reason else ""))

        spawn(coro, title="Scheduled send", on_done=done, on_error=lambda exc: dialog.show_error(str(exc)))

    def open_options(self) -> None:
        dialog = ScheduleOptionsDialog(self.ctx.services.accounts.all(), self.svc.provider, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        prov = self.svc.provider

        async def save(account_id: int, quiet: str, on: bool, acknowledged: bool) -> None:
            await prov.set_quiet_hours(account_id, quiet)
            await prov.set_opt_in(account_id, on, acknowledged)

        def submitted(account_id: int, quiet: str, on: bool, acknowledged: bool) -> None:
            spawn(
                save(account_id, quiet, on, acknowledged),
                title="Scheduling options",
                on_done=lambda _r: dialog.accept(),
                on_error=lambda exc: dialog.show_error(str(exc)),
            )

        dialog.sig_submitted.connect(submitted)
        self.options = dialog
        dialog.finished.connect(lambda _r: setattr(self, "options", None))
        dialog.open()

    # ---- actions -----------------------------------------------------------------------------
    def _run(self, coro: Any, ok: str, refused: Callable[[BaseException], None] | None = None) -> None:
        """Run an action on the item; ``refused`` is told of its failure after the line says it."""

        def done(result: Any) -> None:
            theme.set_tone(self.feedback, "")
            self.feedback.setText(result if isinstance(result, str) else ok)
            self.reload()

        def failed(exc: BaseException) -> None:
            theme.set_tone(self.feedback, "error")
            self.feedback.setText(str(exc))
            self.reload()
            if refused is not None:
                refused(exc)

        spawn(coro, title="Scheduled send", on_done=done, on_error=failed)

    def send_now(self) -> None:
        it = self.selected()
        if it is None:
            return
        sid = it.id

        def refused(exc: BaseException) -> None:
            if not isinstance(exc, OverLimit):
                return
            # As Compose does: say why, and send anyway only if the person says so.
            self.feedback.setText(f"#{sid} was not sent: it would go over the account's monthly spending limit.")
            self._confirm(
                "confirm_over_limit",
                "Over the spending limit",
                f"{exc.reason}\n\nSend it anyway?",
                lambda: self._run(self.svc.send_now(sid, over_limit_ok=True), f"#{sid} is being sent now."),
            )

        self._run(self.svc.send_now(sid), f"#{sid} is being sent now.", refused)

    def pause(self) -> None:
        it = self.selected()
        if it is not None:
            self._run(self.svc.pause(it.id), f"#{it.id} paused.")

    def resume(self) -> None:
        it = self.selected()
        if it is not None:
            self._run(self.svc.resume(it.id), f"#{it.id} resumed.")

    def _confirm(self, name: str, title: str, text: str, action: Any) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self
        )
        box.setObjectName(name)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda button: action() if button == QMessageBox.StandardButton.Yes else None)
        box.open()
        return box

    def confirm_cancel(self) -> None:
        it = self.selected()
        if it is None:
            return
        what = (
            "the rest of this run (messages already handed to the provider still go)"
            if it.state == "running"
            else f"the send to {it.recipient_count} recipient(s)"
        )
        if it.recurrence.repeats:
            what += " and every later run"
        self._confirm(
            "confirm_cancel",
            "Cancel scheduled send",
            f"Cancel {what}? This cannot be undone.",
            lambda: self._run(self.svc.cancel(it.id), "Cancelled."),
        )

    def confirm_skip(self) -> None:
        it = self.selected()
        if it is None:
            return
        after = "Its next run stays." if it.recurrence.repeats else "It is a one-off, so nothing will be sent."
        self._confirm(
            "confirm_skip",
            "Skip this run",
            f"Skip this run of #{it.id}? {after}",
            lambda: self._run(self.svc.skip(it.id), "Skipped."),
        )


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)
