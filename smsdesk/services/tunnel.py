"""A public tunnel to the local webhook receiver: ngrok (in process) or any command.

Providers can only call a public HTTPS URL; the receiver listens on loopback (it never binds
every interface unless told to). Two ways out:

- ``ngrok``: the official ``ngrok`` Python package (optional extra ``smsdesk[ngrok]``),
  imported only when chosen; its authtoken lives in the keyring under :data:`NGROK_TOKEN_KEY`
  (or, for a headless ``smsdesk serve`` without a keyring, in the environment variable
  :data:`NGROK_TOKEN_ENV`; never on the command line). The SDK reconnects a dropped session
  by itself, but a listener that is gone for good is not: the service asks the SDK every
  :data:`NGROK_CHECK_S` seconds whether our listener is still there, and goes DOWN (and
  restarts) when it is not.
- ``command``: whatever the person names, e.g. ``cloudflared tunnel --url {local}``. It runs
  as a supervised child in its own process group; the first ``https://`` URL in its output
  is the public base. When it dies it is restarted with exponential back-off; ``stop()``
  terminates the whole group (cloudflared forks helpers on some systems).

The public base feeds ``AccountService.public_base`` so ``webhook_url(account, public=True)``
is what a person pastes into the provider's dashboard; the polling service reads
:meth:`TunnelService.is_up` to decide whether it must poll instead. State changes are
published as ``Changes(webhooks=True)`` (the Settings -> Webhooks panel listens to that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shlex
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from smsdesk.config.secrets import SecretStore
from smsdesk.config.settings import Settings
from smsdesk.domain.events import Changes
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.receiver_host import ReceiverHost

log = logging.getLogger(__name__)

NGROK_TOKEN_KEY = "tunnel/ngrok_authtoken"
NGROK_TOKEN_ENV = "SMSDESK_SECRET_NGROK_AUTHTOKEN"
NGROK_CHECK_S = 10.0
URL_RE = re.compile(r"https://[A-Za-z0-9.-]+(?::\d+)?(?:/[^\s\"'<>|]*)?")
URL_TIMEOUT_S = 45.0  # quick tunnels can take a while to print their URL
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0
STABLE_AFTER_S = 60.0  # a tunnel that stayed up this long resets the back-off
NGROK_MISSING = (
    "ngrok support is not installed. Install it with: pip install 'smsdesk[ngrok]' "
    "(or choose 'Command' and use cloudflared)."
)


class TunnelState(StrEnum):
    OFF = "off"
    STARTING = "starting"
    UP = "up"
    DOWN = "down"


class TunnelKind(StrEnum):
    NONE = "none"
    NGROK = "ngrok"
    COMMAND = "command"


@dataclass
class TunnelStatus:
    """What the panel shows. ``error`` is a sentence for a person; ``output`` the last lines."""

    kind: str = TunnelKind.NONE.value
    state: TunnelState = TunnelState.OFF
    public_url: str = ""
    error: str = ""
    restarts: int = 0
    since: float = 0.0
    output: deque[str] = field(default_factory=lambda: deque(maxlen=40))


def find_public_url(line: str) -> str | None:
    """The first https URL in a line of tunnel output, without trailing punctuation."""
    for match in URL_RE.finditer(line):
        url = match.group(0).rstrip(".,;:)]}").rstrip("/")
        host = url[len("https://") :].split("/")[0].split(":")[0]
        # cloudflared prints its own docs/ToS links before the tunnel URL; skip well-known ones.
        if host.endswith(("cloudflare.com", "ngrok.com", "github.com")) and not host.endswith(
            ("trycloudflare.com", "ngrok-free.app", "ngrok.app", "ngrok.io")
        ):
            continue
        return url
    return None


def expand_command(template: str, local_url: str) -> list[str]:
    """Split a person's command line and fill ``{local}`` / ``{port}`` / ``{host}``."""
    parts = urlsplit(local_url)
    values = {"local": local_url, "port": str(parts.port or ""), "host": parts.hostname or "127.0.0.1"}
    argv = shlex.split(template, posix=os.name != "nt")
    return [arg.format_map(values) if "{" in arg else arg for arg in argv]


class TunnelService:
    """Supervises one tunnel for this process; all methods run on the app loop."""

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        accounts: AccountService,
        bus: EventBus,
        receiver: ReceiverHost,
    ) -> None:
        self._settings = settings
        self.secrets = secrets
        self.accounts = accounts
        self.bus = bus
        self._receiver = receiver
        self.status = TunnelStatus()
        self._task: asyncio.Task[None] | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._ngrok_url = ""
        self._stopping = False
        self._listeners: list[Callable[[TunnelStatus], None]] = []
        self.url_timeout = URL_TIMEOUT_S
        self.backoff_start = BACKOFF_START_S
        self.ngrok_check_s = NGROK_CHECK_S
        # An account added while the tunnel is up needs its public URL too.
        bus.subscribe(lambda ch: self._publish_base() if ch.accounts and self.is_up() else None)

    # ---- reading -----------------------------------------------------------------------
    def is_up(self, account_id: int | None = None) -> bool:
        """True when providers can reach this receiver from outside (for ``account_id``)."""
        if self.status.state != TunnelState.UP or not self.status.public_url:
            return False
        return account_id is None or bool(self.accounts.public_base.get(account_id))

    def has_ngrok_token(self) -> bool:
        if os.environ.get(NGROK_TOKEN_ENV):
            return True
        try:
            return bool(self.secrets.get(NGROK_TOKEN_KEY))
        except Exception:  # noqa: BLE001 - no keyring means no token, not a crash
            return False

    def set_ngrok_token(self, token: str) -> None:
        """Store (or with an empty string, forget) the ngrok authtoken in the keyring."""
        if token:
            self.secrets.set(NGROK_TOKEN_KEY, token.strip())
        else:
            self.secrets.delete(NGROK_TOKEN_KEY)

    def on_change(self, listener: Callable[[TunnelStatus], None]) -> None:
        """Observe every state change as it happens (diagnostics and tests; the bus coalesces
        a burst of changes into one announcement)."""
        self._listeners.append(listener)

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Start the tunnel the settings ask for (no-op for ``none``); returns at once."""
        await self.stop()
        kind = str(getattr(self._settings, "tunnel_kind", "none") or "none")
        self._stopping = False
        self.status = TunnelStatus(kind=kind)
        if kind == TunnelKind.NONE:
            self._changed()
            return
        if kind == TunnelKind.COMMAND and not str(self._settings.tunnel_command).strip():
            self._set(TunnelState.DOWN, error="No tunnel command is set.")
            return
        if kind not in (TunnelKind.NGROK, TunnelKind.COMMAND):
            self._set(TunnelState.DOWN, error=f"Unknown tunnel kind '{kind}'.")
            return
        self._set(TunnelState.STARTING, url="")  # visible at once, before the task first runs
        self._task = asyncio.get_running_loop().create_task(self._supervise(kind), name="smsdesk-tunnel")

    async def stop(self) -> None:
        """Stop the tunnel (terminating its process group) and forget the public URL."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:  # first, so a killed child does not read as a dropped tunnel
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._kill_proc()
        await self._close_ngrok()
        if self.status.state != TunnelState.OFF:
            self._set(TunnelState.OFF, url="", error="")

    async def _supervise(self, kind: str) -> None:
        delay = self.backoff_start
        while not self._stopping:
            started = time.monotonic()
            self._set(TunnelState.STARTING, url="", error=self.status.error)
            try:
                if kind == TunnelKind.NGROK:
                    await self._run_ngrok()
                else:
                    await self._run_command()
            except asyncio.CancelledError:
                raise
            except TunnelError as exc:
                self._set(TunnelState.DOWN, url="", error=str(exc))
            except Exception as exc:  # noqa: BLE001 - a tunnel failure must not take the app down
                log.exception("tunnel failed")
                self._set(TunnelState.DOWN, url="", error=f"The tunnel failed: {exc}")
            if self._stopping:
                break
            if self.status.state != TunnelState.DOWN:
                self._set(TunnelState.DOWN, url="", error=self.status.error or "The tunnel stopped.")
            if time.monotonic() - started > STABLE_AFTER_S:
                delay = self.backoff_start
            self.status.restarts += 1
            log.info("tunnel down (%s); restarting in %.1f s", self.status.error, delay)
            await asyncio.sleep(delay)
            delay = min(BACKOFF_MAX_S, delay * 2)

    # ---- command tunnels ---------------------------------------------------------------
    async def _run_command(self) -> None:
        argv = expand_command(str(self._settings.tunnel_command), self._receiver.base_url())
        kwargs: dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]  # Windows only
        else:
            kwargs["start_new_session"] = True  # own process group: stop() kills helpers too
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                **kwargs,
            )
        except (OSError, ValueError) as exc:
            raise TunnelError(f"Could not start '{argv[0] if argv else ''}': {exc}") from exc
        self._proc = proc
        found: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        readers = [
            asyncio.ensure_future(self._read_lines(proc.stdout, found)),
            asyncio.ensure_future(self._read_lines(proc.stderr, found)),
        ]
        try:
            waiter: asyncio.Future[Any] = asyncio.ensure_future(_exited(proc))
            pair: set[asyncio.Future[Any]] = {found, waiter}
            done, _ = await asyncio.wait(pair, timeout=self.url_timeout, return_when=asyncio.FIRST_COMPLETED)
            if found in done:
                self._set(TunnelState.UP, url=found.result(), error="")
                await waiter
                raise TunnelError(f"The tunnel command exited (code {proc.returncode}).")
            if waiter in done:
                tail = self.status.output[-1] if self.status.output else ""
                raise TunnelError(
                    f"The tunnel command exited (code {proc.returncode}) before showing a URL. {tail}".strip()
                )
            raise TunnelError(f"The tunnel command showed no https URL within {self.url_timeout:.0f} s.")
        finally:
            await self._kill_proc()
            for r in readers:
                r.cancel()
            found.cancel()

    async def _read_lines(self, stream: asyncio.StreamReader | None, found: asyncio.Future[str]) -> None:
        if stream is None:
            return
        while True:
            try:
                raw = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue  # an over-long line; skip it
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip()
            self.status.output.append(line)
            log.debug("tunnel: %s", line)
            if not found.done():
                url = find_public_url(line)
                if url:
                    found.set_result(url)

    async def _kill_proc(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # The whole group, even when its leader already exited: helpers it left behind would
        # keep running (and keep our pipes open).
        _signal_group(proc, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)

    # ---- ngrok -------------------------------------------------------------------------
    async def _run_ngrok(self) -> None:
        try:
            import ngrok
        except ImportError as exc:
            self._stopping = True  # restarting cannot install it
            raise TunnelError(NGROK_MISSING) from exc
        token = os.environ.get(NGROK_TOKEN_ENV) or await asyncio.to_thread(self.secrets.get, NGROK_TOKEN_KEY)
        if not token:
            self._stopping = True
            raise TunnelError(
                "ngrok needs an authtoken: paste it in Settings -> Webhooks (stored in the keyring), "
                f"or for smsdesk serve without a keyring set {NGROK_TOKEN_ENV}."
            )
        local = urlsplit(self._receiver.base_url()).netloc  # the SDK wants host:port
        try:
            listener = await asyncio.to_thread(ngrok.forward, local, authtoken=token)
            if asyncio.iscoroutine(listener) or isinstance(listener, asyncio.Future):
                listener = await listener
            url = str(listener.url())
        except Exception as exc:  # noqa: BLE001 - the SDK raises plain ValueError/OSError
            raise TunnelError(f"ngrok refused: {_scrub(str(exc), token)}") from exc
        self._ngrok_url = url
        self._set(TunnelState.UP, url=url, error="")
        # Up until stop() cancels us, or until the SDK no longer has our listener.
        while True:
            await asyncio.sleep(self.ngrok_check_s)
            problem = await _ngrok_problem(ngrok, url, token)
            if problem:
                await self._close_ngrok()
                raise TunnelError(problem)

    async def _close_ngrok(self) -> None:
        url, self._ngrok_url = self._ngrok_url, ""
        if not url:
            return
        try:
            import ngrok

            await asyncio.to_thread(ngrok.disconnect, url)
        except Exception:  # noqa: BLE001 - best effort at shutdown
            log.debug("ngrok disconnect failed", exc_info=True)

    # ---- state -------------------------------------------------------------------------
    def _set(self, state: TunnelState, *, url: str | None = None, error: str | None = None) -> None:
        st = self.status
        changed = (
            st.state != state or (url is not None and url != st.public_url) or (error is not None and error != st.error)
        )
        st.state = state
        if url is not None:
            st.public_url = url
        if error is not None:
            st.error = error
        if state in (TunnelState.UP, TunnelState.DOWN):
            st.since = time.time()
        if state == TunnelState.UP:
            log.info("tunnel up: %s", st.public_url)
        if changed:
            self._publish_base()
            self._changed()

    def _publish_base(self) -> None:
        url = self.status.public_url if self.status.state == TunnelState.UP else ""
        self.accounts.public_base.clear()
        if url:
            for account in self.accounts.all():
                # The built-in sandbox runs on this computer and calls the receiver directly.
                if not self.accounts.is_builtin_sandbox(account):
                    self.accounts.public_base[account.id] = url
        # Adapters carry their webhook URL (PureSMS sends it per message): rebuild them.
        self.accounts.forget_adapters()

    def _changed(self) -> None:
        self.bus.publish(Changes(webhooks=True, reception=True))
        for listener in list(self._listeners):
            try:
                listener(self.status)
            except Exception:  # noqa: BLE001
                log.exception("tunnel listener failed")


async def _ngrok_problem(ngrok: Any, url: str, token: str) -> str:
    """Why the ngrok listener for ``url`` is gone, or "" while the SDK still lists it."""
    lister = getattr(ngrok, "get_listeners", None) or getattr(ngrok, "get_tunnels", None)
    if lister is None:
        return ""  # an SDK that cannot say: trust it to reconnect
    try:
        found = await asyncio.to_thread(lister)
        if asyncio.iscoroutine(found) or isinstance(found, asyncio.Future):
            found = await found
        urls = {str(listener.url()) for listener in found or ()}
    except Exception as exc:  # noqa: BLE001 - the SDK raises plain ValueError/OSError
        return f"The ngrok session failed: {_scrub(str(exc), token)}"
    if url not in urls:
        return "The ngrok tunnel dropped (ngrok no longer has it); restarting it."
    return ""


async def _exited(proc: asyncio.subprocess.Process) -> int:
    """The leader's exit code. ``proc.wait()`` also waits for the pipes to close (Python
    3.11), which never happens while a helper the command forked still holds them."""
    while proc.returncode is None:  # noqa: ASYNC110 - the child watcher sets it; nothing to await
        await asyncio.sleep(0.2)
    return proc.returncode


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    try:
        if os.name == "nt":
            if proc.returncode is None:
                proc.terminate()
        else:
            os.killpg(proc.pid, sig)  # our child leads its own group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


class TunnelError(Exception):
    """A tunnel problem worded for a person."""


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


__all__ = [
    "NGROK_TOKEN_ENV",
    "NGROK_TOKEN_KEY",
    "TunnelError",
    "TunnelKind",
    "TunnelService",
    "TunnelState",
    "TunnelStatus",
    "expand_command",
    "find_public_url",
]
