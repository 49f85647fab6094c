"""The built-in sandbox, hosted by this process: its life, its kept port and the keys it issues.

The sandbox (:mod:`smsdesk.sandbox`) is a simulated provider that speaks every wire format on
one port: PureSMS at the root, Mobivate under ``/mobivate``, Send-2 under ``/send2`` and the
Channel API contract under ``/channel``. In demo mode the window (or ``smsdesk serve``, or a CLI
send to the Sandbox account) runs it on a thread of its own:

- **Its port is kept** in the settings: the first start picks a free port and keeps it, so
  accounts pointed at the sandbox keep their base URL across restarts. When the kept port is
  taken (most often by the sandbox of another smsdesk process on this data folder: the window
  beside a CLI send), this run uses a spare port and keeps nothing; the next start goes back.
- **The Sandbox account** (the built-in provider's) gets this run's keys in memory, and this
  process's receiver as its webhook.
- **Any provider's account can be pointed at it** ("Use the built-in sandbox" in Settings ->
  Accounts asks :func:`form_values`): such an account gets a key of its own (``sbx_...``), made
  when the form is filled and registered at every start, so the account keeps working across
  restarts; a PureSMS account's key also names its webhook and signing secret (its receipts come
  back to it, as from a workspace of its own); a Channel API account's reports are signed with
  its own JWT secret. Only issued keys are registered: a key a person typed (a wrong one, say)
  is refused, as a real provider would refuse it. Keys stay in memory (and in the keyring once a
  person saves the account), never on disk.

The accounts service sees the running sandbox as a :class:`SandboxLink`: plain values and two of
the sandbox's own dicts, which it fills.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from smsdesk.config.settings import SettingsFile
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account
from smsdesk.domain.tokens import new_token
from smsdesk.providers import registry
from smsdesk.providers.spec import SandboxWire
from smsdesk.services.bus import EventBus

if TYPE_CHECKING:
    from smsdesk.sandbox import SandboxThread
    from smsdesk.services.accounts import AccountService

log = logging.getLogger(__name__)


def wire(provider: str) -> SandboxWire | None:
    """How the sandbox serves ``provider``'s wire format (its spec says), or None."""
    spec = registry.find_spec(provider)
    return spec.sandbox if spec is not None else None


def note(provider: str) -> str:
    """What a person should know about ``provider`` against the sandbox (shown after filling)."""
    w = wire(provider)
    return w.note if w is not None else ""


@dataclass(slots=True)
class SandboxLink:
    """The running sandbox, as the accounts service sees it.

    Attributes:
        url: its root address (``http://127.0.0.1:PORT``).
        api_key: this run's key (the Sandbox account's), accepted on every wire format.
        webhook_secret: PureSMS-format receipt signing secret.
        channel_jwt_secrets: the sandbox's own map of webhook URL path -> JWT secret.
        workspaces: the sandbox's own map of account key -> (PureSMS webhook URL, secret).
    """

    url: str
    api_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    channel_jwt_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    workspaces: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def endpoint(self, provider: str) -> str:
        w = wire(provider)
        return self.url.rstrip("/") + (w.path if w is not None else "")

    def points_here(self, provider: str, base_url: str) -> bool:
        """Whether an account with this provider and base URL talks to this sandbox run."""
        if not supported(provider):
            return False
        return base_url.rstrip("/") == self.endpoint(provider)

    def register_key(self, api_key: str, webhook_url: str = "", webhook_secret: str = "") -> None:
        """Accept ``api_key`` on every wire format; PureSMS-format events of what is sent with
        it go to ``webhook_url``, signed with ``webhook_secret``."""
        if api_key:
            self.workspaces[api_key] = (webhook_url, webhook_secret)

    def forget_key(self, api_key: str) -> None:
        self.workspaces.pop(api_key, None)

    def register_jwt(self, webhook_url: str, secret: str) -> None:
        path = urlsplit(webhook_url).path
        if secret:
            self.channel_jwt_secrets[path] = secret
        else:
            self.channel_jwt_secrets.pop(path, None)


# Keys the sandbox issues to accounts start with this, and only such keys are registered with
# it: a key a person typed (a wrong one, say) is still refused, as a real provider would.
ISSUED_PREFIX = "sbx_"

# Values the form only fills into an empty box (a person's own choice wins).
SUGGESTED = frozenset({"sender", "jwt_secret"})


def supported(provider: str) -> bool:
    """Whether an account of ``provider`` can be pointed at the sandbox (the built-in sandbox
    provider's account is wired up by itself)."""
    spec = registry.find_spec(provider)
    return spec is not None and spec.sandbox is not None and not spec.builtin_sandbox


def form_values(link: SandboxLink, provider: str) -> dict[str, str]:
    """Field values that point an account of ``provider`` at the sandbox, with a key of its own.

    The provider's spec (:class:`~smsdesk.providers.spec.SandboxWire`) names the fields filled
    with a fixed value the sandbox accepts and those made fresh: a Channel API account gets a
    ``jwt_secret`` suggestion (the form uses it only when its box is empty), so the signed-report
    path is what a person sees working.
    """
    w = wire(provider)
    if w is None or not supported(provider):
        return {}
    # A key of the account's own (registered with the sandbox when the account is saved, and
    # again at every start): it outlives this run's key.
    values = {"base_url": link.endpoint(provider), "api_key": ISSUED_PREFIX + new_token()}
    values.update(w.preset)
    values.update((name, new_token()) for name in w.generated)
    return values


def looks_like_old_sandbox(provider: str, base_url: str) -> bool:
    """A loopback address with a sandbox wire path: probably a sandbox of an earlier run."""
    w = wire(provider)
    if w is None or not supported(provider) or not base_url:
        return False
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    loopback = host in ("localhost", "::1") or host.startswith("127.")
    return loopback and parts.path.rstrip("/") == w.path


class SandboxHostService:
    """Starts, configures and stops the built-in sandbox of this process.

    Args:
        settings_file: the settings (reply and STOP rates, the kept port) and their file.
        accounts: the accounts service, told of the running sandbox (:class:`SandboxLink`).
        bus: where account changes are announced.
    """

    def __init__(self, settings_file: SettingsFile, accounts: AccountService, bus: EventBus) -> None:
        self._file = settings_file
        self._accounts = accounts
        self._bus = bus
        self.thread: SandboxThread | None = None
        self.url = ""  # where it runs now, or ""
        self.error = ""  # why it did not start, or ""

    @property
    def running(self) -> bool:
        return self.thread is not None

    def needed_for(self, account: Account) -> bool:
        """Whether sending with ``account`` needs this process's sandbox (a built-in-sandbox account)."""
        return self._accounts.is_builtin_sandbox(account)

    async def start_for(self, account: Account) -> None:
        """For a command that sends with ``account``: start the sandbox if the account needs it
        (and it is not running yet), and hand the account this run's keys."""
        if not self.needed_for(account):
            return
        if self.thread is None:
            await self.start()
        self.configure_account(account.id)

    async def start(self) -> None:
        """Start the sandbox and point the Sandbox account at it (fresh keys per run)."""
        from smsdesk.sandbox import SandboxConfig

        extra = self._file.settings.extra
        cfg = SandboxConfig(
            api_key=new_token(),
            webhook_secret=new_token(),
            rate_reply=float(extra.get("sandbox_reply_rate", 0.3)),
            rate_stop=float(extra.get("sandbox_stop_rate", 0.1)),
        )
        try:
            self.thread = self._on_kept_port(cfg)
            self.url, self.error = self.thread.url, ""
        except OSError as exc:
            self.thread, self.url = None, ""
            self.error = f"The sandbox could not start: {exc}"
            log.error(self.error)
            return
        # In a worker thread: it reads the keys of accounts pointed at the sandbox from the
        # keyring, a blocking D-Bus round trip each.
        link = SandboxLink(self.url, cfg.api_key, cfg.webhook_secret, cfg.channel_jwt_secrets, cfg.workspaces)
        import asyncio  # not at import: see services.accounts

        await asyncio.to_thread(self._accounts.attach_sandbox, link)
        account = self._accounts.builtin_sandbox_account()
        if account is not None:
            self.configure_account(account.id)

    def _on_kept_port(self, cfg: Any) -> SandboxThread:
        kept = self._file.settings.sandbox_port
        try:
            thread = _start_thread(cfg, kept)
        except OSError:
            if not kept:
                raise
            log.info("the sandbox's port %s is in use; this run uses another one", kept)
            return _start_thread(cfg, 0)
        if not kept:
            self._file.keep("sandbox_port", thread.server.port)
        return thread

    def configure_account(self, account_id: int) -> None:
        """Hand a built-in-sandbox account this run's sandbox keys and our webhook URL."""
        if self.thread is None:
            return
        account = self._accounts.get(account_id)
        cfg = self.thread.server.config
        self._accounts.sandbox_url = self.url
        self._accounts.session_secrets[(account.name, "api_key")] = cfg.api_key
        self._accounts.session_secrets[(account.name, "webhook_secret")] = cfg.webhook_secret
        cfg.webhook_url = self._accounts.webhook_url(account)
        self._accounts.forget_adapters()
        self._bus.publish(Changes(accounts=True))

    def stop(self) -> None:
        if self.thread is not None:
            self._accounts.attach_sandbox(None)
            self.thread.stop()
            self.thread = None


def _start_thread(cfg: Any, port: int) -> SandboxThread:
    """A started sandbox thread on ``port`` (0: any free one); nothing left running on failure."""
    from smsdesk.sandbox import SandboxThread

    thread = SandboxThread(cfg, "127.0.0.1", port)
    try:
        thread.start()
    except BaseException:
        thread.stop()
        raise
    return thread
