"""Settings -> Webhooks: how each account's receipts and replies reach smsdesk, and the details.

At the top, one line per account says in plain words how its delivery receipts and replies
arrive now (the built-in sandbox, a tunnel, polling, a relay), or that they do not yet and
what to do; the line comes from ``ReceptionService.reception`` (this view knows nothing of
providers, tunnels or pollers). A closed "Details" section holds what a person setting up a
provider's callbacks needs: the receiver's and sandbox's addresses, the tunnel (state,
public URL, start and stop), each account's exact webhook URL (with its token) to paste, and
the recent deliveries with their HTTP answers. Refreshes from the event bus
(``Changes.webhooks`` / ``accounts``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smsdesk.receiver.types import is_loopback
from smsdesk.services.reception import Reception, Route
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.collapsible import Collapsible
from smsdesk.ui.context import UiContext

KINDS = [
    ("none", "No tunnel (local only; pollable providers are polled)"),
    ("ngrok", "ngrok"),
    ("command", "Command (e.g. cloudflared)"),
]
STATE_TEXT = {  # tunnel state -> (words, tone)
    "off": ("Off", "muted"),
    "starting": ("Starting…", "warn"),
    "up": ("Up", "ok"),
    "down": ("Down", "error"),
}
OUTCOME_TONE = {"accepted": "ok", "duplicate": "muted", "rejected": "error"}
# What processing made of an accepted delivery (webhook_events.state), in words.
PROCESSING_TEXT = {
    "pending": ("processing…", "muted"),
    "processed": ("processed", "ok"),
    "waiting": ("waiting for its message", "warn"),
    "failed": ("failed", "error"),
}
LOG_COLUMNS = ["Time", "Account", "Result", "HTTP", "Processing", "Reason"]
DEFAULT_COMMAND = "cloudflared tunnel --no-autoupdate --url {local}"
ROUTE_TONE = {Route.NOT_YET: "warn", Route.OFF: "muted"}


class WebhooksSettingsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.services = ctx.services
        self._build_reception_box()
        self._build_tunnel_box()
        self._build_urls_box()
        self._build_log_box()
        details = QWidget()
        dl = QVBoxLayout(details)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.tunnel_box)
        dl.addWidget(self.urls_box)
        dl.addWidget(self.log_box)
        self.details = Collapsible("Details", details, name="details")
        self.details.toggle.setToolTip("The receiver, the public tunnel, webhook URLs and recent deliveries")
        content = QWidget()
        cl = QVBoxLayout(content)
        cl.addWidget(self.reception_box)
        cl.addWidget(self.details)
        cl.addStretch(1)
        # Details open make the page long: it scrolls rather than growing the window.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        ctx.bridge.sig_changed.connect(self._on_changes)
        theme.ensure(ctx).sig_applied.connect(lambda _scheme: self.refresh())
        self.refresh()

    # ---- building ----------------------------------------------------------------------
    def _build_tunnel_box(self) -> None:
        s = self.services.settings_file.settings
        self.tunnel_box = QGroupBox("Receiver and public tunnel")
        self.local_url = QLabel()
        self.local_url.setObjectName("local_url")
        self.local_url.setWordWrap(True)  # a receiver error can be long: wrap, never widen the window
        self.local_url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.local_url.setWordWrap(True)
        self.sandbox_url = QLabel()
        self.sandbox_url.setObjectName("sandbox_url")
        self.sandbox_url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = QComboBox()
        self.kind.setObjectName("tunnel_kind")
        for key, label in KINDS:
            self.kind.addItem(label, key)
        self.kind.setCurrentIndex(max(0, self.kind.findData(s.tunnel_kind or "none")))
        self.kind.currentIndexChanged.connect(lambda _i: self._sync_kind())
        self.command = QLineEdit(s.tunnel_command or "")
        self.command.setObjectName("tunnel_command")
        self.command.setPlaceholderText(DEFAULT_COMMAND)
        self.command.setToolTip(
            "{local} becomes the receiver's local URL, {port} its port. Run without a shell.\n"
            "Saved in the settings file: do not put tokens in it (use ngrok for a token-based tunnel)."
        )
        self.token = QLineEdit()
        self.token.setObjectName("ngrok_token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("paste your ngrok authtoken (kept in the system keyring)")
        self.apply_button = QPushButton("Save and start")
        self.apply_button.setObjectName("tunnel_apply")
        self.apply_button.clicked.connect(self.apply)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("tunnel_stop")
        self.stop_button.clicked.connect(self.stop_tunnel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        self.state = QLabel()
        self.state.setObjectName("tunnel_state")
        self.public_url = QLineEdit()
        self.public_url.setObjectName("public_url")
        self.public_url.setReadOnly(True)
        self.copy_public = QPushButton("Copy")
        self.copy_public.setObjectName("copy_public")
        self.copy_public.clicked.connect(lambda: self._copy(self.public_url.text()))
        public_row = QHBoxLayout()
        public_row.addWidget(self.public_url, 1)
        public_row.addWidget(self.copy_public)
        self.detail = QLabel()
        self.detail.setObjectName("tunnel_detail")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setWordWrap(True)
        form = QFormLayout(self.tunnel_box)
        form.addRow("Receiver (this computer)", self.local_url)
        form.addRow("Built-in sandbox", self.sandbox_url)
        form.addRow("Tunnel", self.kind)
        form.addRow("Command", self.command)
        form.addRow("ngrok authtoken", self.token)
        form.addRow("", buttons)
        form.addRow("State", self.state)
        form.addRow("Public URL", public_row)
        form.addRow("", self.detail)
        self._form = form
        self._sync_kind()

    def _build_reception_box(self) -> None:
        self.reception_box = QGroupBox("How receipts and replies reach smsdesk")
        self.accounts = QTableWidget(0, 3)
        self.accounts.setObjectName("reception")
        self.accounts.setHorizontalHeaderLabels(["Account", "How they arrive now", ""])
        _table_defaults(self.accounts)
        self.accounts.setWordWrap(True)  # a sentence per account: wrapped, never widening the window
        self.accounts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.accounts.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.accounts.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        header = self.accounts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        # Wrapped lines change height with the width: the rows and the table follow, the page scrolls.
        header.sectionResized.connect(lambda *_: self._fit_height(self.accounts))
        # A relay (smsdesk serve) on this data folder receives for this window: said up here.
        self.relay_note = QLabel()
        self.relay_note.setObjectName("relay_note")
        self.relay_note.setWordWrap(True)
        intro = QLabel(
            "Delivery receipts say whether a message reached the phone; replies are the texts people send back."
        )
        intro.setWordWrap(True)
        theme.set_tone(intro, "muted")
        layout = QVBoxLayout(self.reception_box)
        layout.addWidget(intro)
        layout.addWidget(self.relay_note)
        layout.addWidget(self.accounts)

    def _build_urls_box(self) -> None:
        self.urls_box = QGroupBox("Webhook URL for each account (paste it in the provider's dashboard)")
        self.urls = QTableWidget(0, 3)
        self.urls.setObjectName("account_urls")
        self.urls.setHorizontalHeaderLabels(["Account", "Webhook URL", ""])
        _table_defaults(self.urls)
        self.urls.setMinimumHeight(120)
        self.urls.setWordWrap(False)  # a long token URL is elided; the tooltip and Copy have it all
        self.urls.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.urls.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.auth_note = QLabel()
        self.auth_note.setObjectName("auth_note")
        self.auth_note.setWordWrap(True)
        layout = QVBoxLayout(self.urls_box)
        layout.addWidget(self.urls)
        layout.addWidget(self.auth_note)

    def _build_log_box(self) -> None:
        self.log_box = QGroupBox("Recent deliveries")
        self.log = QTableWidget(0, len(LOG_COLUMNS))
        self.log.setObjectName("webhook_log")
        self.log.setMinimumHeight(200)
        self.log.setHorizontalHeaderLabels(LOG_COLUMNS)
        _table_defaults(self.log)
        self.log.horizontalHeader().setSectionResizeMode(len(LOG_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.log_empty = QLabel("No deliveries yet. Once a provider calls the URL above, each attempt shows here.")
        self.log_empty.setObjectName("webhook_log_empty")
        layout = QVBoxLayout(self.log_box)
        layout.addWidget(self.log_empty)
        layout.addWidget(self.log)

    # ---- actions -----------------------------------------------------------------------
    def _sync_kind(self) -> None:
        kind = self.kind.currentData()
        for widget, wanted in ((self.command, "command"), (self.token, "ngrok")):
            widget.setVisible(kind == wanted)
            label = self._form.labelForField(widget) if hasattr(self, "_form") else None
            if label is not None:
                label.setVisible(kind == wanted)
        if kind == "ngrok" and hasattr(self, "_form"):
            has = self.services.tunnel.has_ngrok_token()
            self.token.setPlaceholderText(
                "an authtoken is stored in the keyring (paste a new one to replace it)"
                if has
                else "paste your ngrok authtoken (kept in the system keyring)"
            )

    def apply(self) -> None:
        """Save the tunnel settings (the token to the keyring) and (re)start the tunnel."""
        s = self.services.settings_file.settings
        s.tunnel_kind = self.kind.currentData()
        if s.tunnel_kind == "command" and not self.command.text().strip():
            self.command.setText(DEFAULT_COMMAND)
        s.tunnel_command = self.command.text().strip()
        self.services.settings_file.save()
        token = self.token.text().strip()
        self.token.clear()

        async def go() -> None:
            if token:  # the keyring is a blocking D-Bus call: not on the GUI thread
                await asyncio.to_thread(self.services.tunnel.set_ngrok_token, token)
            await self.services.tunnel.start()

        spawn(go(), title="Start the tunnel", on_done=lambda _r: self.refresh())

    def stop_tunnel(self) -> None:
        spawn(self.services.tunnel.stop(), title="Stop the tunnel", on_done=lambda _r: self.refresh())

    def _copy(self, text: str) -> None:
        if text:
            QGuiApplication.clipboard().setText(text)

    # ---- refresh -----------------------------------------------------------------------
    def _on_changes(self, changes: Any) -> None:
        if changes.webhooks or changes.accounts or changes.everything:
            self.refresh()

    def refresh(self) -> None:
        self._refresh_tunnel()
        self._refresh_accounts()
        self._refresh_log()

    def _refresh_tunnel(self) -> None:
        services = self.services
        host = services.settings_file.settings.receiver_host or "127.0.0.1"
        status = services.reception.status()
        local = status.receiver_url or status.receiver_error or "not running"
        # By address, not spelling: 127.0.0.2 and [::1] are this computer too, 0.0.0.0 is not.
        note = "" if is_loopback(host) else f"  ⚠ listening on {host}: reachable from other computers"
        self.local_url.setText(local + note)
        self.sandbox_url.setText(status.sandbox_url or "not running (demo mode is off)")
        st = services.tunnel.status
        text, tone = STATE_TEXT.get(st.state.value, (st.state.value, "muted"))
        if st.kind == "none":
            text = "Off (no tunnel chosen)"
        colour = theme.color(tone).name()
        self.state.setText(f'<span style="color:{colour}">●</span> {text}')
        self.public_url.setText(st.public_url if st.state.value == "up" else "")
        self.public_url.setPlaceholderText("appears when the tunnel is up")
        self.copy_public.setEnabled(bool(self.public_url.text()))
        bits = []
        if st.error:
            bits.append(st.error)
        if st.restarts:
            bits.append(f"Restarted {st.restarts} time(s) after it dropped.")
        if st.state.value == "up" and st.kind == "command":
            bits.append("Quick tunnels get a new URL on every start: paste the new URL into the provider again.")
        self.detail.setText(" ".join(bits))
        self.stop_button.setEnabled(st.state.value in ("starting", "up", "down"))
        self._refresh_relay()

    def _refresh_relay(self) -> None:
        """A relay (``smsdesk serve``) on this database receives and polls; say so."""
        relay = self.services.reception.relay()
        if relay is None:
            self.relay_note.setVisible(False)
            return
        text = f"{relay.who} is receiving and polling for this database; this window shows what it records."
        tunnel, public = relay.tunnel, relay.public_url
        receiver = relay.receiver or "this computer"
        if public:
            text += " Its tunnel is up."
        elif tunnel != "none":
            text += f" Its tunnel is {tunnel}."
        else:
            text += " It has no tunnel: only this computer can reach it."
        self.relay_note.setText(text)
        # The addresses are details: in the tooltip, not the sentence.
        self.relay_note.setToolTip(f"Its receiver: {receiver}" + (f"\nIts public URL: {public}" if public else ""))
        self.relay_note.setVisible(True)

    def _refresh_accounts(self) -> None:
        accounts = self.services.accounts.all()
        answers = [(account, self.services.reception.reception(account)) for account in accounts]
        self.accounts.setRowCount(len(answers))
        self.urls.setRowCount(len(answers))
        for row, (account, r) in enumerate(answers):
            self.accounts.setItem(row, 0, QTableWidgetItem(account.name))
            how = QTableWidgetItem(r.text)
            how.setToolTip(r.detail or r.text)
            tone = ROUTE_TONE.get(r.route) or ("warn" if r.problem else "")
            if tone:
                how.setForeground(theme.color(tone))
            self.accounts.setItem(row, 1, how)
            if r.paste:  # only where a person has a URL to paste
                self.accounts.setCellWidget(row, 2, self._copy_button(account.id, r, "copy_reception"))
            else:
                self.accounts.removeCellWidget(row, 2)
            self.urls.setItem(row, 0, QTableWidgetItem(account.name))
            url_item = QTableWidgetItem(r.webhook_url or "—")
            url_item.setToolTip(r.webhook_url or "This account's provider does not call in: smsdesk asks it.")
            self.urls.setItem(row, 1, url_item)
            self.urls.setCellWidget(row, 2, self._copy_button(account.id, r, "copy_url"))
        self.urls.resizeColumnToContents(0)
        self._fit_height(self.accounts)
        notes = []
        if any("?token=" in r.webhook_url for _a, r in answers):
            notes.append(
                "The ?token= in a URL works as its password: paste the whole URL, keep it private; "
                "a delivery without it is refused (401)."
            )
        if any(self.services.accounts.spec(a).caps.webhook_signed and "?token=" in r.webhook_url for a, r in answers):
            notes.append(
                "Channel API: with a JWT secret set, reports are checked by their signed JWT; "
                "without one, only by the token in the URL."
            )
        self.auth_note.setText(" ".join(notes))
        self.auth_note.setVisible(bool(notes))

    def _copy_button(self, account_id: int, r: Reception, name: str) -> QPushButton:
        button = QPushButton("Copy URL")
        button.setObjectName(f"{name}_{account_id}")
        button.setEnabled(bool(r.webhook_url))
        button.setToolTip(r.webhook_url)
        button.clicked.connect(lambda _c=False, u=r.webhook_url: self._copy(u))
        return button

    @staticmethod
    def _fit_height(table: QTableWidget) -> None:
        """Rows as tall as their wrapped text, the table as tall as its rows: the page scrolls,
        not the table."""
        table.resizeRowsToContents()
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(rows + table.horizontalHeader().height() + 2 * table.frameWidth())

    def _refresh_log(self) -> None:
        rows = self.services.webhook_log.recent(200)
        self.log_empty.setVisible(not rows)
        self.log.setVisible(bool(rows))
        self.log.setRowCount(len(rows))
        for i, r in enumerate(rows):
            at = str(r.get("at") or "")
            processing, processing_color = _processing(r)
            cells = [
                _local_time(at),
                str(r.get("account") or "?"),
                str(r.get("outcome")),
                str(r.get("status_code")),
                processing,
                str(r.get("reason") or ""),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 2 and text in OUTCOME_TONE:
                    item.setForeground(theme.color(OUTCOME_TONE[text]))
                elif col == 4 and processing_color:
                    item.setForeground(theme.color(processing_color))
                    item.setToolTip(text)
                self.log.setItem(i, col, item)
        self.log.resizeColumnsToContents()
        self.log.horizontalHeader().setSectionResizeMode(len(LOG_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)


def _local_time(at: str) -> str:
    """A stored UTC time as this computer's local time (how every other page shows times)."""
    try:
        return datetime.fromisoformat(at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return at[:19].replace("T", " ")


def _processing(row: dict[str, object]) -> tuple[str, str]:
    """What processing made of an accepted delivery: ("failed: why", tone), or ("", "")."""
    state = row.get("processing")
    if not state or row.get("outcome") != "accepted":
        return "", ""
    text, color = PROCESSING_TEXT.get(str(state), (str(state), "muted"))
    if state == "failed" and row.get("processing_error"):
        text = f"failed: {row['processing_error']}"
    return text, color


def _table_defaults(table: QTableWidget) -> None:
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
