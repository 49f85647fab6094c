"""How each account's delivery receipts and replies reach smsdesk right now, in one sentence.

Receipts and replies come in one of a few ways: the built-in sandbox calls this computer's
receiver; a provider calls in from the internet through a tunnel (this process's own, or the
relay's when ``smsdesk serve`` runs on the same data folder); smsdesk asks the provider
(polling); or, until something is set up, not at all. :meth:`ReceptionService.reception`
works out which from the account's provider declaration, the running sandbox, the tunnel,
the pollers and the relay, and says it in words for the Settings -> Webhooks page and the
status bar, so no view has to know about providers, tunnels or pollers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from smsdesk.domain.models import Account
from smsdesk.services.accounts import AccountService
from smsdesk.services.polling import PollingService
from smsdesk.services.receiver_host import ReceiverHost
from smsdesk.services.relay import RelayService
from smsdesk.services.sandbox_host import SandboxHostService
from smsdesk.services.tunnel import TunnelService, TunnelState

TUNNEL_HINT = "open Details below and start a tunnel (ngrok, or a command such as cloudflared)"
POLL_SETTING = "“Ask the provider for updates” (Settings → Accounts → Advanced)"


class Route(StrEnum):
    """The way receipts and replies reach smsdesk now."""

    SANDBOX = "sandbox"  # the built-in sandbox, on this computer
    TUNNEL = "tunnel"  # the provider calls in through this process's tunnel
    RELAY = "relay"  # smsdesk serve on this data folder receives or polls for it
    POLLING = "polling"  # smsdesk asks the provider
    NOT_YET = "not_yet"  # nothing brings them in yet; the text says what to do
    OFF = "off"  # the account cannot be used now (its built-in sandbox is not running)


@dataclass(frozen=True, slots=True)
class Reception:
    """One account's answer.

    Attributes:
        route: how receipts and replies arrive now.
        text: one plain sentence for a person (what happens, or what to do).
        detail: the technical why, for a tooltip (addresses, the pollers' reason, errors).
        webhook_url: the address the provider calls (public when a tunnel is up), or "".
        paste: whether a person must paste ``webhook_url`` into the provider's dashboard.
        problem: what goes wrong on the way now (the last poll's error), or "".
    """

    route: Route
    text: str
    detail: str = ""
    webhook_url: str = ""
    paste: bool = False
    problem: str = ""

    @property
    def working(self) -> bool:
        """Receipts and replies can arrive now."""
        return self.route not in (Route.NOT_YET, Route.OFF)


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    """This process's receiver and built-in sandbox.

    Attributes:
        receiver_url: where the receiver listens, or "" when it is not running.
        receiver_error: why it is not running, or "".
        sandbox_url: the running built-in sandbox's address, or "".
        sandbox_error: why the built-in sandbox did not start, or "".
    """

    receiver_url: str
    receiver_error: str
    sandbox_url: str
    sandbox_error: str


@dataclass(frozen=True, slots=True)
class Relay:
    """Another process (``smsdesk serve``) that receives and polls for this data folder.

    Attributes:
        who: it in words ("smsdesk serve (pid 4242) on this computer").
        receiver: its receiver's address, or "" when it did not say.
        tunnel: its tunnel's state ("none", "starting", "up", "down", "off").
        public_url: its public address while its tunnel is up, or "".
    """

    who: str
    receiver: str
    tunnel: str
    public_url: str


class ReceptionService:
    """Answers "how do this account's receipts and replies reach smsdesk now?".

    Args:
        accounts: the accounts (provider declarations, the running sandbox, webhook URLs).
        tunnel: this process's tunnel.
        polling: the pollers (whether an account is polled, and the last poll error).
        relay: sharing the data folder with ``smsdesk serve`` (the live relay, if another
            process is it).
        receiver: this process's receiver (its address, or why it is not running).
        sandbox: this process's built-in sandbox (why it did not start).
    """

    def __init__(
        self,
        accounts: AccountService,
        tunnel: TunnelService,
        polling: PollingService,
        relay: RelayService,
        receiver: ReceiverHost,
        sandbox: SandboxHostService,
    ) -> None:
        self.accounts = accounts
        self.tunnel = tunnel
        self.polling = polling
        self._relay = relay
        self._receiver = receiver
        self._sandbox = sandbox

    def waiting_for_relay(self) -> list[str]:
        """On a team workspace: why queued messages are not going out (no relay running, or
        none holding an account's keys), one sentence each; empty when nothing waits."""
        return self._relay.waiting_now()

    def receiver(self) -> tuple[str, str]:
        """This computer's receiver: (its address, or "" and why it is not running)."""
        return self._receiver.url, self._receiver.error

    def sandbox_address(self) -> str:
        """The running built-in sandbox's address, or "" when it is not running."""
        link = self.accounts.sandbox
        return link.url if link is not None else ""

    def reception(self, account: Account) -> Reception:
        """How ``account``'s delivery receipts and replies reach smsdesk now, in words."""
        spec = self.accounts.spec(account)
        caps = spec.caps
        name = spec.name
        what = "receipts and replies" if caps.inbound_poll or caps.webhooks else "delivery reports"
        local_url, receiver_error = self.receiver()
        sandbox = self.accounts.sandbox_use(account)
        public = self.accounts.public_base.get(account.id, "")
        url = self.accounts.webhook_url(account, public=bool(public)) if caps.webhooks else ""
        polled, why = self.polling.should_poll(account)
        poll = self.polling.state.get(account.id)
        poll_error = poll.last_error if poll is not None and polled else ""
        relay = self._relay.elsewhere()

        if sandbox == "stopped":
            if relay:  # the relay runs this data folder's sandbox and receiver, not this process
                return Reception(Route.RELAY, f"{relay} receives them for this data folder.")
            return Reception(
                Route.OFF,
                "Not in use: the built-in sandbox is off (demo mode is off in "
                "Settings → General), so this account sends nothing and receives nothing.",
            )
        if sandbox == "elsewhere":
            return Reception(
                Route.NOT_YET,
                "Not yet: its base URL points at a built-in sandbox that is not "
                "running. Press “Use the built-in sandbox” in Settings → Accounts and Save, or "
                "turn on demo mode.",
                f"Base URL: {account.base_url}",
            )
        if sandbox == "running":
            if caps.webhooks:
                if receiver_error:
                    return self._no_receiver(receiver_error)
                return Reception(
                    Route.SANDBOX,
                    f"Demo: the built-in sandbox sends {what} straight to smsdesk on this computer.",
                    f"Receiver: {local_url}",
                    url,
                )
            if polled:
                return Reception(
                    Route.SANDBOX,
                    f"Demo: smsdesk asks the built-in sandbox for {what} every few seconds.",
                    f"Polling: {why}.",
                )
            if relay:
                return Reception(Route.RELAY, f"{relay} asks the built-in sandbox for {what}.", why)
            return Reception(
                Route.NOT_YET,
                f"Not yet: asking for updates is off for this account. Set {POLL_SETTING} to auto.",
                f"Polling: {why}.",
            )

        paste = bool(caps.webhooks and not caps.callback_per_send)
        if caps.webhooks and self.tunnel.is_up(account.id):
            if receiver_error:
                return self._no_receiver(receiver_error)
            host = urlsplit(public).hostname or public
            text = f"Through the tunnel at {host}: {name} calls smsdesk there."
            if paste:
                text += f" Paste this account's webhook URL into the {name} dashboard (Copy URL)."
            return Reception(Route.TUNNEL, text, f"Public URL: {public}", url, paste)
        if caps.webhooks and public:
            host = urlsplit(public).hostname or public
            text = f"Through {relay or 'the relay'} and its tunnel at {host}."
            if paste:
                text += f" Paste this account's webhook URL into the {name} dashboard (Copy URL)."
            return Reception(Route.RELAY, text, f"Public URL: {public}", url, paste)
        if polled:
            reason = "no tunnel is up" if caps.webhooks else f"{name} has no webhooks"
            text = f"smsdesk asks {name} for {what} every few seconds ({reason})."
            detail = f"Polling: {why}."
            if poll_error:
                text = f"smsdesk asks {name} for {what}, but the last request failed: {_headline(poll_error)}"
                detail += f"\nLast error: {poll_error}"
            return Reception(Route.POLLING, text, detail, url, paste, problem=poll_error)
        if relay and why == f"{relay} polls it":  # the pollers leave this account to the relay
            return Reception(Route.RELAY, f"{relay} asks {name} for {what}.", f"Polling: {why}.", url, paste)
        if not caps.webhooks:
            return Reception(
                Route.NOT_YET,
                f"Not yet: asking {name} for updates is off for this account. Set {POLL_SETTING} to auto.",
                f"Polling: {why}.",
            )
        return self._needs_tunnel(name, relay, url, paste, caps.status_poll or caps.inbound_poll)

    def _needs_tunnel(self, name: str, relay: str, url: str, paste: bool, pollable: bool) -> Reception:
        """A provider that must call in from the internet, and nothing is open to it yet."""
        if relay:
            return Reception(
                Route.NOT_YET,
                f"Not yet: {relay} receives for this data folder but has no tunnel, "
                f"so {name} cannot reach it. Start smsdesk serve with a tunnel "
                "(--tunnel ngrok, or --tunnel-command).",
                "",
                url,
                paste,
            )
        st = self.tunnel.status
        if st.state == TunnelState.STARTING:
            return Reception(Route.NOT_YET, "Not yet: the tunnel is starting…", "", url, paste)
        if st.state == TunnelState.DOWN:
            return Reception(
                Route.NOT_YET,
                f"Not yet: the tunnel is down ({st.error.rstrip('.') or 'no reason given'}). "
                "Check it under Details below.",
                st.error,
                url,
                paste,
            )
        also = f", or set {POLL_SETTING} to auto" if pollable else ""
        return Reception(
            Route.NOT_YET,
            f"Not yet: {name} must reach smsdesk from the internet. To receive them, {TUNNEL_HINT}{also}.",
            "No tunnel is up; the receiver is on this computer only.",
            url,
            paste,
        )

    @staticmethod
    def _no_receiver(error: str) -> Reception:
        return Reception(
            Route.NOT_YET,
            "Not yet: smsdesk's receiver on this computer is not running. Restart "
            "smsdesk; if this stays, see Details below.",
            error,
        )

    # ---- what the window shows besides each account (appended: views ask the service) ----
    def status(self) -> ProcessStatus:
        """This process's receiver and built-in sandbox: their addresses, or why they are not running."""
        url, error = self.receiver()
        return ProcessStatus(url, error, self.sandbox_address(), self._sandbox.error)

    def relay(self) -> Relay | None:
        """Another process (``smsdesk serve``) receiving and polling for this data folder, or None."""
        other = self._relay.other if self._relay.elsewhere() else None
        if other is None:
            return None
        return Relay(other.words(), other.receiver, other.tunnel, other.public_url)


def _headline(error: str) -> str:
    """An error's first words for the one-line answer; the whole of it goes in the tooltip."""
    head = error.split(" (", 1)[0].split(". ", 1)[0].rstrip(".;: ")
    return head + "."
