"""The composition root: builds every concrete object of one smsdesk process and wires them.

``app.py`` (the window) and ``cli`` both build a :class:`Runtime`; nothing else constructs
services. It holds no rules of its own: each collaborator is handed to the services that use it
when they are built, and they talk through the event bus after that.

Lifecycle: :meth:`Runtime.open` opens the data folder, the settings and the store (no sockets);
``await start()`` starts the webhook receiver (its own thread), the built-in sandbox in demo
mode (its own thread), the dispatcher and the other loops (on the caller's event loop), and the
relay's part (:mod:`smsdesk.services.relay`); ``await stop()`` undoes it in reverse.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smsdesk.config.paths import Paths, resolve
from smsdesk.config.privacy import PrivacyReport
from smsdesk.config.secrets import SecretStore
from smsdesk.config.settings import SettingsFile
from smsdesk.domain.autoreply import BusinessHours
from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account
from smsdesk.providers._http import make_client
from smsdesk.services import backup as backups
from smsdesk.services.accounts import SANDBOX_SEED, AccountService
from smsdesk.services.autoreplies import AutoReplyService, business_hours
from smsdesk.services.balance import BalanceWatch
from smsdesk.services.bulk_send import BulkSendService
from smsdesk.services.bus import EventBus
from smsdesk.services.changewatch import ChangeWatch
from smsdesk.services.contacts import ContactService
from smsdesk.services.conversations import ConversationService
from smsdesk.services.dispatcher import Dispatcher
from smsdesk.services.groups import GroupService
from smsdesk.services.inbound import InboundService
from smsdesk.services.optouts import OptOutService
from smsdesk.services.polling import PollingService
from smsdesk.services.receiver_host import ReceiverHost
from smsdesk.services.reception import ReceptionService
from smsdesk.services.relay import RelayService
from smsdesk.services.review import ReviewService
from smsdesk.services.sandbox_host import SandboxHostService
from smsdesk.services.schedule_policy import business_zone, local_zone_name
from smsdesk.services.scheduler import SchedulerService
from smsdesk.services.send import SendService
from smsdesk.services.spending import SpendGuard
from smsdesk.services.templates import TemplateService
from smsdesk.services.tunnel import TunnelService
from smsdesk.services.webhook_intake import WebhookIntakeService
from smsdesk.storage.api import BackupStore
from smsdesk.storage.sqlite_store import SqliteStore

if TYPE_CHECKING:
    from smsdesk.receiver.receiver import ReceiverThread
    from smsdesk.sandbox import SandboxThread
    from smsdesk.services.reports import ReportService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StartupReport:
    """What opening the data folder found, for a notice in the window.

    Attributes:
        privacy: what was made private (and whether a folder the person chose is open to others).
        restored: a restore staged in Settings -> Data and done at this start, or None.
        restore_error: why a staged restore still waits, or "".
    """

    privacy: PrivacyReport
    restored: backups.RestoreResult | None = None
    restore_error: str = ""


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    """Where this process's receiver and sandbox run, or why they do not (a snapshot)."""

    receiver_url: str = ""
    receiver_error: str = ""
    sandbox_url: str = ""
    sandbox_error: str = ""


class Runtime:
    """Everything one smsdesk process runs. Build with :meth:`open`."""

    def __init__(
        self,
        paths: Paths,
        settings_file: SettingsFile,
        store: SqliteStore,
        secrets: SecretStore,
        startup: StartupReport,
    ) -> None:
        self.paths = paths
        self.settings_file = settings_file
        self.settings = settings = settings_file.settings
        self.store = store
        self.secrets = secrets
        self.startup = startup
        self.bus = bus = EventBus()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.watch = ChangeWatch(store.changes, bus)
        self.accounts = AccountService(store.accounts, secrets, bus, make_client, self._webhook_base)
        self.watch.on_foreign_accounts(self.accounts.forget_adapters)
        self.optouts = OptOutService(store.optouts, bus, self.accounts, settings)
        self.dispatcher = Dispatcher(store.claims, store.messages, self.accounts, bus, optout_sync=self.optouts)
        self.spending = SpendGuard(store.reports, self.accounts, lambda: business_zone(settings))
        self.sending = SendService(
            store.messages, store.optouts, self.accounts, bus, settings, outbox=self.dispatcher, spending=self.spending
        )
        self.contacts = ContactService(store.contacts, bus, settings)
        self.groups = GroupService(store.groups, self.contacts, store.optouts, bus)
        self.templates = TemplateService(store.templates, bus)
        self.scheduler = SchedulerService(
            store.schedules, self.accounts, self.sending, bus, settings, self.dispatcher, groups=self.groups
        )
        self.bulk_send = BulkSendService(
            store.bulk_sends, self.accounts, bus, self.dispatcher, self.scheduler, spending=self.spending
        )
        self.review = ReviewService(store.review, self.accounts, bus, outbox=self.dispatcher)
        self.autoreplies = AutoReplyService(
            store.autoreplies,
            store.messages,
            self.accounts,
            self.contacts,
            self.groups,
            bus,
            self._business,
            outbox=self.dispatcher,
            spending=self.spending,
        )
        self.balances = BalanceWatch(self.accounts, bus)
        bus.subscribe(self.balances.on_changes)
        self.inbound = InboundService(
            store.inbound,
            store.webhook_events,
            self.accounts,
            bus,
            own_replies=self.watch.local_replies,
            optout_sync=self.optouts,
            auto_replies=self.autoreplies,
        )
        self.webhook_intake = WebhookIntakeService(store.webhook_events, self.accounts, bus, self.inbound)
        self.receiver_host = ReceiverHost(settings, self.webhook_intake)
        self.sandbox_host = SandboxHostService(settings_file, self.accounts, bus)
        self.tunnel = TunnelService(settings, secrets, self.accounts, bus, self.receiver_host)
        self.relay = RelayService(store.relays, self.accounts, self.tunnel, self.receiver_host, bus)
        self.polling = PollingService(store.polls, self.accounts, self.inbound, bus, self.tunnel, self.relay)
        self.receiving = ReceptionService(
            self.accounts, self.tunnel, self.polling, self.relay, self.receiver_host, self.sandbox_host
        )
        self._shown_region = settings.default_region
        self.conversations = ConversationService(
            store.conversations, store.optouts, bus, self.sending, self.contacts.number_text
        )
        self.backups = backups.BackupService(paths, store.backup, store.accounts, settings, secrets)
        self.proc_key = ""

    @classmethod
    def open(cls, home: str | None = None, session_secrets: bool = False, role: str = "smsdesk") -> Runtime:
        """Open (creating on first start) the data folder, its settings and its database.

        ``role`` names this process to others on the database ("smsdesk serve"): a restore
        refuses while one has it open, and says which.

        Raises:
            StorageError: the database is damaged or from a newer smsdesk; nothing was changed.
        """
        paths = resolve(home)
        privacy = paths.prepare()
        restored, restore_error = None, ""
        try:
            restored = backups.apply_staged(paths, backup_files(paths))  # before the database is opened
        except SmsdeskError as exc:
            restore_error = str(exc)
            log.warning("the restore chosen in Settings waits: %s", exc)
        settings_file = SettingsFile(paths.settings)
        news = settings_file.ensure_receiver_port(_free_port)
        news = settings_file.warn_open_folder_once(privacy) or news
        if news or not paths.settings.exists():
            settings_file.save()
        store = SqliteStore.open(paths.database)
        store.setup.first_start(SANDBOX_SEED)
        startup = StartupReport(privacy, restored, restore_error)
        rt = cls(paths, settings_file, store, SecretStore(session_only=session_secrets), startup)
        rt.accounts.fill_generated_fields()
        rt.proc_key = store.processes.register(role)
        return rt

    def _webhook_base(self) -> str:
        return self.receiver_host.base_url()

    def _business(self) -> tuple[str, BusinessHours]:
        """The business's name and opening hours, as the settings say now."""
        s = self.settings
        zone = s.business_zone or local_zone_name()
        return s.business_name, business_hours(zone, s.business_hours, s.holidays)

    def save_settings(self) -> None:
        self.settings_file.save()
        if self.settings.default_region != self._shown_region:
            # Numbers are shown nationally or internationally relative to the default
            # country: every list showing numbers relabels them, as when a contact is named.
            self._shown_region = self.settings.default_region
            self.bus.publish(Changes(contacts=True))

    # ---- what tests, the CLI and the window read of the process ------------------------------
    @functools.cached_property
    def reports(self) -> ReportService:
        """Reports and exports, built on first use: the window's first paint does not wait for them."""
        from smsdesk.services.reports import ReportService

        return ReportService(self.store.reports, self.settings)

    @property
    def receiver(self) -> ReceiverThread | None:
        return self.receiver_host.thread

    @property
    def sandbox(self) -> SandboxThread | None:
        return self.sandbox_host.thread

    @property
    def status(self) -> RuntimeStatus:
        r, s = self.receiver_host, self.sandbox_host
        return RuntimeStatus(r.url, r.error, s.url, s.error)

    @property
    def privacy(self) -> PrivacyReport:
        return self.startup.privacy

    @property
    def restore_error(self) -> str:
        return self.startup.restore_error

    @property
    def restored(self) -> backups.RestoreResult | None:
        return self.startup.restored

    def configure_sandbox_account(self, account_id: int) -> None:
        self.sandbox_host.configure_account(account_id)

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(
        self,
        *,
        receiver: bool = True,
        sandbox: bool | None = None,
        dispatcher: bool = True,
        tunnel: bool = True,
        polling: bool = True,
        relay: bool = False,
        watch: bool = True,
    ) -> None:
        """Start the parts asked for. ``relay``: this is ``smsdesk serve`` (a window on the same
        database leaves receiving and polling to it); ``watch``: publish what other processes
        commit to this database."""
        self.bus.bind(asyncio.get_running_loop())
        self.webhook_intake.bind(asyncio.get_running_loop())
        if watch:
            self.watch.prime()
        self.relay.prime(serving=relay)  # whether a relay is alive, before the tunnel and the pollers start
        if receiver:
            self.receiver_host.start()
        if self.settings.demo_mode if sandbox is None else sandbox:
            await self.sandbox_host.start()
        if dispatcher:
            for loop in (self.dispatcher, self.scheduler, self.bulk_send, self.review, self.backups, self.balances):
                self.spawn(loop.run())
        await self.relay.start(tunnel=tunnel and self.receiver_host.running)
        if polling:
            self.spawn(self.polling.run())
        if watch:
            self.spawn(self.watch.run())
        self.spawn(self.webhook_intake.maintain())
        self.inbound.process_soon()

    async def start_for(self, account: Account, *, dispatcher: bool = True) -> None:
        """Start what a command sending with ``account`` needs: the receiver, the dispatcher (unless
        not) and, for a built-in-sandbox account, this process's sandbox with the account's keys."""
        await self.start(receiver=True, sandbox=self.sandbox_host.needed_for(account), dispatcher=dispatcher)
        await self.sandbox_host.start_for(account)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run ``coro`` as a background task this runtime keeps, logs on failure and cancels on stop."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def stop(self) -> None:
        self.watch.stop()
        await self.relay.stop()
        for loop in (self.dispatcher, self.scheduler, self.bulk_send, self.review, self.backups, self.polling):
            loop.stop()
        self.balances.stop()
        await self.tunnel.stop()
        self.receiver_host.stop()
        self.webhook_intake.unbind()
        await self.inbound.stop()
        await self.autoreplies.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Nothing can change the opt-out list any more: a STOP just received still reaches the
        # providers' own lists (the sandbox, which demo accounts point at, is still up).
        await self.optouts.drain()
        self.sandbox_host.stop()
        await self.accounts.aclose()

    def close(self) -> None:
        if self.proc_key:
            try:
                self.store.processes.unregister(self.proc_key)
            except SmsdeskError:
                log.info("could not remove this process from the database's list of users")
        self.store.close()


def backup_files(paths: Paths) -> BackupStore:
    """The backup side of the store in ``paths``, usable before (and without) opening it: a
    restore puts a backup in its place."""
    return SqliteStore.files(paths.database)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
