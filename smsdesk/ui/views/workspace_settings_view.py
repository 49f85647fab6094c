"""Settings -> Workspace: whether this desktop keeps its own messages or shares a team's.

On its own (the default) the tab explains what a workspace is and offers to join one: the
address the business's IT person gave (``postgresql://ana@db.example.com/smsdesk``, never
with the password in it) and the password, kept in the system keyring. Joined, it says which
workspace, as whom, and who else is in it, and offers to leave (back to this computer's own
database, untouched since joining). Both take effect when smsdesk starts again, which it does
at once after asking.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import SmsdeskError
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import confirm
from smsdesk.ui.theme import set_tone

INTRO = (
    "A team workspace lets several people answer texts from one shared inbox, each on their own "
    "computer, with an always-on relay receiving replies while every desktop is off. It is a "
    "PostgreSQL database your IT person sets up once (see the README's “team workspace” section) "
    "and gives each person a login."
)


def _label(text: str = "", name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


class WorkspaceSettingsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.choice = ctx.services.workspace
        self.where = _label(name="workspace_where")
        self.who = _label(name="workspace_who")
        set_tone(self.who, "muted")

        # ---- joined ----
        self.leave_button = QPushButton("Leave this workspace…")
        self.leave_button.setObjectName("workspace_leave")
        self.leave_button.clicked.connect(self.ask_leave)
        leave_row = QHBoxLayout()
        leave_row.addWidget(self.leave_button)
        leave_row.addStretch(1)
        self.joined_box = QGroupBox("This desktop's workspace")
        jv = QVBoxLayout(self.joined_box)
        jv.addWidget(self.where)
        jv.addWidget(self.who)
        jv.addLayout(leave_row)

        # ---- on its own ----
        self.address = QLineEdit()
        self.address.setObjectName("workspace_address")
        self.address.setPlaceholderText("postgresql://your-login@server/smsdesk")
        self.address.setAccessibleName("Workspace address")
        self.password = QLineEdit()
        self.password.setObjectName("workspace_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.join_button = QPushButton("Join and restart")
        self.join_button.setObjectName("workspace_join")
        self.join_button.setToolTip("Check the login, keep the password in the system keyring, and restart")
        self.join_button.clicked.connect(self.join)
        self.password.returnPressed.connect(self.join)
        join_row = QHBoxLayout()
        join_row.addWidget(self.join_button)
        join_row.addStretch(1)
        self.join_box = QGroupBox("Join a team workspace")
        form = QFormLayout(self.join_box)
        form.addRow(_label(INTRO))
        form.addRow("Address", self.address)
        form.addRow("Password", self.password)
        form.addRow(join_row)
        form.addRow(
            _label(
                "Messages on this computer stay here, untouched: leaving the workspace later brings "
                "them back. To copy them into a new workspace, see 'smsdesk workspace migrate'."
            )
        )

        self.feedback = _label(name="workspace_feedback")
        self.feedback.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.joined_box)
        layout.addWidget(self.join_box)
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        self.joined_box.hide()
        self.join_box.hide()
        self.refresh()

    def _say(self, text: str, tone: str = "muted") -> None:
        self.feedback.setText(text)
        set_tone(self.feedback, tone)
        self.feedback.setVisible(bool(text))

    def refresh(self) -> None:
        """Read which store this desktop uses (asking a workspace takes a moment: off the GUI thread)."""
        self.where.setText("Asking the workspace…")
        spawn(asyncio.to_thread(self.choice.state), title="Workspace", on_done=self._show, on_error=self._failed)

    def _show(self, state: object) -> None:
        from smsdesk.workspace import WorkspaceState

        assert isinstance(state, WorkspaceState)
        joined = bool(state.address)
        self.joined_box.setVisible(joined)
        self.join_box.setVisible(not joined)
        if not joined:
            self.where.setText("")
            return
        self.where.setText(f"This desktop uses the team workspace <b>{state.place}</b> as <b>{state.user}</b>.")
        if state.problem:
            self.who.setText(f"It cannot be reached right now: {state.problem}")
            set_tone(self.who, "error")
        else:
            people = ", ".join(state.people) or "nobody yet"
            relays = ", ".join(state.relays) or "none yet (replies arrive only while a desktop is open)"
            self.who.setText(f"People: {people}.\nRelays: {relays}.")
            set_tone(self.who, "muted")
        self.leave_button.setVisible(not state.for_this_run)
        if state.for_this_run:
            self.who.setText(self.who.text() + "\nChosen for this run only (--database or SMSDESK_DATABASE_URL).")

    def _failed(self, exc: BaseException) -> None:
        self.join_button.setEnabled(True)
        self._say(str(exc) if isinstance(exc, SmsdeskError) else f"That did not work: {exc}", "error")

    # ---- joining and leaving -------------------------------------------------------------
    def join(self) -> None:
        address = self.address.text().strip()
        if not address:
            self._say("Type the workspace's address your IT person gave you.", "error")
            self.address.setFocus()
            return
        self.join_button.setEnabled(False)
        self._say("Checking the login…")
        spawn(
            asyncio.to_thread(self.choice.join, address, self.password.text()),
            title="Join workspace",
            on_done=lambda _state: self._restart("Joined. smsdesk restarts to use the workspace…"),
            on_error=self._failed,
        )

    def ask_leave(self) -> None:
        confirm(
            self,
            "Leave the workspace",
            "smsdesk will restart using this computer's own database, as it was before joining. "
            "Everything in the workspace stays there for the rest of the team.\n\nLeave it?",
            self._leave,
            name="confirm_leave_workspace",
        )

    def _leave(self) -> None:
        try:
            self.choice.leave()
        except SmsdeskError as exc:
            self._say(str(exc), "error")
            return
        self._restart("Left. smsdesk restarts with this computer's own database…")

    def _restart(self, text: str) -> None:
        self.password.clear()
        self._say(text)
        self.ctx.restart.request()  # app.py starts smsdesk again once this one has closed
        self.window().close()
