"""The shared composition root: builds and wires every concrete object for the GUI and CLI.

``app.py`` (GUI) and ``cli`` both build a :class:`Runtime`; nothing else constructs services.
Lifecycle: ``Runtime.open(home)`` opens storage and services (no sockets); ``await start()``
starts the webhook receiver (own thread), the sandbox in demo mode (own thread) and the
dispatcher (on the caller's loop); ``await stop()`` undoes it in reverse.

Several processes may share one database (the GUI and ``smsdesk serve``): the change watch
publishes what the others commit, and ``serve`` (``start(relay=True)``) heartbeats as the
relay. While a relay is alive, a GUI leaves polling and the tunnel to it and uses the
relay's public URL for its accounts.
"""

from __future__ import annotations

import asyncio
import logging
import secrets as pysecrets
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smsdesk.config.paths import Paths, resolve
from smsdesk.config.privacy import PrivacyReport
from smsdesk.config.secrets import SecretStore
from smsdesk.config.settings import Settings
from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.providers._http import make_client
from smsdesk.receiver.types import is_loopback
from smsdesk.services import backup as backups
from smsdesk.services.accounts import SANDBOX_NAME, SANDBOX_SEED, AccountService
from smsdesk.services.bulk_send import BulkSendService
from smsdesk.services.bus import EventBus
from smsdesk.services.changewatch import RELAY_BEAT_S, ChangeWatch
from smsdesk.services.contacts import ContactService
from smsdesk.services.conversations import ConversationService
from smsdesk.services.dispatcher import Dispatcher
from smsdesk.services.inbound import InboundService
from smsdesk.services.optouts import OptOutService
from smsdesk.services.polling import PollingService
from smsdesk.services.reception import ReceptionService
from smsdesk.services.review import ReviewService
from smsdesk.services.scheduler import SchedulerService
from smsdesk.services.send import SendService
from smsdesk.services.tunnel import TunnelService
from smsdesk.services.webhook_intake import WebhookIntakeService
from smsdesk.storage.api import BackupStore
from smsdesk.storage.sqlite_store import SqliteStore

if TYPE_CHECKING:
    # Imported where used (start_receiver / start_sandbox): each pulls in aiohttp.web, which
    # the GUI does not need before its window shows.
    from smsdesk.receiver.receiver import ReceiverThread
    from smsdesk.sandbox import SandboxThread

log = logging.getLogger(__name__)


@dataclass
class RuntimeStatus:
    receiver_url: str = ""
    receiver_error: str = ""
    sandbox_url: str = ""
    sandbox_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Runtime:
    """Everything one smsdesk process runs. Build with :meth:`open`."""

    def __init__(self, paths: Paths, settings: Settings, store: SqliteStore, secrets: SecretStore) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self.db = db = store.db  # the scheduler and bulk send's, until they take repositories
        self.secrets = secrets
        self.bus = EventBus()
        self.status = RuntimeStatus()
        self.receiver: ReceiverThread | None = None
        # What start-up did to keep the data folder private (and whether the folder the person
        # chose is open to other logins): for a notice in the window.
        self.privacy = PrivacyReport()
        self.sandbox: SandboxThread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.accounts = AccountService(store.accounts, secrets, self.bus, make_client, self._receiver_base)
        self.optouts = OptOutService(store.optouts, self.bus, self.accounts, settings)
        self.dispatcher = Dispatcher(store.claims, store.messages, self.accounts, self.bus, optout_sync=self.optouts)
        self.sending = SendService(
            store.messages, store.optouts, self.accounts, self.bus, settings, outbox=self.dispatcher
        )
        self.scheduler = SchedulerService(
            db,
            self.accounts,
            self.sending,
            self.bus,
            lambda: self.settings.overdue_limit_minutes,
            self.dispatcher.id,
            kick=self.dispatcher.kick,
        )
        self.bulk_send = BulkSendService(
            db,
            self.accounts,
            self.bus,
            kick=self.dispatcher.kick,
            scheduler=lambda: self.scheduler,
            dispatcher_id=self.dispatcher.id,
        )
        self.review = ReviewService(store.review, self.accounts, self.bus, outbox=self.dispatcher)
        self.watch = ChangeWatch(store.changes, self.bus, relays=store.relays)
        self.is_relay = False
        self._tunnel_deferred = False  # the tunnel was left to a live relay
        self.inbound = InboundService(
            store.inbound,
            store.webhook_events,
            self.accounts,
            self.bus,
            own_replies=self.watch.local_replies,
            optout_sync=self.optouts,
        )
        self.webhook_intake = WebhookIntakeService(store.webhook_events, self.accounts, self.bus, self.inbound)
        self.tunnel = TunnelService(lambda: self.settings, secrets, self.accounts, self.bus, self._receiver_base)
        self.polling = PollingService(
            store.polls,
            self.accounts,
            self.inbound,
            self.bus,
            self.tunnel.is_up,
            relay_polls=lambda: "" if self.is_relay else self.watch.relay_text(),
        )
        self.receiving = ReceptionService(
            self.accounts,
            self.tunnel,
            self.polling,
            relay=lambda: "" if self.is_relay else self.watch.relay_text(),
            receiver=lambda: (self.status.receiver_url, self.status.receiver_error),
            relay_info=lambda: None if self.is_relay else self.watch.relay,
            sandbox_error=lambda: self.status.sandbox_error,
        )
        self.tunnel.on_change(lambda _st: self.polling.kick())
        self.tunnel.on_change(lambda _st: self._beat_soon())
        self.watch.on_foreign_accounts(self.accounts.forget_adapters)
        self.watch.on_relay_change(self._relay_changed)
        self.contacts = ContactService(store.contacts, self.bus, settings)
        self._shown_region = settings.default_region
        self.conversations = ConversationService(
            store.conversations, store.optouts, self.bus, self.sending, self.contacts.number_text
        )
        self.backups = backups.BackupService(paths, store.backup, store.accounts, settings, secrets)
        self.restored: backups.RestoreResult | None = None  # a restore the window staged, done at this start
        self.restore_error = ""  # ... or why it still waits
        self.proc_key = ""

    @classmethod
    def open(cls, home: str | None = None, session_secrets: bool = False, role: str = "smsdesk") -> Runtime:
        """Open (creating on first start) the data directory, database and settings.

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
        settings = Settings.load(paths.settings)
        if not settings.receiver_port:
            # A stable port keeps webhook URLs (and tunnels pointing at them) valid across runs.
            settings.receiver_port = _free_port()
        folder_news = _folder_warning_once(settings, privacy)
        if (
            folder_news
            or not paths.settings.exists()
            or settings.receiver_port != Settings.load(paths.settings).receiver_port
        ):
            settings.save(paths.settings)
        store = SqliteStore.open(paths.database)
        store.setup.first_start(SANDBOX_SEED)
        rt = cls(paths, settings, store, SecretStore(session_only=session_secrets))
        rt.accounts.fill_generated_fields()
        rt.privacy = privacy
        rt.restored, rt.restore_error = restored, restore_error
        rt.proc_key = store.processes.register(role)
        return rt

    def _receiver_base(self) -> str:
        return self.receiver.url if self.receiver else f"http://127.0.0.1:{self.settings.receiver_port}"

    def save_settings(self) -> None:
        self.settings.save(self.paths.settings)
        if self.settings.default_region != self._shown_region:
            # Numbers are shown nationally or internationally relative to the default
            # country: every list showing numbers relabels them, as when a contact is named.
            self._shown_region = self.settings.default_region
            self.bus.publish(Changes(contacts=True))

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
        """Start the parts asked for. ``relay``: this is ``smsdesk serve`` (heartbeats so a GUI
        on the same database leaves receiving and polling to it); ``watch``: publish what other
        processes commit to this database."""
        self.loop = asyncio.get_running_loop()
        self.bus.bind(self.loop)
        self.webhook_intake.bind(self.loop)
        self.is_relay = relay
        if relay:
            self.watch.relay_key = self.store.relays.key()
        if watch:
            self.watch.prime()  # also learns whether a relay is alive before tunnel and pollers start
        if receiver:
            self.start_receiver()
        want_sandbox = self.settings.demo_mode if sandbox is None else sandbox
        if want_sandbox:
            await self.start_sandbox()
        if dispatcher:
            self.spawn(self.dispatcher.run())
            self.spawn(self.scheduler.run())
            self.spawn(self.bulk_send.run())
            self.spawn(self.review.run())
            self.spawn(self.backups.run())
        if tunnel and receiver and self.receiver is not None:
            if self.watch.relay is not None and not relay:
                # One public URL per database: the relay's. Ours starts if the relay goes away.
                self._tunnel_deferred = True
                self._use_relay_base(self.watch.relay)
                log.info("%s is receiving for this database; no tunnel started here", self.watch.relay_text())
            else:
                await self.tunnel.start()
        if polling:
            self.spawn(self.polling.run())
        if watch:
            self.spawn(self.watch.run())
        if relay:
            await self._beat_relay()
            self.spawn(self._relay_heartbeat())
        self.spawn(self.webhook_intake.maintain())
        self.inbound.process_soon()

    # ---- sharing the database with a relay ---------------------------------------------
    def _relay_info(self) -> dict[str, Any]:
        st = self.tunnel.status
        return {
            "receiver": self.status.receiver_url,
            "tunnel": st.state.value if st.kind != "none" else "none",
            "public_url": st.public_url if st.state.value == "up" else "",
        }

    async def _beat_relay(self) -> None:
        key, info = self.watch.relay_key, self._relay_info()
        await self.store.relays.beat(key, info)

    async def _relay_heartbeat(self) -> None:
        while self.is_relay:
            await asyncio.sleep(RELAY_BEAT_S)
            try:
                await self._beat_relay()
            except SmsdeskError:
                log.exception("the relay heartbeat could not be saved")

    def _beat_soon(self) -> None:
        """A relay's tunnel changed: tell the GUI now, not at the next heartbeat."""
        if self.is_relay and self.loop is not None and not self.loop.is_closed():
            self.spawn(self._beat_relay())

    def _relay_changed(self, relay: dict[str, Any] | None) -> None:
        self.polling.kick()
        if self.is_relay:
            return
        self._use_relay_base(relay)
        if relay is None and self._tunnel_deferred and self.loop is not None and self.receiver is not None:
            self._tunnel_deferred = False
            log.info("the relay stopped; starting this process's own tunnel")
            self.spawn(self.tunnel.start())

    def _use_relay_base(self, relay: dict[str, Any] | None) -> None:
        """Our accounts' public webhook URLs are the relay's (sends carry them) while it has a
        tunnel up and we do not."""
        if self.tunnel.is_up():
            return
        url = str((relay or {}).get("public_url") or "")
        self.accounts.public_base.clear()
        if url:
            for account in self.accounts.all():
                if account.provider != "sandbox":  # the built-in sandbox calls our own receiver
                    self.accounts.public_base[account.id] = url
        self.accounts.forget_adapters()

    async def serve_extras(self) -> None:
        """For ``smsdesk serve``: wait briefly for the tunnel, show the URLs to paste and
        which accounts are polled."""
        import sys

        if self.tunnel.status.kind != "none":
            for _ in range(300):
                if self.tunnel.status.state.value in ("up", "down", "off"):
                    break
                await asyncio.sleep(0.1)
            st = self.tunnel.status
            print(f"Tunnel ({st.kind}): {st.state.value} {st.public_url or st.error}", file=sys.stderr)
            for account in self.accounts.all():
                if self.accounts.public_base.get(account.id):
                    print(f"  {account.name}: {self.accounts.webhook_url(account, public=True)}", file=sys.stderr)
        for account in self.accounts.all():
            polled, why = self.polling.should_poll(account)
            if polled:
                print(f"Polling {account.name}: {why}", file=sys.stderr)

    def start_receiver(self) -> None:
        from smsdesk.receiver.receiver import ReceiverThread

        host = self.settings.receiver_host or "127.0.0.1"
        if not is_loopback(host):
            # An explicit setting (receiver_host): the listener is then reachable from the LAN/VPN.
            log.warning("the webhook receiver listens on %s, reachable from other computers", host)
        try:
            try:
                self.receiver = ReceiverThread(self.webhook_intake, host, self.settings.receiver_port)
                self.status.receiver_url = self.receiver.start()
            except OSError:
                # Another smsdesk (the GUI, or serve) has the port: this process still needs
                # its own receiver for its own sandbox, on any free port.
                self.receiver = ReceiverThread(self.webhook_intake, host, 0)
                self.status.receiver_url = self.receiver.start()
                log.info(
                    "receiver port %s busy; listening on %s", self.settings.receiver_port, self.status.receiver_url
                )
            self.status.receiver_error = ""
        except OSError as exc:
            self.receiver = None
            self.status.receiver_error = f"The webhook receiver could not listen on {host}: {exc}"
            log.error(self.status.receiver_error)

    async def start_sandbox(self) -> None:
        """Start the built-in provider and point the Sandbox account at it (fresh keys per run)."""
        from smsdesk.sandbox import SandboxConfig
        from smsdesk.services.sandbox_link import SandboxLink

        cfg = SandboxConfig(
            api_key=pysecrets.token_urlsafe(24),
            webhook_secret=pysecrets.token_urlsafe(24),
            rate_reply=float(self.settings.extra.get("sandbox_reply_rate", 0.3)),
            rate_stop=float(self.settings.extra.get("sandbox_stop_rate", 0.1)),
        )
        try:
            self.sandbox = self._sandbox_on_kept_port(cfg)
            self.status.sandbox_url = self.sandbox.url
            self.status.sandbox_error = ""
        except OSError as exc:
            self.sandbox = None
            self.status.sandbox_error = f"The sandbox could not start: {exc}"
            log.error(self.status.sandbox_error)
            return
        # Any provider's account can be pointed at it from Settings (services/sandbox_link.py).
        # In a worker thread: it reads the keys of accounts pointed at the sandbox from the
        # keyring, a blocking D-Bus round trip each.
        await asyncio.to_thread(
            self.accounts.attach_sandbox,
            SandboxLink(self.sandbox.url, cfg.api_key, cfg.webhook_secret, cfg.channel_jwt_secrets, cfg.workspaces),
        )
        account = self.accounts.repo.by_name(SANDBOX_NAME)
        if account is None:
            sandboxes = [a for a in self.accounts.all() if a.provider == "sandbox"]
            account = sandboxes[0] if sandboxes else None
        if account is not None:
            self.configure_sandbox_account(account.id)

    def _sandbox_on_kept_port(self, cfg: Any) -> Any:
        """Start the sandbox on the port it had last time, so accounts pointed at it keep their
        base URL across restarts.

        The first start picks a free port and keeps it. When the kept port is taken (most
        often by the sandbox of another smsdesk process on this data folder, a GUI beside a
        CLI send), this run uses a spare port and keeps nothing: the next start goes back to
        the kept one.
        """
        kept = self.settings.sandbox_port
        try:
            thread = _start_sandbox_thread(cfg, kept)
        except OSError:
            if not kept:
                raise
            log.info("the sandbox's port %s is in use; this run uses another one", kept)
            return _start_sandbox_thread(cfg, 0)
        if not kept:
            self.settings.sandbox_port = thread.server.port
            self._keep_setting("sandbox_port", thread.server.port)
        return thread

    def _keep_setting(self, name: str, value: Any) -> None:
        """Write one setting into the settings file as it is now on disk (another process, or
        the person, may have changed the rest since we read it); never over an unreadable one."""
        path = self.paths.settings
        try:
            if path.exists():
                tomllib.loads(path.read_text(encoding="utf-8"))  # unreadable: leave it alone
            fresh = Settings.load(path)
            setattr(fresh, name, value)
            fresh.save(path)
        except (OSError, ValueError) as exc:
            log.warning("could not keep %s in %s: %s", name, path, exc)

    def configure_sandbox_account(self, account_id: int) -> None:
        """Hand a sandbox-provider account this run's sandbox keys and our webhook URL."""
        if self.sandbox is None:
            return
        account = self.accounts.get(account_id)
        cfg = self.sandbox.server.config
        self.accounts.sandbox_url = self.sandbox.url
        self.accounts.session_secrets[(account.name, "api_key")] = cfg.api_key
        self.accounts.session_secrets[(account.name, "webhook_secret")] = cfg.webhook_secret
        cfg.webhook_url = self.accounts.webhook_url(account)
        self.accounts.forget_adapters()
        self.bus.publish(Changes(accounts=True))

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
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
        relay_key = self.watch.relay_key if self.is_relay else ""
        self.is_relay = False  # from here no heartbeat re-announces this relay
        if relay_key:
            try:  # at once, so a GUI takes polling back without waiting for the heartbeat to age
                await self.store.relays.end(relay_key)
            except SmsdeskError:
                log.warning("could not clear the relay heartbeat; a GUI will notice in %.0f s", RELAY_BEAT_S * 3.5)
        self.dispatcher.stop()
        self.scheduler.stop()
        self.bulk_send.stop()
        self.review.stop()
        self.backups.stop()
        self.polling.stop()
        await self.tunnel.stop()
        if self.receiver is not None:
            self.receiver.stop()  # a few ms; a QThread executor under qasync is not worth it
            self.receiver = None
        self.webhook_intake.unbind()
        await self.inbound.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Nothing can change the opt-out list any more: a STOP just received still reaches the
        # providers' own lists (the sandbox, which demo accounts point at, is still up).
        await self.optouts.drain()
        if self.sandbox is not None:
            self.accounts.attach_sandbox(None)
            self.sandbox.stop()
            self.sandbox = None
        await self.accounts.aclose()

    def close(self) -> None:
        if self.proc_key:
            try:
                self.store.processes.unregister(self.proc_key)
            except SmsdeskError:
                log.info("could not remove this process from the database's list of users")
        self.store.close()


def _folder_warning_once(settings: Settings, privacy: PrivacyReport) -> bool:
    """Warn that a data folder the person chose is open to other logins, once per folder and
    mode (remembered in the settings); True when the settings changed and need saving."""
    said = str(settings.extra.get("open_folder_warned", ""))
    if privacy.folder_key == said:
        return False
    if privacy.open_folder:
        log.warning(privacy.open_folder)
        settings.extra["open_folder_warned"] = privacy.folder_key
    else:
        settings.extra.pop("open_folder_warned", None)  # private now: say it again if that changes
    return True


def backup_files(paths: Paths) -> BackupStore:
    """The backup side of the store in ``paths``, usable before (and without) opening it: a
    restore puts a backup in its place."""
    return SqliteStore.files(paths.database)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_sandbox_thread(cfg: Any, port: int) -> Any:
    """A started sandbox thread on ``port`` (0: any free one); nothing left running on failure."""
    from smsdesk.sandbox import SandboxThread

    thread = SandboxThread(cfg, "127.0.0.1", port)
    try:
        thread.start()
    except BaseException:
        thread.stop()
        raise
    return thread
