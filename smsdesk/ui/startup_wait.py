"""At start-up, a team workspace that refuses this desktop's login: wait instead of giving up.

A workspace that does not answer opens the window with a banner (``Runtime.finish_open``).
One that answers *no* (a wrong or missing password, a person removed, a database not yet
created) cannot be worked in at all: before the main window exists, a small dialog says what
happened and what to do ("... Give it again with 'smsdesk workspace join URL
--password-stdin'"), and tries again every few seconds in a worker thread (the dialog stays
responsive), so the fix made meanwhile (the password given again, the person re-admitted)
opens the window. **Try now** tries at once; **Quit** gives up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from smsdesk.domain.errors import StoreUnreachable

T = TypeVar("T")
EVERY_MS = 5000


class WorkspaceWait(QDialog, Generic[T]):
    """Runs ``attempt`` every few seconds in a thread until it returns (:attr:`result_value`)."""

    def __init__(
        self, reason: str, attempt: Callable[[], T], parent: QWidget | None = None, every_ms: int = EVERY_MS
    ) -> None:
        super().__init__(parent)
        self.setObjectName("workspace_wait")
        self.setWindowTitle("Waiting for the workspace")
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        self.reason.setObjectName("workspace_wait_reason")
        self.status = QLabel("smsdesk tries again every few seconds and opens as soon as it answers.")
        self.status.setWordWrap(True)
        self.try_button = QPushButton("Try now")
        self.try_button.setObjectName("workspace_wait_try")
        self.try_button.clicked.connect(self.try_now)
        self.quit_button = QPushButton("Quit")
        self.quit_button.setObjectName("workspace_wait_quit")
        self.quit_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.try_button)
        buttons.addWidget(self.quit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.setMinimumWidth(460)
        self._attempt = attempt
        self.result_value: T | None = None
        self._done: tuple[bool, object] | None = None
        self._running = False
        self._lock = threading.Lock()
        self._every = QTimer(self, interval=every_ms)
        self._every.timeout.connect(self.try_now)
        self._poll = QTimer(self, interval=150)
        self._poll.timeout.connect(self._check)
        self._every.start()
        self._poll.start()

    def try_now(self) -> None:
        with self._lock:
            if self._running or self._done is not None or self.result_value is not None:
                # One try at a time, each outcome shown before the next, and none after one
                # succeeded (it opened the workspace).
                return
            self._running = True
        self.status.setText("Trying…")
        threading.Thread(target=self._run, name="smsdesk-workspace-wait", daemon=True).start()

    def _run(self) -> None:
        try:
            outcome: tuple[bool, object] = (True, self._attempt())
        except StoreUnreachable as exc:
            outcome = (False, str(exc))
        except Exception as exc:  # noqa: BLE001 - said in the dialog, never lost in a thread
            outcome = (False, f"smsdesk cannot start: {exc}")
        with self._lock:
            self._done, self._running = outcome, False

    def _check(self) -> None:
        with self._lock:
            done, self._done = self._done, None
        if done is None:
            return
        ok, value = done
        if ok:
            self.result_value = value  # type: ignore[assignment]
            self._every.stop()
            self._poll.stop()
            self.accept()
            return
        self.reason.setText(str(value))
        self.status.setText(
            f"Still not answering at {datetime.now().strftime('%H:%M:%S')}. "
            "smsdesk tries again every few seconds and opens as soon as it answers."
        )


def wait_for_workspace(reason: str, attempt: Callable[[], T]) -> T | None:
    """Show the waiting dialog (modal: no event loop runs yet) until ``attempt`` succeeds
    (its result) or the person quits (None)."""
    box: WorkspaceWait[T] = WorkspaceWait(reason, attempt)
    box.exec()
    return box.result_value
