"""Settings -> Webhooks: the public tunnel, each account's URL to paste, and the delivery log.

What a person needs to set up a provider's callbacks: the tunnel's state (starting / up /
down) and public URL; for each account, the exact webhook URL (with its token) and whether
statuses arrive by webhook or by polling; and the recent deliveries, accepted or rejected
with the reason, to debug a provider's dashboard settings. Refreshes from the event bus
(``Changes.webhooks`` / ``accounts``); all work goes through the runtime's services.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
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
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.webhook.types import is_loopback

KINDS = [("none", "No tunnel (local only; pollable providers are polled)"), ("ngrok", "ngrok"),
         ("command", "Command (e.g. cloudflared)")]
STATE_TEXT = {
    "off": ("Off", "#7a7a7a"),
    "starting": ("Starting…", "#b8860b"),
    "up": ("Up", "#2e7d32"),
    "down": ("Down", "#c62828"),
}
OUTCOME_COLOR = {"accepted": "#2e7d32", "duplicate": "#7a7a7a", "rejected": "#c62828"}
# What processing made of an accepted delivery (webhook_events.state), in words.
PROCESSING_TEXT = {
    "pending": ("processing…", "#7a7a7a"),
    "processed": ("processed", "#2e7d32"),
    "waiting": ("waiting for its message", "#b8860b"),
    "failed": ("failed", "#c62828"),
}
LOG_COLUMNS = ["Time", "Account", "Result", "HTTP", "Processing", "Reason"]
DEFAULT_COMMAND = "cloudflared tunnel --no-autoupdate --url {local}"


class WebhooksSettingsView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rt = ctx.rt
        self._build_tunnel_box()
        self._build_accounts_box()
        self._build_log_box()
        layout = QVBoxLayout(self)
        layout.addWidget(self.tunnel_box)
        layout.addWidget(self.accounts_box, 3)
        layout.addWidget(self.log_box, 3)
        ctx.bridge.sig_changed.connect(self._on_changes)
        self.refresh()

    # ---- building ----------------------------------------------------------------------
    def _build_tunnel_box(self) -> None:
        s = self.rt.settings
        self.tunnel_box = QGroupBox("Receiver and public tunnel")
        self.local_url = QLabel()
        self.local_url.setObjectName("local_url")
        self.local_url.setWordWrap(True)  # a receiver error can be long: wrap, never widen the window
        self.local_url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.detail.setWordWrap(True)
        self.relay_note = QLabel()
        self.relay_note.setObjectName("relay_note")
        self.relay_note.setWordWrap(True)
        form = QFormLayout(self.tunnel_box)
        form.addRow("Receiver (this computer)", self.local_url)
        form.addRow("Tunnel", self.kind)
        form.addRow("Command", self.command)
        form.addRow("ngrok authtoken", self.token)
        form.addRow("", buttons)
        form.addRow("State", self.state)
        form.addRow("Public URL", public_row)
        form.addRow("", self.detail)
        form.addRow("", self.relay_note)
        self._form = form
        self._sync_kind()

    def _build_accounts_box(self) -> None:
        self.accounts_box = QGroupBox("Webhook URL for each account (paste it in the provider's dashboard)")
        self.accounts = QTableWidget(0, 4)
        self.accounts.setObjectName("account_urls")
        self.accounts.setHorizontalHeaderLabels(["Account", "Statuses and replies", "Webhook URL", ""])
        _table_defaults(self.accounts)
        self.accounts.setWordWrap(False)  # a long token URL is elided; the tooltip and Copy have it all
        self.accounts.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.accounts.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.auth_note = QLabel()
        self.auth_note.setObjectName("auth_note")
        self.auth_note.setWordWrap(True)
        layout = QVBoxLayout(self.accounts_box)
        layout.addWidget(self.accounts)
        layout.addWidget(self.auth_note)

    def _build_log_box(self) -> None:
        self.log_box = QGroupBox("Recent deliveries")
        self.log = QTableWidget(0, len(LOG_COLUMNS))
        self.log.setObjectName("webhook_log")
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
            has = self.rt.tunnel.has_ngrok_token()
            self.token.setPlaceholderText(
                "an authtoken is stored in the keyring (paste a new one to replace it)" if has
                else "paste your ngrok authtoken (kept in the system keyring)"
            )

    def apply(self) -> None:
        """Save the tunnel settings (the token to the keyring) and (re)start the tunnel."""
        s = self.rt.settings
        s.tunnel_kind = self.kind.currentData()
        if s.tunnel_kind == "command" and not self.command.text().strip():
            self.command.setText(DEFAULT_COMMAND)
        s.tunnel_command = self.command.text().strip()
        self.rt.save_settings()
        token = self.token.text().strip()
        self.token.clear()

        async def go() -> None:
            if token:  # the keyring is a blocking D-Bus call: not on the GUI thread
                await asyncio.to_thread(self.rt.tunnel.set_ngrok_token, token)
            await self.rt.tunnel.start()

        spawn(go(), title="Start the tunnel", on_done=lambda _r: self.refresh())

    def stop_tunnel(self) -> None:
        spawn(self.rt.tunnel.stop(), title="Stop the tunnel", on_done=lambda _r: self.refresh())

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
        rt = self.rt
        host = rt.settings.receiver_host or "127.0.0.1"
        local = rt.status.receiver_url or rt.status.receiver_error or "not running"
        # By address, not spelling: 127.0.0.2 and [::1] are this computer too, 0.0.0.0 is not.
        note = "" if is_loopback(host) else f"  ⚠ listening on {host}: reachable from other computers"
        self.local_url.setText(local + note)
        st = rt.tunnel.status
        text, color = STATE_TEXT.get(st.state.value, (st.state.value, "#7a7a7a"))
        if st.kind == "none":
            text = "Off (no tunnel chosen)"
        self.state.setText(f'<span style="color:{color}">●</span> {text}')
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
        rt = self.rt
        relay = rt.watch.relay if not rt.is_relay else None
        if relay is None:
            self.relay_note.setVisible(False)
            return
        text = f"{rt.watch.relay_text()} is receiving and polling for this database; this window shows what it records."
        tunnel, public = relay.get("tunnel") or "none", relay.get("public_url") or ""
        if public:
            text += f" Its tunnel is up: {public}"
        elif tunnel != "none":
            text += f" Its tunnel is {tunnel}."
        else:
            text += f" It has no tunnel; it listens on {relay.get('receiver') or 'this computer'}."
        self.relay_note.setText(text)
        self.relay_note.setVisible(True)

    def _refresh_accounts(self) -> None:
        rt = self.rt
        accounts = rt.accounts.all()
        relay = rt.watch.relay_text() if not rt.is_relay else ""
        self.accounts.setRowCount(len(accounts))
        for row, account in enumerate(accounts):
            public = bool(rt.accounts.public_base.get(account.id))
            url = rt.accounts.webhook_url(account, public=public)
            caps = rt.accounts.spec(account).caps
            poll = rt.polling.state.get(account.id)
            if account.provider == "sandbox":
                how = "Webhook (built-in sandbox, on this computer)"
            elif not caps.webhooks:
                how = "Polling (the provider has no webhooks)"
            elif public:
                how = "Webhook through the relay's tunnel" if relay and not rt.tunnel.is_up() else "Webhook through the tunnel"
            elif relay and (caps.status_poll or caps.inbound_poll):
                how = f"Polled by {relay}"
            elif caps.status_poll or caps.inbound_poll:
                how = "Polling until a tunnel is up"
            else:
                how = "Webhook: needs a tunnel (local URL only)"
            if poll is not None and poll.last_error:
                how += f" — last poll failed: {poll.last_error}"
            self.accounts.setItem(row, 0, QTableWidgetItem(account.name))
            self.accounts.setItem(row, 1, QTableWidgetItem(how))
            url_item = QTableWidgetItem(url if caps.webhooks or account.provider == "sandbox" else "—")
            url_item.setToolTip(url)
            self.accounts.setItem(row, 2, url_item)
            button = QPushButton("Copy URL")
            button.setObjectName(f"copy_url_{account.id}")
            button.setEnabled(bool(caps.webhooks))
            button.clicked.connect(lambda _c=False, u=url: self._copy(u))
            self.accounts.setCellWidget(row, 3, button)
        self.accounts.resizeColumnToContents(0)
        self.accounts.resizeColumnToContents(1)
        notes = []
        if any(a.settings.get("webhook_token") for a in accounts):
            notes.append("The ?token= in a URL works as its password: paste the whole URL, keep it private; "
                         "a delivery without it is refused (401).")
        if any(a.provider == "channel" for a in accounts):
            notes.append("Channel API: with a JWT secret set, reports are checked by their signed JWT; "
                         "without one, only by the token in the URL.")
        self.auth_note.setText(" ".join(notes))
        self.auth_note.setVisible(bool(notes))

    def _refresh_log(self) -> None:
        rows = self.rt.webhooks.recent(200)
        self.log_empty.setVisible(not rows)
        self.log.setVisible(bool(rows))
        self.log.setRowCount(len(rows))
        for i, r in enumerate(rows):
            at = str(r.get("at") or "")
            processing, processing_color = _processing(r)
            cells = [_local_time(at), str(r.get("account") or "?"), str(r.get("outcome")),
                     str(r.get("status_code")), processing, str(r.get("reason") or "")]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 2:
                    item.setForeground(QColor(OUTCOME_COLOR.get(text, "#000000")))
                elif col == 4 and processing_color:
                    item.setForeground(QColor(processing_color))
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
    """What processing made of an accepted delivery: ("failed: why", colour), or ("", "")."""
    state = row.get("processing")
    if not state or row.get("outcome") != "accepted":
        return "", ""
    text, color = PROCESSING_TEXT.get(str(state), (str(state), "#7a7a7a"))
    if state == "failed" and row.get("processing_error"):
        text = f"failed: {row['processing_error']}"
    return text, color


def _table_defaults(table: QTableWidget) -> None:
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
