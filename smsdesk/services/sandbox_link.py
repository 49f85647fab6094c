"""Pointing any provider's account at the built-in sandbox (demo mode).

The in-app sandbox speaks every wire format on one port: PureSMS at the root, Mobivate under
``/mobivate``, Send-2 under ``/send2`` and the Channel API contract under ``/channel``. Its
port is kept in the settings, but a person would still have to find it, and the keys it accepts
are made by smsdesk; Settings -> Accounts asks :func:`form_values` for them instead ("Use the
built-in sandbox"). Keys it issues start with ``sbx_``; only those are registered with it, so
a mistyped key is refused as a real provider would refuse it.

The runtime hands the accounts service a :class:`SandboxLink` when the sandbox starts. This
module imports nothing from the sandbox itself (services sit below it in the layer rule): the
link carries plain values and two of the sandbox's own dicts, which the accounts service fills:

- account keys: each account pointed at the sandbox gets a key of its own (made when the form
  is filled), registered at every start, so the account keeps working across restarts (the
  sandbox's port is kept in the settings); a PureSMS account's key also names its webhook and
  signing secret, so its receipts come back to it, as from a workspace of its own;
- per-callback JWT secrets, so a Channel API account's reports are signed with *its* secret.

Keys stay in memory (and in the keyring once a person saves the account), never on disk.
"""

from __future__ import annotations

import secrets as pysecrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Where each provider's wire format lives on the sandbox ("": the root).
WIRE_PATHS = {"sandbox": "", "puresms": "", "mobivate": "/mobivate", "send2": "/send2", "channel": "/channel"}

# What a person should know about each provider against the sandbox (shown after filling).
NOTES = {
    "puresms": "Receipts and replies come back to this account's webhook, signed with its webhook secret.",
    "mobivate": "Receipts come back to this account's webhook (its callback URL carries the token).",
    "send2": "Send-2 has no webhooks: delivery shows up by polling, a few seconds after sending.",
    "channel": "Delivery reports come back to this account's webhook, signed with its callback JWT secret.",
}


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
        return self.url.rstrip("/") + WIRE_PATHS.get(provider, "")

    def points_here(self, provider: str, base_url: str) -> bool:
        """Whether an account with this provider and base URL talks to this sandbox run."""
        if provider not in WIRE_PATHS or provider == "sandbox":
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
    return provider in WIRE_PATHS and provider != "sandbox"


def form_values(link: SandboxLink, provider: str) -> dict[str, str]:
    """Field values that point an account of ``provider`` at the sandbox, with a key of its own.

    Channel API accounts also get a fresh ``jwt_secret`` suggestion (the form uses it only when
    its box is empty), so the signed-report path is what a person sees working.
    """
    if not supported(provider):
        return {}
    # A key of the account's own (registered with the sandbox when the account is saved, and
    # again at every start): it outlives this run's key.
    values = {"base_url": link.endpoint(provider), "api_key": ISSUED_PREFIX + pysecrets.token_urlsafe(24)}
    if provider == "puresms":
        values["webhook_secret"] = pysecrets.token_urlsafe(24)
    elif provider == "send2":
        values["sender"] = "12345"  # Send-2 sender IDs are numbers
    elif provider == "channel":
        values.update(url="/send", verify_url="/verify", jwt_secret=pysecrets.token_urlsafe(24))
    return values


def looks_like_old_sandbox(provider: str, base_url: str) -> bool:
    """A loopback address with a sandbox wire path: probably a sandbox of an earlier run."""
    if not supported(provider) or not base_url:
        return False
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    loopback = host in ("localhost", "::1") or host.startswith("127.")
    return loopback and parts.path.rstrip("/") == WIRE_PATHS[provider]
