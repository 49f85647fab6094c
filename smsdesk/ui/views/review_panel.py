"""Batches of messages that may or may not have gone out, each settled with one action.

Shown above the conversation list while its "Needs review" filter is on, and on a bulk send's
report for that run. Each batch says what smsdesk does about it (asks the provider on a
schedule, or cannot ask it) and offers "Mark as sent" and "Send again to these N"; sending
again takes a second click after a warning that anyone who did get the message gets it twice
(no modal dialog: a nested Qt loop inside a coroutine hangs the qasync loop).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.review import ReviewBatch
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.theme import set_tone
from smsdesk.ui.widgets.labels import wrapped_label

MAX_HEIGHT = 260  # beyond this the batches scroll, so the conversations keep most of the window


class BatchCard(QFrame):
    """One batch: what it is, what smsdesk does about it, and the two ways to settle it."""

    def __init__(self, panel: ReviewPanel, batch: ReviewBatch) -> None:
        super().__init__()
        self.panel = panel
        self.batch = batch
        self.armed = False
        self.setObjectName("review_batch")
        self.title = wrapped_label(name="review_title")
        self.title.setStyleSheet("font-weight: 600;")
        self.status = wrapped_label(name="review_status")
        self.warning = wrapped_label(name="review_warning")
        set_tone(self.warning, "warn")
        self.warning.hide()
        self.mark = QPushButton("Mark as sent")
        self.mark.setObjectName("mark_sent")
        self.mark.setToolTip("You checked: these messages did go out. Nothing is sent.")
        self.mark.clicked.connect(self._mark)
        self.again = QPushButton()
        self.again.setObjectName("send_again")
        self.again.clicked.connect(self._again)
        buttons = QHBoxLayout()
        buttons.addWidget(self.mark)
        buttons.addWidget(self.again)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.warning)
        layout.addLayout(buttons)
        self.show_batch(batch)

    def show_batch(self, batch: ReviewBatch) -> None:
        self.batch = batch
        noun = "message" if batch.count == 1 else "messages"
        self.title.setText(f"{batch.title} · {batch.count:,} {noun}")
        self.status.setText(batch.status)
        self.again.setEnabled(batch.can_send_again)
        self.again.setToolTip(batch.why_not_again or batch.send_again_warning)
        if self.armed:
            self.warning.setText(f"{batch.send_again_warning} Click “Yes, send again” to send them anyway.")
        self.again.setText(
            f"Yes, send again to these {batch.count:,}" if self.armed else f"Send again to these {batch.count:,}"
        )

    def _mark(self) -> None:
        self._busy(True)
        key, title = self.batch.key, self.batch.title
        spawn(
            self.panel.ctx.services.review.mark_sent(key),
            title="Mark as sent",
            on_done=lambda n: self.panel.done(f"Marked {n:,} message{'s' if n != 1 else ''} of {title} as sent."),
            on_error=self._failed,
        )

    def _again(self) -> None:
        if not self.armed:
            self.armed = True
            self.warning.show()
            self.show_batch(self.batch)
            self.panel.fit()
            return
        self._busy(True)
        key, title = self.batch.key, self.batch.title
        spawn(
            self.panel.ctx.services.review.send_again(key),
            title="Send again",
            on_done=lambda ids: self.panel.done(
                f"Sending {len(ids):,} message{'s' if len(ids) != 1 else ''} of {title} again."
            ),
            on_error=self._failed,
        )

    def _busy(self, busy: bool) -> None:
        self.mark.setEnabled(not busy)
        self.again.setEnabled(not busy and self.batch.can_send_again)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.panel.done(str(exc) if isinstance(exc, SmsdeskError) else f"That did not work: {exc}", error=True)


class ReviewPanel(QWidget):
    """Every batch of undecided messages (or one bulk run's), refreshed as things change."""

    def __init__(self, ctx: UiContext, run_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.run_id = run_id
        self.active = run_id is not None
        self.setObjectName("review_panel")
        self.heading = wrapped_label(
            "<b>Messages that may or may not have gone out</b> — smsdesk stopped, or the "
            "provider's answer was lost, while they were being sent.",
            "review_heading",
        )
        self.feedback = wrapped_label(name="review_feedback")
        self.feedback.hide()
        self.cards: dict[str, BatchCard] = {}
        self.inner = inner = QWidget()
        self.list = QVBoxLayout(inner)
        self.list.setContentsMargins(0, 0, 0, 0)
        self.list.addStretch(1)
        self.scroller = QScrollArea()
        self.scroller.setWidget(inner)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.scroller)
        layout.addWidget(self.feedback)
        self._soon = QTimer(self, singleShot=True, interval=300)  # a burst of changes: one refresh
        self._soon.timeout.connect(self.refresh)
        self._clock = QTimer(self, interval=30_000)  # "next check at" moves on without a change
        self._clock.timeout.connect(self.refresh)
        ctx.bridge.sig_changed.connect(self._on_changes)
        self.hide()

    def set_active(self, active: bool, run_id: int | None = None) -> None:
        """Show (and keep up to date) the batches, or hide; ``run_id``: only that bulk run's."""
        self.active = active
        if run_id is not None:
            self.run_id = run_id
        self.feedback.hide()
        self.refresh()

    def _on_changes(self, changes: Changes) -> None:
        # Only while the page holding it is on screen (its owner refreshes it when shown again).
        host = self.parentWidget()
        if not (self.active and (host is None or host.isVisible())):
            return
        if changes.message_ids or changes.bulk or changes.queue or changes.everything:
            self._soon.start()

    def refresh(self) -> None:
        if not self.active or not self.window().isVisible():
            # Inactive, or a timer firing after the window (and the database with it) closed.
            self._clock.stop()
            self._soon.stop()
            self.setVisible(False)
            return
        try:
            batches = self.ctx.services.review.batches(self.run_id)
        except SmsdeskError:
            return  # the database is closing with the window
        seen = set()
        for i, batch in enumerate(batches):
            seen.add(batch.key)
            card = self.cards.get(batch.key)
            if card is None:
                card = self.cards[batch.key] = BatchCard(self, batch)
                self.list.insertWidget(i, card)
            else:
                card.show_batch(batch)
        for key in set(self.cards) - seen:
            card = self.cards.pop(key)
            card.hide()
            card.deleteLater()
        self.scroller.setVisible(bool(batches))
        self.heading.setVisible(bool(batches))
        self.setVisible(bool(batches) or self.feedback.isVisible())
        if batches:
            self._clock.start()
            self.fit()
        else:
            self._clock.stop()

    def fit(self) -> None:
        """As tall as the cards (up to ``MAX_HEIGHT``, then it scrolls): no empty band below them."""
        width = self.scroller.viewport().width()
        wanted = self.inner.heightForWidth(width) if self.inner.hasHeightForWidth() else -1
        if wanted < 0:
            wanted = self.inner.sizeHint().height()
        self.scroller.setFixedHeight(max(40, min(wanted, MAX_HEIGHT)))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.cards:
            self.fit()

    def done(self, text: str, error: bool = False) -> None:
        """Say what the last action did (it stays until the next one or the panel is re-shown)."""
        self.feedback.setText(text)
        set_tone(self.feedback, "error" if error else "ok")
        self.feedback.show()
        self.refresh()
