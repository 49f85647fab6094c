"""Sharing one data folder with a relay (``smsdesk serve``): who receives and polls for it.

Several smsdesk processes may use one database: the window, the command line, and
``smsdesk serve``, the always-on relay. Providers must be polled and tunnels run by one of them
only (two processes polling one account would halve its rate limit; two tunnels would give one
account two public URLs). The rule: while a relay is alive it does both, and the others leave
them to it.

- **As the relay** (:meth:`RelayService.start` with ``serving=True``) this process writes a
  heartbeat every :data:`BEAT_S` seconds (and at once when its tunnel changes) saying where its
  receiver listens and its tunnel's public URL; the heartbeat is removed when it stops, so a
  window takes polling back at once rather than when the heartbeat ages.
- **Beside a relay** this process reads the heartbeats every :data:`CHECK_S` seconds.
  :attr:`RelayService.other` is the live relay, if any (a heartbeat fresher than
  :data:`DEAD_S`; on this computer also a process that still exists, so a killed relay is gone
  at once). While one is alive, this process's accounts use the relay's public URL (their sends
  carry it) and its own tunnel waits; when the relay goes away the tunnel starts here.

Several relays on one team workspace: each dispatches (claims are safe with several
dispatchers), but only the one holding the *lease* (``RelayStore.take_lease``) leads: it
polls and runs the tunnel, as the one relay above. The others stand by: their heartbeats say
``leader: false`` (a window does not take them for the relay), they act as if beside a relay,
and every :data:`LEASE_S` seconds they try to take the lease. The leader checks it as often
and steps down the moment it is lost, so a dead leader's work moves to another relay within
seconds (the store frees a dead relay's lease).

Every change of who receives is announced on the bus as ``Changes(reception=True)``: the
pollers re-decide, the Settings -> Webhooks page and the status bar redraw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from smsdesk.domain.errors import SmsdeskError, StorageError
from smsdesk.domain.events import Changes
from smsdesk.services.accounts import AccountService
from smsdesk.services.bus import EventBus
from smsdesk.services.receiver_host import ReceiverHost
from smsdesk.services.tunnel import TunnelService, TunnelState
from smsdesk.storage.api import MessageStore, RelayStore
from smsdesk.storage.records import RelayRequest

log = logging.getLogger(__name__)

BEAT_S = 10.0  # how often a relay says it is alive
DEAD_S = 35.0  # a heartbeat older than this is a relay that is gone
REQUESTS_S = 0.5  # how often a relay looks for calls desktops ask of it (Test, balance)
ASKED_WITHIN_S = 60.0  # an older request was given up by whoever asked: not made any more
CHECK_S = 1.0  # how often the others read the heartbeats
LEASE_S = 2.0  # how often a relay checks (the leader) or tries to take (the others) the lease


@dataclass(frozen=True, slots=True)
class RelayState:
    """A live relay, as its heartbeat describes it.

    Attributes:
        key: its heartbeat's key (host and process id).
        host: the computer it runs on.
        pid: its process id there.
        receiver: where its receiver listens, or "".
        tunnel: its tunnel's state (``none``, ``starting``, ``up``, ``down``, ``off``).
        public_url: its tunnel's public address while up, or "".
    """

    key: str
    host: str
    pid: int
    receiver: str = ""
    tunnel: str = "none"
    public_url: str = ""

    @classmethod
    def from_heartbeat(cls, info: dict[str, Any]) -> RelayState:
        return cls(
            key=str(info.get("key") or ""),
            host=str(info.get("host") or ""),
            pid=int(info.get("pid") or 0),
            receiver=str(info.get("receiver") or ""),
            tunnel=str(info.get("tunnel") or "none"),
            public_url=str(info.get("public_url") or ""),
        )

    def words(self) -> str:
        """It in words: ``smsdesk serve (pid 4242) on this computer``."""
        where = "on this computer" if self.host == socket.gethostname() else f"on {self.host}"
        return f"smsdesk serve (pid {self.pid}) {where}"


class RelayService:
    """This process's part in sharing the database with a relay (see the module docstring).

    Args:
        relays: the heartbeats in the store.
        accounts: whose public webhook bases follow the relay's tunnel.
        tunnel: this process's tunnel (its state goes into the heartbeat; it waits while a
            relay has one).
        receiver: this process's receiver (its address goes into the heartbeat).
        bus: where changes of who receives are announced, and tunnel changes heard.
    """

    def __init__(
        self,
        relays: RelayStore,
        accounts: AccountService,
        tunnel: TunnelService,
        receiver: ReceiverHost,
        bus: EventBus,
        messages: MessageStore | None = None,
    ) -> None:
        self._relays = relays
        self._messages = messages  # the outbox, to say what waits for a relay (a team workspace)
        # Other calls desktops may ask of a relay, by kind: given the request's subject, they
        # return the answer's words ("withdraw": cancel a scheduled item at its provider).
        self.calls: dict[str, Callable[[int], Awaitable[str]]] = {}
        self._accounts = accounts
        self._tunnel = tunnel
        self._receiver = receiver
        self._bus = bus
        self.relaying = False  # this process is a relay (``smsdesk serve``)
        self.serving = False  # this process is the relay that leads (it holds the lease)
        self.key = ""  # its heartbeat key, while relaying
        self.other: RelayState | None = None  # another live relay, while not serving
        self._tunnel_waits = False  # our tunnel was left to a live relay
        self._wants_tunnel = False  # start() was asked to run a tunnel
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        bus.subscribe(self._on_changes)

    # ---- reading -----------------------------------------------------------------------
    def elsewhere(self) -> str:
        """The live relay in words when another process receives and polls for us, else ""."""
        return self.other.words() if self.other is not None and not self.serving else ""

    # ---- lifecycle ---------------------------------------------------------------------
    def prime(self, *, serving: bool) -> None:
        """Be a relay (``serving``) or not, and learn now whether another one leads (before the
        tunnel and the pollers start). A relay leads when it takes the lease."""
        self.relaying = serving
        self.serving = serving and self._relays.take_lease()
        self._stopping = False
        self.key = self._relays.key() if serving else ""
        self.other = None
        self._check()

    async def start(self, *, tunnel: bool) -> None:
        """Beat as the relay, or watch for one; ``tunnel``: run the tunnel (here, or once the
        relay is gone)."""
        serving = self.serving
        self._wants_tunnel = tunnel
        if tunnel:
            if self.other is not None and not serving:
                # One public URL per database: the relay's. Ours starts if the relay goes away.
                self._tunnel_waits = True
                self._use_relay_base()
                log.info("%s is receiving for this database; no tunnel started here", self.other.words())
            else:
                await self._tunnel.start()
        if self.relaying:
            await self._beat()
            self._spawn(self._heartbeat())
            self._spawn(self._lease())
            if self._accounts.requests is not None:
                self._spawn(self._answer_requests())
        if not serving:
            self._spawn(self._watch())

    async def stop(self) -> None:
        """Stop watching; as the relay, remove the heartbeat at once (a window takes polling
        back without waiting for it to age)."""
        self._stopping = True
        key, self.key = (self.key if self.relaying else ""), ""
        lead, self.serving, self.relaying = self.serving, False, False  # no heartbeat re-announces it
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if key:
            try:
                await self._relays.end(key)
            except SmsdeskError:
                log.warning("could not clear the relay heartbeat; a window will notice in %.0f s", DEAD_S)
        if lead or key:
            await asyncio.to_thread(self._relays.drop_lease)

    # ---- what waits for a relay (a team workspace) ------------------------------------------
    def key_holders(self, account_id: int) -> list[str]:
        """The live relays that hold ``account_id``'s keys ("host (pid N)"), this one included."""
        beats = self._relays.live(DEAD_S)
        return sorted(f"{r['host']} (pid {r['pid']})" for r in beats if account_id in (r.get("accounts") or []))

    def waiting_now(self) -> list[str]:
        """:meth:`waiting_words` for what is queued now, on a team workspace (else nothing: a
        single desktop sends its own messages)."""
        if self._messages is None or not self._accounts.keys_per_computer:
            return []
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        return self.waiting_words(self._messages.waiting_accounts(now))

    def waiting_words(self, waiting: dict[int, int]) -> list[str]:
        """Why messages queued for these accounts (id -> how many) are not going out: no relay
        runs, or none of the running ones holds an account's keys. Empty when nothing waits."""
        if not waiting:
            return []
        beats = self._relays.live(DEAD_S)
        if not beats:
            n = sum(waiting.values())
            return [
                f"{n:,} message{'s' if n != 1 else ''} wait{'s' if n == 1 else ''} for a relay: none is "
                "running ('smsdesk serve' on the relay's computer sends them)."
            ]
        held = {a for r in beats for a in (r.get("accounts") or [])}
        out = []
        for account_id, n in sorted(waiting.items()):
            if account_id in held:
                continue
            try:
                name = self._accounts.get(account_id).name
            except SmsdeskError:
                continue  # a removed account's rows: nothing a relay could do
            out.append(
                f"{n:,} message{'s' if n != 1 else ''} of {name} wait{'s' if n == 1 else ''} for a relay that "
                f"holds the key of account {name} ('smsdesk accounts add --name \"{name}\" ...' on a relay)."
            )
        return out

    async def _answer_requests(self) -> None:
        """A team workspace: make the calls desktops without keys ask of the relays (an
        account's Test, its balance) for the accounts whose keys this relay holds."""
        requests = self._accounts.requests
        assert requests is not None
        while not self._stopping:
            await asyncio.sleep(REQUESTS_S)
            try:
                since = (datetime.now(UTC) - timedelta(seconds=ASKED_WITHIN_S)).isoformat(timespec="milliseconds")
                held = await asyncio.to_thread(self._accounts.held_ids)
                for request in await requests.claim(self.key, held, since):
                    await requests.answer(request.id, *await self._make_call(request))
            except StorageError as exc:
                log.info("answering the desktops' requests failed: %s", exc)
            except Exception:  # noqa: BLE001 - a bad pass must not end the loop
                log.exception("answering the desktops' requests failed")

    async def _make_call(self, request: RelayRequest) -> tuple[bool, str]:
        try:
            account = self._accounts.get(request.account_id)
            if request.kind == "test":
                return True, await self._accounts.test(account)
            if request.kind == "balance":
                value = await self._accounts.balance(account)
                return True, "" if value is None else str(value)
            handler = self.calls.get(request.kind)
            if handler is not None and request.subject is not None:
                return True, await handler(request.subject)
            return False, f"This relay does not know the request '{request.kind}'."
        except SmsdeskError as exc:
            return False, str(exc)

    # ---- as the relay ------------------------------------------------------------------
    def _info(self) -> dict[str, Any]:
        st = self._tunnel.status
        up = st.state == TunnelState.UP
        return {
            "receiver": self._receiver.url,
            "tunnel": st.state.value if st.kind != "none" else "none",
            "public_url": st.public_url if up else "",
            "leader": self.serving,
            "accounts": self._accounts.held_ids(),  # whose keys this relay holds (it sends only those)
        }

    async def _beat(self) -> None:
        await self._relays.beat(self.key, self._info())

    async def _heartbeat(self) -> None:
        while not self._stopping:
            await asyncio.sleep(BEAT_S)
            try:
                await self._beat()
            except SmsdeskError:
                log.exception("the relay heartbeat could not be saved")

    def _on_changes(self, changes: Changes) -> None:
        # A relay's tunnel changed: say so now, not at the next heartbeat (its own
        # announcements also carry ``reception``; a beat more is harmless).
        if changes.reception and self.relaying and not self._stopping:
            self._spawn(self._beat())

    async def _lease(self) -> None:
        """Keep (the leader) or try to take (a standby) the lease every :data:`LEASE_S`."""
        while not self._stopping:
            await asyncio.sleep(LEASE_S)
            try:
                if self.serving and not await asyncio.to_thread(self._relays.lease_held):
                    await self._step_down()
                elif not self.serving and await asyncio.to_thread(self._relays.take_lease):
                    await self._take_over()
            except Exception:  # noqa: BLE001 - a bad pass must not end the lease loop
                log.exception("checking the relay lease failed")

    async def _take_over(self) -> None:
        if self._stopping:
            await asyncio.to_thread(self._relays.drop_lease)
            return
        log.info("this relay now leads: it polls and runs the tunnel")
        self.serving, self.other = True, None
        self._tunnel_waits = False
        if self._wants_tunnel and self._receiver.running:
            await self._tunnel.start()
        await self._beat()
        self._bus.publish(Changes(webhooks=True, reception=True))

    async def _step_down(self) -> None:
        log.warning("this relay lost the lead (its database connection dropped); another relay takes over")
        self.serving = False
        await self._tunnel.stop()
        self._tunnel_waits = self._wants_tunnel
        self._spawn(self._watch())
        self._check()
        self._bus.publish(Changes(webhooks=True, reception=True))

    # ---- beside a relay ----------------------------------------------------------------
    async def _watch(self) -> None:
        while not self._stopping and not self.serving:  # a standby relay that takes the lead stops
            await asyncio.sleep(CHECK_S)
            try:
                self._check()
            except StorageError as exc:  # the database out of reach: the window's banner says so
                log.info("reading the relay heartbeats failed: %s", exc)
            except Exception:  # noqa: BLE001 - a bad pass must not end the watch
                log.exception("reading the relay heartbeats failed")

    def _check(self) -> None:
        if self.serving:
            return
        beats = sorted(
            (r for r in self._relays.live(DEAD_S, exclude=self.key) if r.get("leader", True)),  # not standbys
            key=lambda r: str(r.get("at")),
        )
        found = RelayState.from_heartbeat(beats[-1]) if beats else None  # the freshest
        if found == self.other:
            return
        self.other = found
        log.info("relay on this database: %s", self.elsewhere() or "none")
        self._use_relay_base()
        if found is None and self._tunnel_waits and self._receiver.running and not self._stopping:
            self._tunnel_waits = False
            log.info("the relay stopped; starting this process's own tunnel")
            self._spawn(self._tunnel.start())
        self._bus.publish(Changes(webhooks=True, reception=True))

    def _use_relay_base(self) -> None:
        """Our accounts' public webhook URLs are the relay's (sends carry them) while it has a
        tunnel up and we do not; the built-in sandbox always calls our own receiver."""
        if self._tunnel.is_up():
            return
        url = self.other.public_url if self.other is not None else ""
        self._accounts.public_base.clear()
        if url:
            for account in self._accounts.all():
                if not self._accounts.is_builtin_sandbox(account):
                    self._accounts.public_base[account.id] = url
        self._accounts.forget_adapters()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            with contextlib.suppress(Exception):
                log.error("relay task failed", exc_info=task.exception())
