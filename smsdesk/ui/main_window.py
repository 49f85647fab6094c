"""The main window: navigation on the left, one page at a time, a plain status line below.

Pages are built on first visit (start-up shows Compose without building the rest). In demo
mode a notice at the top says that messages go to a simulated provider and reach no phone,
with a button to connect a real provider, until the person dismisses it (remembered). The
status bar says in words whether replies come in ("Demo mode · receiving replies"); the
addresses and ports are in its tooltip and in Settings -> Webhooks.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.errors import StorageError
from smsdesk.domain.events import Changes
from smsdesk.ui import aio, theme
from smsdesk.ui.context import UiContext
from smsdesk.ui.notifier import InboxNotifier
from smsdesk.ui.pages import PAGES, PageSpec
from smsdesk.ui.widgets.labels import waiting_for_store

NAME_ROOM = 24  # characters of an account's name the status line can take


class MainWindow(QMainWindow):
    sig_closed = Signal()

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._services_up = False  # until services_ready(): pages wait to read what the services hold
        self._painted = False  # until painted(): pages leave out what the first paint need not wait for
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
            QShortcut(QKeySequence(spec.shortcut), self).activated.connect(lambda i=i: self.nav.setCurrentRow(i))
        self.nav.currentRowChanged.connect(self._show_row)

        self._build_demo_notice()
        pages = QHBoxLayout()
        pages.setContentsMargins(0, 0, 0, 0)
        pages.setSpacing(0)
        pages.addWidget(self.nav)
        pages.addWidget(self.stack, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        # The banners above the pages, hidden until needed (styled when first shown: nothing
        # extra before the first paint). One layout holds them: a hidden banner takes no room,
        # and with none showing the pages start right under the menu bar (an empty layout is
        # skipped whole, margins and spacing included).
        layout.setSpacing(4)
        banners = QVBoxLayout()
        banners.setContentsMargins(8, 8, 8, 0)
        banners.setSpacing(4)
        layout.addLayout(banners)
        # Demo mode; a provider's balance below the account's warning level (Send-2 reports
        # it); the database out of reach (a workspace's server restarting, the network gone);
        # on a workspace, queued messages no running relay can send (none runs, or none holds
        # an account's keys), read again shortly after changes and every few seconds (a relay
        # that stopped is noticed by its missing heartbeat, not by a change).
        banners.addWidget(self.demo_notice)
        self.balance_notice = _banner(banners, "low_balance_notice")
        self.store_notice = _banner(banners, "store_notice")
        self.waiting_notice = _banner(banners, "waiting_notice")
        self._waiting_timer = QTimer(self, singleShot=True, interval=1500)
        self._waiting_timer.timeout.connect(self.refresh_waiting_notice)
        self._waiting_poll = QTimer(self, interval=10_000)
        self._waiting_poll.timeout.connect(self.refresh_waiting_notice)
        layout.addLayout(pages, 1)
        self.setCentralWidget(central)

        # One plain line ("Demo mode · receiving replies"); addresses are in its tooltip.
        self.state_label = QLabel()
        self.state_label.setObjectName("app_state")
        self.state_label.setTextFormat(Qt.TextFormat.RichText)
        self.state_label.linkActivated.connect(lambda _link: self.show_settings("webhooks"))
        # Sends held for confirmation (due while smsdesk was closed) are announced whatever page
        # shows: the Scheduled page's own banner is only seen by someone who opens that page.
        self.held_label = QLabel()
        self.held_label.setObjectName("held_state")
        self.held_label.setTextFormat(Qt.TextFormat.RichText)
        theme.set_tone(self.held_label, "warn")
        self.held_label.linkActivated.connect(lambda _link: self.show_page("scheduled"))
        self.held_label.hide()
        # A relay (smsdesk serve) on this database receives and polls for this window too.
        self.relay_label = QLabel()
        self.relay_label.setObjectName("relay_state")
        theme.set_tone(self.relay_label, "ok")
        self.relay_label.hide()
        self.statusBar().addPermanentWidget(self.held_label)
        self.statusBar().addPermanentWidget(self.relay_label)
        self.statusBar().addPermanentWidget(self.state_label)
        self._build_menu()
        aio.set_error_reporter(self.show_error, quiet=self._said_by_banner)
        ctx.bridge.sig_changed.connect(self._on_changes)
        self.notifier = InboxNotifier(ctx, self)  # replies notified and counted whatever page shows
        self.nav.setCurrentRow(0)
        self.refresh_status()
        if ctx.services.waiting_for_store:  # a workspace that did not answer at start-up
            self.refresh_store_notice()

    def painted(self) -> None:
        """The first paint is on screen (``app.paint_first``): pages fill in what it left out
        (Compose's Account box: reading it imports the accounts service and the providers'
        specs, ~25 ms the window need not wait for). Key presses wait in Qt's queue meanwhile."""
        self._painted = True
        for page in self.pages.values():
            _tell(page, "painted")

    def services_ready(self) -> None:
        """The runtime's services have started: fill what reads them (the status line, the held
        sends, the unread badge, a low balance). Until then the status line says "Starting…",
        so the first paint waits for none of them."""
        if not self._painted:  # a window that was never shown on its own (tests, benches)
            self.painted()
        self._services_up = True
        for page in self.pages.values():
            _tell(page, "services_ready")
        self.notifier.start()
        self.refresh_status()
        self.refresh_held()
        self.refresh_balance_notice()
        if self.ctx.services.accounts.keys_per_computer:  # a team workspace: relays send
            self._waiting_poll.start()
            self.refresh_waiting_notice()

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

    def focus_compose(self) -> None:
        """Put the cursor in Compose's To box (at start: ready to type at once)."""
        target = getattr(self.page("compose"), "to", None)
        if isinstance(target, QWidget):
            target.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def show_page(self, key: str) -> QWidget:
        row = next(i for i, s in enumerate(self._specs) if s.key == key)
        self.nav.setCurrentRow(row)
        return self._ensure(row)

    def _ensure(self, row: int) -> QWidget:
        spec = self._specs[row]
        widget = self.pages.get(spec.key)
        if widget is None:
            try:
                widget = spec.factory(self.ctx)
            except StorageError:
                if self.ctx.services.health.ok:
                    raise
                # Built from the database, which does not answer: a stand-in says so, and the
                # page is built when it answers again (or the next time it is asked for).
                return self._unbuilt(row)
            widget.setObjectName(widget.objectName() or f"page_{spec.key}")
            old = self.stack.widget(row)  # the empty stand-in made in __init__
            self.stack.insertWidget(row, widget)
            if old is not None:
                self.stack.removeWidget(old)
                old.deleteLater()
            self.pages[spec.key] = widget
            if self._painted:
                _tell(widget, "painted")
            if self._services_up:
                _tell(widget, "services_ready")
        return widget

    def _unbuilt(self, row: int) -> QWidget:
        stand_in = self.stack.widget(row)
        if stand_in is not None and stand_in.layout() is None:
            QVBoxLayout(stand_in).addWidget(waiting_for_store(self._specs[row].title, "page_waiting"))
        return stand_in or QWidget()

    def _build_missing_page(self) -> None:
        """Back from an outage: build the page in front if it could not be built meanwhile."""
        row = self.nav.currentRow()
        if 0 <= row < len(self._specs) and self._specs[row].key not in self.pages:
            self._show_row(row)

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
        """The status line in words; the tooltip has each account's reception and the addresses."""
        if not self._services_up:
            held_up = self.ctx.services.waiting_for_store
            self.state_label.setText("Waiting for the workspace…" if held_up else "Starting…")
            return
        services = self.ctx.services
        st = services.reception.status()
        found = services.reception.relay()
        relay = found.who if found is not None else ""
        self.relay_label.setVisible(bool(relay))
        self.relay_label.setText(f"Relay: {relay} receives and polls" if relay else "")
        self.relay_label.setToolTip(
            "Receipts and replies for this data folder arrive through the relay; this window shows "
            "what it records as it happens."
            if relay
            else ""
        )
        url, error, sandbox = st.receiver_url, st.receiver_error, st.sandbox_url
        parts: list[str] = []
        tips: list[str] = []
        tone = ""
        if sandbox:
            parts.append("Demo mode")
            tips.append("Demo mode: messages go to the built-in sandbox, a simulated provider; no phone gets them.")
        elif st.sandbox_error:
            parts.append("Demo mode: the sandbox did not start")
            tips.append(st.sandbox_error)
            tone = "error"
        if error:
            parts.append("not receiving replies")
            tips.append(error)
            tone = "error"
        elif not url and not relay:
            parts.append("starting…")
        else:
            answers = [(a.name, services.reception.reception(a)) for a in services.accounts.all()]
            from smsdesk.services.reception import Route  # loaded with the services by now

            waiting = [name for name, r in answers if r.route == Route.NOT_YET]
            if waiting:
                # A long name would widen the window (a status bar never wraps): then a count.
                short = len(waiting) == 1 and len(waiting[0]) <= NAME_ROOM
                who = waiting[0] if short else f"{len(waiting)} account{'s' if len(waiting) > 1 else ''}"
                words = f"replies not set up for {who}"
                if not parts:
                    words = words[:1].upper() + words[1:]
                parts.append(f'<a href="webhooks">{_html(words)}</a>')
                tone = tone or "warn"
            else:
                parts.append("receiving replies")
            tips.extend(f"{name}: {r.text}" for name, r in answers)
        if url:
            tips.append(f"Receiver: {url} (on this computer)")
        if sandbox:
            tips.append(f"Built-in sandbox: {sandbox}")
        text = " · ".join(parts)
        self.state_label.setText(text if text.startswith("<") else text[:1].upper() + text[1:])
        self.state_label.setToolTip("\n".join(tips) + "\n\nMore in Settings → Webhooks.")
        theme.set_tone(self.state_label, tone or ("ok" if url else ""))
        self._refresh_demo_notice(bool(sandbox))

    # ---- the demo-mode notice --------------------------------------------------------------
    def _build_demo_notice(self) -> None:
        """An empty frame until demo mode is first shown (:meth:`_fill_demo_notice`): its
        rich-text label and buttons are nothing the first paint needs."""
        self.demo_notice = QFrame()
        self.demo_notice.setObjectName("demo_notice")
        self.demo_notice.hide()

    def _fill_demo_notice(self) -> None:
        text = QLabel(
            "<b>This is demo mode.</b> Messages you send go to a simulated provider on this computer "
            "and reach no phone; some of its pretend recipients reply, so you can try everything safely."
        )
        text.setObjectName("demo_notice_text")
        text.setWordWrap(True)
        self.connect_button = QPushButton("Connect a real provider…")
        self.connect_button.setObjectName("connect_provider")
        self.connect_button.setToolTip("Add your SMS provider's account (Settings → Accounts)")
        self.connect_button.clicked.connect(self.connect_provider)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setObjectName("dismiss_demo_notice")
        self.dismiss_button.setToolTip("Hide this notice for good (the status bar still says Demo mode)")
        self.dismiss_button.clicked.connect(self.dismiss_demo_notice)
        row = QHBoxLayout(self.demo_notice)
        row.setContentsMargins(12, 8, 12, 8)
        row.addWidget(text, 1)
        row.addWidget(self.connect_button)
        row.addWidget(self.dismiss_button)
        theme.set_banner(self.demo_notice, "info")

    def _refresh_demo_notice(self, demo: bool) -> None:
        show = demo and not self.ctx.services.settings_file.settings.demo_notice_dismissed
        if show and self.demo_notice.layout() is None:
            self._fill_demo_notice()
        self.demo_notice.setVisible(show)

    def dismiss_demo_notice(self) -> None:
        """Hide the demo notice, and remember it (settings.toml)."""
        self.ctx.services.settings_file.settings.demo_notice_dismissed = True
        self.ctx.services.settings_file.save()
        self.demo_notice.hide()

    def connect_provider(self) -> None:
        """Open Settings -> Accounts on a new account's form."""
        accounts = self.show_settings("accounts")
        new_account = getattr(accounts, "new_account", None)
        if new_account is not None:
            new_account()

    def show_settings(self, tab: str) -> QWidget | None:
        """Show Settings at ``tab`` (accounts, webhooks, general); returns that tab's widget."""
        settings = self.show_page("settings")
        show_tab = getattr(settings, "show_tab", None)
        if show_tab is None:
            return None
        show_tab(tab)
        by_key: dict[str, QWidget] = getattr(settings, "by_key", {})
        return by_key.get(tab)

    def refresh_held(self) -> None:
        """A badge on "Scheduled" and a status-bar link while sends wait for confirmation."""
        held = self.ctx.services.scheduler.held_count()
        self.set_badge("scheduled", held)
        sends = f"{held} scheduled send{'s' if held != 1 else ''}"
        tip = (
            (
                f"{sends} fell due while smsdesk was not running and {'wait' if held != 1 else 'waits'} for "
                "your confirmation: open Scheduled, then Send now, Skip run or Cancel."
            )
            if held
            else ""
        )
        for i, spec in enumerate(self._specs):
            if spec.key == "scheduled":
                self.nav.item(i).setToolTip(tip or f"{spec.title} ({spec.shortcut})")
        self.held_label.setVisible(held > 0)
        self.held_label.setText(f'<a href="scheduled">{sends} held</a> for your confirmation' if held else "")
        self.held_label.setToolTip(tip)

    @aio.redraw_slot
    def _on_changes(self, changes: Changes) -> None:
        if changes.connection:
            self.refresh_store_notice()
            if self.ctx.services.health.ok:
                self._build_missing_page()
        if not self._services_up:
            self.refresh_status()
            return  # services_ready() reads everything once they are
        # ``webhooks`` also announces a relay (smsdesk serve) appearing, changing or going away.
        if (changes.accounts or changes.webhooks or changes.everything) and self.isVisible():
            self.refresh_status()
        if (changes.balances or changes.accounts or changes.everything) and self.isVisible():
            self.refresh_balance_notice()
        if not self.ctx.services.health.ok:
            return  # nothing can be read; the catch-up once back redraws everything
        if self._waiting_poll.isActive() and (
            changes.queue or changes.message_ids or changes.webhooks or changes.accounts or changes.everything
        ):
            self._waiting_timer.start()
        if (changes.queue or changes.everything) and self.isVisible():
            # Not once the window is closed: the runtime (and its database) may be stopping.
            self.refresh_held()

    def refresh_store_notice(self) -> None:
        """Say since when the database has been out of reach (hidden while it answers)."""
        words = self.ctx.services.health.words()
        if words and self.store_notice.property("banner") is None:
            theme.set_banner(self.store_notice, "error")
        self.store_notice.setText(words)
        self.store_notice.setVisible(bool(words))

    @aio.redraw_slot
    def refresh_waiting_notice(self) -> None:
        """Say which queued messages wait for a relay, and why (hidden when none waits)."""
        if not self.isVisible() or not self.ctx.services.health.ok:
            return
        words = " ".join(self.ctx.services.reception.waiting_for_relay())
        if words and self.waiting_notice.property("banner") is None:
            theme.set_banner(self.waiting_notice, "warn")
        self.waiting_notice.setText(words)
        self.waiting_notice.setVisible(bool(words))

    def _said_by_banner(self, exc: BaseException) -> bool:
        """A storage failure while the banner says the database is out of reach: no dialog."""
        return isinstance(exc, StorageError) and not self.ctx.services.health.ok

    def refresh_balance_notice(self) -> None:
        """Say which accounts' balances are below their warning level (hidden when none is)."""
        low = list(self.ctx.services.balances.low.values())
        if low and self.balance_notice.property("banner") is None:
            theme.set_banner(self.balance_notice, "warn")
        self.balance_notice.setText(" ".join(low))
        self.balance_notice.setVisible(bool(low))

    # ---- dialogs (never exec(): see ui/aio.py) -----------------------------------------
    def show_error(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setObjectName("error_dialog")
        box.open()

    def show_about(self) -> None:
        # Imported on demand: the dialog reads every installed package's metadata.
        from smsdesk.ui.views.about_dialog import AboutDialog

        box = AboutDialog(self.ctx.services.startup.data_folder, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        keep_unsent = getattr(self.pages.get("compose"), "keep_unsent", None)
        if keep_unsent is not None:
            keep_unsent()  # a message typed and not sent comes back at the next start
        aio.set_error_reporter(None)
        super().closeEvent(event)
        self.sig_closed.emit()


def _banner(layout: QVBoxLayout, name: str) -> QLabel:
    """A hidden, word-wrapped banner added to the window's banners."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setContentsMargins(10, 6, 10, 6)  # the text clear of the banner's border
    label.hide()
    layout.addWidget(label)
    return label


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tell(page: QWidget, news: str) -> None:
    """Tell ``page`` the window's news if it listens for it: ``painted`` (the first paint is on
    screen) or ``services_ready`` (the runtime's services are up: Compose's sent list)."""
    listener = getattr(page, news, None)
    if callable(listener):
        listener()
