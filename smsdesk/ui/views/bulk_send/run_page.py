"""Bulk wizard, step 6: the run as it goes, with Pause/Resume and Cancel the rest.

A run outlives the page and the app: closed or killed, it goes on where it stopped at the
next start. Counts refresh from the changes it announces (a burst of receipts: one refresh).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from smsdesk.domain.events import Changes
from smsdesk.services.bulk_send import BulkSendProgress
from smsdesk.ui.aio import spawn
from smsdesk.ui.views.bulk_send.common import StepPage, WizardHost


class RunPage(StepPage):
    def __init__(self, host: WizardHost) -> None:
        super().__init__(host)
        self.setSubTitle("You can close this page or the app: an interrupted run continues where it stopped.")
        self.bar = QProgressBar()
        self.bar.setObjectName("run_progress")
        self.counts = QLabel()
        self.counts.setObjectName("run_counts")
        self.counts.setWordWrap(True)
        self.pause = QPushButton("Pause")
        self.pause.setObjectName("pause")
        self.pause.clicked.connect(self._pause_resume)
        self.cancel = QPushButton("Cancel the rest")
        self.cancel.setObjectName("cancel_run")
        self.cancel.clicked.connect(self._cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pause)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.counts)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(150)  # a burst of receipts becomes one refresh
        self._refresh_soon.timeout.connect(self.refresh)
        self._armed_cancel = False
        self.last: BulkSendProgress | None = None
        host.ctx.bridge.sig_changed.connect(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        if self.host.state.run_id is not None and (changes.bulk or changes.message_ids) and self.isVisible():
            self._refresh_soon.start()

    def initializePage(self) -> None:  # noqa: N802
        self._armed_cancel = False
        self.last = None
        self.cancel.setText("Cancel the rest")
        if self.host.state.run_id is not None:
            self._show(self.host.state.progress())

    def refresh(self) -> None:
        """Show the run's counts (two indexed reads, a few ms even for 100,000 rows)."""
        # Not when hidden: a timer may fire after the window closed and the runtime with it.
        if self.host.state.run_id is not None and self.isVisible():
            self._show(self.host.state.progress())

    def _show(self, p: BulkSendProgress | None) -> None:
        self.last = p
        if p is None:
            return
        self.bar.setMaximum(max(p.accepted, 1))
        self.bar.setValue(p.finished if p.state != "scheduled" else 0)
        parts = [f"{p.finished:,} of {p.accepted:,} handled", f"{p.sending:,} sending", f"{p.waiting:,} waiting"]
        for label, n in (
            ("delivered", p.delivered),
            ("failed", p.failed),
            ("need review", p.needs_review),
            ("cancelled", p.cancelled),
            ("scheduled", p.scheduled),
        ):
            if n:
                parts.append(f"{n:,} {label}")
        state = {
            "running": "Sending",
            "paused": "Paused",
            "done": "Finished",
            "cancelled": "Cancelled",
            "scheduled": "Scheduled",
        }.get(p.state, p.state)
        self.counts.setText(f"{state}: " + " · ".join(parts))
        self.pause.setText("Resume" if p.state == "paused" else "Pause")
        self.pause.setEnabled(p.state in ("running", "paused"))
        self.cancel.setEnabled(p.state in ("running", "paused", "scheduled"))
        self.announce()

    def _pause_resume(self) -> None:
        run_id = self.host.state.run_id
        p = self.last
        if run_id is None or p is None:
            return
        bulk = self.host.ctx.services.bulk_send
        coro = bulk.resume(run_id) if p.state == "paused" else bulk.pause(run_id)
        spawn(coro, title="Bulk send", on_done=lambda _ok: self.refresh())

    def _cancel(self) -> None:
        run_id = self.host.state.run_id
        if run_id is None:
            return
        if not self._armed_cancel:  # a second click confirms; no modal dialog
            self._armed_cancel = True
            self.cancel.setText("Click again to cancel the rest")
            return
        spawn(
            self.host.ctx.services.bulk_send.cancel(run_id), title="Cancel bulk send", on_done=lambda _n: self.refresh()
        )

    def isComplete(self) -> bool:  # noqa: N802
        return self.last is not None and (self.last.done or self.last.state == "scheduled")
