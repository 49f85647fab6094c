"""The main window: navigation on the left, one page at a time, receiver/sandbox state below.

Pages are built on first visit (start-up shows Compose without building the rest).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from smsdesk.domain.events import Changes
from smsdesk.ui import aio, theme
from smsdesk.ui.context import UiContext
from smsdesk.ui.notifier import InboxNotifier
from smsdesk.ui.pages import PAGES, PageSpec


class MainWindow(QMainWindow):
    sig_closed = Signal()

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("smsdesk")
        self.resize(1100, 720)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(180)
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setStyleSheet("QListWidget#nav::item { padding: 8px 10px; }")
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        self._specs: list[PageSpec] = list(PAGES)
        self._badges: dict[str, int] = {}
        for i, spec in enumerate(self._specs):
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(f"{spec.title} ({spec.shortcut})")
            self.nav.addItem(item)
            placeholder = QWidget()
            self.stack.addWidget(placeholder)
            QShortcut(QKeySequence(spec.shortcut), self, activated=lambda i=i: self.nav.setCurrentRow(i))
        self.nav.currentRowChanged.connect(self._show_row)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.receiver_label = QLabel()
        self.receiver_label.setObjectName("receiver_state")
        self.sandbox_label = QLabel()
        self.sandbox_label.setObjectName("sandbox_state")
        # Sends held for confirmation (due while smsdesk was closed) are announced whatever page
        # shows: the Scheduled page's own banner is only seen by someone who opens that page.
        self.held_label = QLabel()
        self.held_label.setObjectName("held_state")
        self.held_label.setTextFormat(Qt.TextFormat.RichText)
        self.held_label.setStyleSheet("color: #8a5300;")
        self.held_label.linkActivated.connect(lambda _link: self.show_page("scheduled"))
        self.held_label.hide()
        # A relay (smsdesk serve) on this database receives and polls for this window too.
        self.relay_label = QLabel()
        self.relay_label.setObjectName("relay_state")
        self.relay_label.setStyleSheet("color: #1b7f3b;")
        self.relay_label.hide()
        self.statusBar().addPermanentWidget(self.held_label)
        self.statusBar().addPermanentWidget(self.relay_label)
        self.statusBar().addPermanentWidget(self.receiver_label)
        self.statusBar().addPermanentWidget(self.sandbox_label)
        self._build_menu()
        aio.set_error_reporter(self.show_error)
        ctx.bridge.sig_changed.connect(self._on_changes)
        ctx.rt.watch.on_relay_change(lambda _relay: self.refresh_status())
        self.notifier = InboxNotifier(ctx, self)  # replies notified and counted whatever page shows
        self.nav.setCurrentRow(0)
        self.refresh_status()
        self.refresh_held()

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self._build_view_menu()
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About smsdesk", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def _build_view_menu(self) -> None:
        """View -> Theme: follow the system, light or dark (saved in the settings)."""
        manager = theme.ensure(self.ctx)
        theme_menu = self.menuBar().addMenu("&View").addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for mode in theme.MODES:
            action = QAction(theme.MODE_LABELS[mode], self, checkable=True)
            action.setChecked(mode == manager.mode)
            action.triggered.connect(lambda _checked=False, m=mode: theme.ensure(self.ctx).set_mode(m))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action
        manager.sig_mode_changed.connect(self._on_theme_mode_changed)

    def _on_theme_mode_changed(self, mode: str) -> None:
        self.theme_actions[mode].setChecked(True)

    # ---- pages -------------------------------------------------------------------------
    def page(self, key: str) -> QWidget:
        """The page for ``key``, built on first use."""
        row = next(i for i, s in enumerate(self._specs) if s.key == key)
        return self._ensure(row)

    def show_page(self, key: str) -> QWidget:
        row = next(i for i, s in enumerate(self._specs) if s.key == key)
        self.nav.setCurrentRow(row)
        return self._ensure(row)

    def _ensure(self, row: int) -> QWidget:
        spec = self._specs[row]
        widget = self.pages.get(spec.key)
        if widget is None:
            widget = spec.factory(self.ctx)
            widget.setObjectName(widget.objectName() or f"page_{spec.key}")
            old = self.stack.widget(row)
            self.stack.insertWidget(row, widget)
            self.stack.removeWidget(old)
            old.deleteLater()
            self.pages[spec.key] = widget
        return widget

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        widget = self._ensure(row)
        self.stack.setCurrentWidget(widget)

    def set_badge(self, key: str, count: int) -> None:
        """Show a count beside a navigation entry (e.g. unread conversations)."""
        self._badges[key] = count
        for i, spec in enumerate(self._specs):
            if spec.key == key:
                item = self.nav.item(i)
                item.setText(f"{spec.title}  ({count})" if count else spec.title)

    # ---- status ------------------------------------------------------------------------
    def refresh_status(self) -> None:
        st = self.ctx.rt.status
        relay = "" if self.ctx.rt.is_relay else self.ctx.rt.watch.relay_text()
        self.relay_label.setVisible(bool(relay))
        self.relay_label.setText(f"Relay: {relay} receives and polls" if relay else "")
        self.relay_label.setToolTip(
            "Receipts and replies for this data folder arrive through the relay; this window shows "
            "what it records as it happens." if relay else "")
        if st.receiver_error:
            self.receiver_label.setText("Receiver: stopped")
            self.receiver_label.setToolTip(st.receiver_error)
            self.receiver_label.setStyleSheet("color: #b3261e;")
        elif st.receiver_url:
            self.receiver_label.setText(f"Receiver: listening on {st.receiver_url}")
            self.receiver_label.setStyleSheet("color: #1b7f3b;")
        else:
            self.receiver_label.setText("Receiver: starting…")
        if st.sandbox_error:
            self.sandbox_label.setText("Sandbox: failed")
            self.sandbox_label.setToolTip(st.sandbox_error)
            self.sandbox_label.setStyleSheet("color: #b3261e;")
        elif st.sandbox_url:
            self.sandbox_label.setText(f"Sandbox: running at {st.sandbox_url}")
            self.sandbox_label.setStyleSheet("color: #1b7f3b;")
        else:
            self.sandbox_label.setText("Sandbox: off")
            self.sandbox_label.setStyleSheet("")

    def refresh_held(self) -> None:
        """A badge on "Scheduled" and a status-bar link while sends wait for confirmation."""
        held = self.ctx.rt.scheduler.held_count()
        self.set_badge("scheduled", held)
        sends = f"{held} scheduled send{'s' if held != 1 else ''}"
        tip = (f"{sends} fell due while smsdesk was not running and {'wait' if held != 1 else 'waits'} for "
               "your confirmation: open Scheduled, then Send now or Skip run.") if held else ""
        for i, spec in enumerate(self._specs):
            if spec.key == "scheduled":
                self.nav.item(i).setToolTip(tip or f"{spec.title} ({spec.shortcut})")
        self.held_label.setVisible(held > 0)
        self.held_label.setText(f'<a href="scheduled">{sends} held</a> for your confirmation' if held else "")
        self.held_label.setToolTip(tip)

    def _on_changes(self, changes: Changes) -> None:
        if changes.accounts or changes.everything:
            self.refresh_status()
        if (changes.queue or changes.everything) and self.isVisible():
            # Not once the window is closed: the runtime (and its database) may be stopping.
            self.refresh_held()

    # ---- dialogs (never exec(): see ui/aio.py) -----------------------------------------
    def show_error(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setObjectName("error_dialog")
        box.open()

    def show_about(self) -> None:
        # Imported on demand: the dialog reads every installed package's metadata.
        from smsdesk.ui.views.about_dialog import AboutDialog

        box = AboutDialog(self.ctx.rt.paths.home, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        aio.set_error_reporter(None)
        super().closeEvent(event)
        self.sig_closed.emit()
