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

import functools
import logging
from typing import TYPE_CHECKING, Any

from smsdesk.config.paths import STAGED_RESTORE, Paths, resolve
from smsdesk.config.secrets import SecretStore
from smsdesk.config.settings import SettingsFile
from smsdesk.domain.errors import SmsdeskError, StoreUnreachable
from smsdesk.domain.events import Changes
from smsdesk.runtime_facts import RuntimeStatus, StartupReport
from smsdesk.runtime_ports import LateOutbox, LateSpending
from smsdesk.services.bus import EventBus
from smsdesk.storage.sqlite_store import SqliteStore

if TYPE_CHECKING:
    import asyncio

    from smsdesk.domain.autoreply import BusinessHours
    from smsdesk.domain.models import Account
    from smsdesk.receiver.receiver import ReceiverThread
    from smsdesk.sandbox import SandboxThread
    from smsdesk.services.accounts import AccountService
    from smsdesk.services.autoreplies import AutoReplyService
    from smsdesk.services.backup import BackupService, RestoreResult
    from smsdesk.services.balance import BalanceWatch
    from smsdesk.services.bulk_send import BulkSendService
    from smsdesk.services.changewatch import ChangeWatch
    from smsdesk.services.contacts import ContactService
    from smsdesk.services.conversations import ConversationService
    from smsdesk.services.cpu_pool import CpuPool
    from smsdesk.services.dispatcher import Dispatcher
    from smsdesk.services.groups import GroupService
    from smsdesk.services.health import StoreHealth
    from smsdesk.services.inbound import InboundService
    from smsdesk.services.optouts import OptOutService
    from smsdesk.services.polling import PollingService
    from smsdesk.services.receiver_host import ReceiverHost
    from smsdesk.services.reception import ReceptionService
    from smsdesk.services.relay import RelayService
    from smsdesk.services.reports import ReportService
    from smsdesk.services.review import ReviewService
    from smsdesk.services.sandbox_host import SandboxHostService
    from smsdesk.services.scheduler import SchedulerService
    from smsdesk.services.send import SendService
    from smsdesk.services.spending import SpendGuard
    from smsdesk.services.templates import TemplateService
    from smsdesk.services.tunnel import TunnelService
    from smsdesk.services.webhook_intake import WebhookIntakeService
    from smsdesk.storage.api import BackupStore, Store
    from smsdesk.storage.records import NewAccount
    from smsdesk.workspace import WorkspaceChoice

log = logging.getLogger(__name__)


class Runtime:
    """Everything one smsdesk process runs. Build with :meth:`open`.

    Each service is built, and its module imported, the first time something asks for it (a
    ``cached_property`` per service, wired below in one place). The window's first paint asks
    for the few Compose needs; :meth:`start` builds the rest right after, so a window appears
    without waiting for the dispatcher, the receiver or the scheduler to be imported.
    """

    def __init__(
        self,
        paths: Paths,
        settings_file: SettingsFile,
        store: Store,
        secrets: SecretStore,
        startup: StartupReport,
    ) -> None:
        self.paths = paths
        self.settings_file = settings_file
        self.settings = settings_file.settings
        self.store = store
        self.secrets = secrets
        self.startup = startup
        self.bus = EventBus()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shown_region = self.settings.default_region
        self.proc_key = ""
        self._role, self._window = "smsdesk", False
        self.open_pending = False  # open() could not finish: the workspace did not answer
        self.workspace_name = ""  # "smsdesk on db.example.com:5432" when on a team workspace
        self.workspace_url = ""  # its address (never a password), "" on this computer's own database

    # ---- the services, each built on first use ---------------------------------------------
    @functools.cached_property
    def watch(self) -> ChangeWatch:
        from smsdesk.services.changewatch import ChangeWatch

        watch = ChangeWatch(self.store.changes, self.bus, health=self.health)
        watch.on_foreign_accounts(self.accounts.forget_adapters)
        return watch

    @functools.cached_property
    def accounts(self) -> AccountService:
        from smsdesk.providers._http import make_client
        from smsdesk.services.accounts import AccountService

        svc = AccountService(self.store.accounts, self.secrets, self.bus, make_client, self._webhook_base)
        svc.keys_per_computer = bool(self.workspace_url)  # a workspace: each relay holds its own copy
        svc.requests = self.store.relay_requests if self.workspace_url else None
        return svc

    @functools.cached_property
    def optouts(self) -> OptOutService:
        from smsdesk.services.optouts import OptOutService

        return OptOutService(self.store.optouts, self.bus, self.accounts, self.settings)

    @functools.cached_property
    def dispatcher(self) -> Dispatcher:
        from smsdesk.services.dispatcher import Dispatcher

        return Dispatcher(self.store.claims, self.store.messages, self.accounts, self.bus, optout_sync=self.optouts)

    @functools.cached_property
    def spending(self) -> SpendGuard:
        from smsdesk.services.schedule_policy import business_zone
        from smsdesk.services.spending import SpendGuard

        settings = self.settings
        return SpendGuard(self.store.reports, self.accounts, lambda: business_zone(settings))

    @functools.cached_property
    def sending(self) -> SendService:
        from smsdesk.services.send import SendService

        return SendService(
            self.store.messages,
            self.store.optouts,
            self.accounts,
            self.bus,
            self.settings,
            outbox=LateOutbox(self),
            spending=LateSpending(self),
        )

    @functools.cached_property
    def contacts(self) -> ContactService:
        from smsdesk.services.contacts import ContactService

        return ContactService(self.store.contacts, self.bus, self.settings)

    @functools.cached_property
    def groups(self) -> GroupService:
        from smsdesk.services.groups import GroupService

        return GroupService(self.store.groups, self.contacts, self.store.optouts, self.bus)

    @functools.cached_property
    def templates(self) -> TemplateService:
        from smsdesk.services.templates import TemplateService

        return TemplateService(self.store.templates, self.bus)

    @functools.cached_property
    def scheduler(self) -> SchedulerService:
        from smsdesk.services.scheduler import SchedulerService

        return SchedulerService(
            self.store.schedules,
            self.accounts,
            self.sending,
            self.bus,
            self.settings,
            self.dispatcher,
            groups=self.groups,
        )

    @functools.cached_property
    def bulk_send(self) -> BulkSendService:
        from smsdesk.services.bulk_send import BulkSendService

        return BulkSendService(
            self.store.bulk_sends,
            self.accounts,
            self.bus,
            self.dispatcher,
            self.scheduler,
            spending=self.spending,
            cpu=self.cpu_pool,
        )

    @functools.cached_property
    def cpu_pool(self) -> CpuPool:
        """Worker processes for a big import's checks (``smsdesk-gui`` starts them once its
        services are up: :meth:`CpuPool.warm`)."""
        from smsdesk.services.cpu_pool import CpuPool

        return CpuPool()

    @functools.cached_property
    def review(self) -> ReviewService:
        from smsdesk.services.review import ReviewService

        return ReviewService(self.store.review, self.accounts, self.bus, outbox=self.dispatcher)

    @functools.cached_property
    def autoreplies(self) -> AutoReplyService:
        from smsdesk.services.autoreplies import AutoReplyService

        return AutoReplyService(
            self.store.autoreplies,
            self.store.messages,
            self.accounts,
            self.contacts,
            self.groups,
            self.bus,
            self._business,
            outbox=self.dispatcher,
            spending=self.spending,
        )

    @functools.cached_property
    def balances(self) -> BalanceWatch:
        from smsdesk.services.balance import BalanceWatch

        balances = BalanceWatch(self.accounts, self.bus)
        self.bus.subscribe(balances.on_changes)
        return balances

    @functools.cached_property
    def inbound(self) -> InboundService:
        from smsdesk.services.inbound import InboundService

        return InboundService(
            self.store.inbound,
            self.store.webhook_events,
            self.accounts,
            self.bus,
            own_replies=self.watch.local_replies,
            optout_sync=self.optouts,
            auto_replies=self.autoreplies,
        )

    @functools.cached_property
    def webhook_intake(self) -> WebhookIntakeService:
        from smsdesk.services.webhook_intake import WebhookIntakeService

        return WebhookIntakeService(self.store.webhook_events, self.accounts, self.bus, self.inbound)

    @functools.cached_property
    def receiver_host(self) -> ReceiverHost:
        from smsdesk.services.receiver_host import ReceiverHost

        return ReceiverHost(self.settings, self.webhook_intake)

    @functools.cached_property
    def sandbox_host(self) -> SandboxHostService:
        from smsdesk.services.sandbox_host import SandboxHostService

        return SandboxHostService(self.settings_file, self.accounts, self.bus)

    @functools.cached_property
    def tunnel(self) -> TunnelService:
        from smsdesk.services.tunnel import TunnelService

        return TunnelService(self.settings, self.secrets, self.accounts, self.bus, self.receiver_host)

    @functools.cached_property
    def relay(self) -> RelayService:
        from smsdesk.services.relay import RelayService

        return RelayService(
            self.store.relays, self.accounts, self.tunnel, self.receiver_host, self.bus, self.store.messages
        )

    @functools.cached_property
    def polling(self) -> PollingService:
        from smsdesk.services.polling import PollingService

        return PollingService(self.store.polls, self.accounts, self.inbound, self.bus, self.tunnel, self.relay)

    @functools.cached_property
    def receiving(self) -> ReceptionService:
        from smsdesk.services.reception import ReceptionService

        return ReceptionService(
            self.accounts, self.tunnel, self.polling, self.relay, self.receiver_host, self.sandbox_host
        )

    @functools.cached_property
    def conversations(self) -> ConversationService:
        from smsdesk.services.conversations import ConversationService
        from smsdesk.services.team_inbox import TeamInbox

        team = TeamInbox(self.store.team, self.store.conversations, self.bus, self.store.changes)
        return ConversationService(
            self.store.conversations, self.store.optouts, self.bus, self.sending, self.contacts.number_text, team
        )

    @functools.cached_property
    def health(self) -> StoreHealth:
        from smsdesk.services.health import OfflineDrafts, StoreHealth

        place = f"Workspace {self.workspace_name}" if self.workspace_name else "Database"
        return StoreHealth(place, OfflineDrafts(self.paths.home / "offline-drafts.json"))

    @functools.cached_property
    def workspace(self) -> WorkspaceChoice:
        from smsdesk.workspace import WorkspaceChoice

        return WorkspaceChoice(self.secrets, self.settings_file, self.workspace_url, self.paths.database)

    @functools.cached_property
    def backups(self) -> BackupService:
        from smsdesk.services.backup import BackupService

        return BackupService(self.paths, self.store.backup, self.store.accounts, self.settings, self.secrets)

    @functools.cached_property
    def reports(self) -> ReportService:
        from smsdesk.services.reports import ReportService

        return ReportService(self.store.reports, self.settings)

    @classmethod
    def open(
        cls,
        home: str | None = None,
        session_secrets: bool = False,
        role: str = "smsdesk",
        *,
        window: bool = False,
        database: str | None = None,
        wait_for_store: bool = False,
    ) -> Runtime:
        """Open (creating on first start) the data folder, its settings and its database.

        ``role`` names this process to others on the database ("smsdesk serve"): a restore
        refuses while one has it open, and says which. ``window``: the app's window comes
        first; it calls :meth:`AccountService.fill_generated_fields` after its first paint
        (that loads each account's provider module), before :meth:`start`. ``database``: a
        workspace URL for this run (``smsdesk/workspace.py`` says how the store is chosen).
        ``wait_for_store``: a workspace that does not answer, or refuses the login, is not an
        error; :attr:`health` says why, and :meth:`finish_open` waits for it before :meth:`start`.

        Raises:
            StorageError: the database is damaged or from a newer smsdesk (nothing was
                changed), or the workspace is unreachable or refused the login.
        """
        paths = resolve(home)
        privacy = paths.prepare()
        restored, restore_error = None, ""
        if (paths.home / STAGED_RESTORE).exists():
            from smsdesk.services.backup import apply_staged

            try:
                restored = apply_staged(paths, backup_files(paths))  # before the database is opened
            except SmsdeskError as exc:
                restore_error = str(exc)
                log.warning("the restore chosen in Settings waits: %s", exc)
        settings_file = SettingsFile(paths.settings)
        news = settings_file.ensure_receiver_port()
        news = settings_file.warn_open_folder_once(privacy) or news
        if news or not paths.settings.exists():
            settings_file.save()
        secrets = SecretStore(session_only=session_secrets)
        from smsdesk import workspace

        chosen = workspace.chosen(database, settings_file.settings)
        store: Store
        unreachable: StoreUnreachable | None = None
        if chosen:  # the sandbox and demo mode belong to one desktop on its own (for this run)
            store = pg_store = workspace.open_store(chosen, secrets, wait_if_unreachable=wait_for_store)
            unreachable = pg_store.unreachable_at_open
            settings_file.settings.demo_mode = False
        else:
            store = SqliteStore.open(paths.database)
        rt = cls(paths, settings_file, store, secrets, StartupReport(privacy, restored, restore_error))
        rt.workspace_name = workspace.parse(chosen).display() if chosen else ""
        rt.workspace_url = chosen
        rt._role, rt._window = role, window
        if unreachable is not None:  # finish_open() does the rest once the workspace answers
            rt.health.failed(unreachable)
            rt.open_pending = True
        else:
            rt._finish_open()
        return rt

    def _finish_open(self) -> None:
        """Blocking: the writes that end :meth:`open` (the first start's sandbox account, this
        process in the list of the database's users)."""
        self.store.setup.first_start(_sandbox_seed)
        if not self._window:
            self.accounts.fill_generated_fields()
        self.proc_key = self.store.processes.register(self._role)
        self.open_pending = False

    async def finish_open(self, until: asyncio.Event) -> bool:
        """After an :meth:`open` (``wait_for_store``) that could not use the workspace: try
        every few seconds until it answers, then end the open and say the workspace is back.
        True at once when the open was whole; False when ``until`` was set first (the window
        closed, Ctrl+C)."""
        if not self.open_pending:
            return True
        import asyncio

        from smsdesk.services.health import reach

        self.bus.bind(asyncio.get_running_loop())
        return await reach(
            self.health,
            self._finish_open,
            lambda: self.bus.publish(Changes(connection=True, everything=self.health.ok)),
            until,
        )

    def _webhook_base(self) -> str:
        return self.receiver_host.base_url()

    def _business(self) -> tuple[str, BusinessHours]:
        """The business's name and opening hours, as the settings say now."""
        from smsdesk.services.autoreplies import business_hours
        from smsdesk.services.schedule_policy import local_zone_name

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
    @property
    def receiver(self) -> ReceiverThread | None:
        return self.receiver_host.thread

    @property
    def sandbox(self) -> SandboxThread | None:
        return self.sandbox_host.thread

    @property
    def status(self) -> RuntimeStatus:
        r, s = self._built("receiver_host"), self._built("sandbox_host")
        return RuntimeStatus(r.url if r else "", r.error if r else "", s.url if s else "", s.error if s else "")

    @property
    def restore_error(self) -> str:
        return self.startup.restore_error

    @property
    def restored(self) -> RestoreResult | None:
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
        import asyncio  # the loop starts after the window's first paint, and asyncio with it

        self.bus.bind(asyncio.get_running_loop())
        self.webhook_intake.bind(asyncio.get_running_loop())
        if watch:
            self.watch.prime()
        self.relay.prime(serving=relay)  # whether a relay is alive, before the tunnel and the pollers start
        if receiver:
            self.receiver_host.start()
        if self.settings.demo_mode if sandbox is None else sandbox:
            await self.sandbox_host.start()
        if relay and self.workspace_url:  # desktops without keys ask a relay to cancel at a provider
            self.relay.calls["withdraw"] = self._withdraw_for_a_desktop
        if dispatcher:
            if relay and self.workspace_url:  # several relays: one (the lease holder) fires runs and reconciles
                self.scheduler.leads = self.review.leads = lambda: self.relay.serving
            for loop in (self.dispatcher, self.scheduler, self.bulk_send, self.review, self.backups, self.balances):
                self.spawn(loop.run())
        await self.relay.start(tunnel=tunnel and self.receiver_host.running)
        if polling:
            self.spawn(self.polling.run())
        if watch:
            self.spawn(self.watch.run())
        self.spawn(self.webhook_intake.maintain())
        self.inbound.process_soon()

    async def _withdraw_for_a_desktop(self, schedule_id: int) -> str:
        """A relay's answer to a desktop's request: cancel a scheduled item's copies at its
        provider (the desktop holds no key); returns how many were cancelled."""
        return str(await self.scheduler.provider.withdraw(self.scheduler.get(schedule_id)))

    async def start_for(self, account: Account, *, dispatcher: bool = True) -> None:
        """Start what a command sending with ``account`` needs: the receiver, the dispatcher (unless
        not) and, for a built-in-sandbox account, this process's sandbox with the account's keys."""
        await self.start(receiver=True, sandbox=self.sandbox_host.needed_for(account), dispatcher=dispatcher)
        await self.sandbox_host.start_for(account)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run ``coro`` as a background task this runtime keeps, logs on failure and cancels on stop."""
        import asyncio

        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def stop(self) -> None:
        """Stop what was started, in reverse; a service never built has nothing to stop."""
        built = self._built
        if watch := built("watch"):
            watch.stop()
        if relay := built("relay"):
            await relay.stop()
        for name in ("dispatcher", "scheduler", "bulk_send", "review", "backups", "polling", "balances"):
            if loop := built(name):
                loop.stop()
        if tunnel := built("tunnel"):
            await tunnel.stop()
        if receiver_host := built("receiver_host"):
            receiver_host.stop()
        if intake := built("webhook_intake"):
            intake.unbind()
        if inbound := built("inbound"):
            await inbound.stop()
        if autoreplies := built("autoreplies"):
            await autoreplies.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            import asyncio

            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Nothing can change the opt-out list any more: a STOP just received still reaches the
        # providers' own lists (the sandbox, which demo accounts point at, is still up).
        if optouts := built("optouts"):
            await optouts.drain()
        if sandbox_host := built("sandbox_host"):
            sandbox_host.stop()
        if accounts := built("accounts"):
            await accounts.aclose()

    def _built(self, name: str) -> Any:
        """The service ``name`` if something has built it, else None (without building it)."""
        return self.__dict__.get(name)

    def close(self) -> None:
        if pool := self._built("cpu_pool"):
            pool.close()
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


def _sandbox_seed() -> NewAccount:
    """The Sandbox account a database gets on its first start (imported then only)."""
    from smsdesk.services.accounts import SANDBOX_SEED

    return SANDBOX_SEED
