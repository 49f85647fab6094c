"""Pointing any provider's account at the built-in sandbox (demo mode).

The in-app sandbox speaks every wire format on one port: PureSMS at the root, Mobivate under
``/mobivate``, Send-2 under ``/send2`` and the Channel API contract under ``/channel``. Its port
and API key are new each start, so a person cannot type them in; Settings -> Accounts asks
:func:`form_values` for them instead ("Use the built-in sandbox").

The runtime hands the accounts service a :class:`SandboxLink` when the sandbox starts. This
module imports nothing from the sandbox itself (services sit below it in the layer rule): the
link carries plain values and the sandbox's own dict of per-callback JWT secrets, which the
accounts service fills so a Channel API account's reports are signed with *its* jwt_secret.
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
    "puresms": "PureSMS-format receipts from the sandbox go to the Sandbox account's webhook, so this "
               "account's messages stay at Sent (the Sandbox account itself shows the full cycle).",
    "mobivate": "Receipts come back to this account's webhook (its callback URL carries the token).",
    "send2": "Send-2 has no webhooks: delivery shows up by polling, a few seconds after sending.",
    "channel": "Delivery reports come back to this account's webhook, signed with its callback JWT secret.",
}


@dataclass(slots=True)
class SandboxLink:
    """The running sandbox, as the accounts service sees it.

    Attributes:
        url: its root address (``http://127.0.0.1:PORT``).
        api_key: this run's key, accepted on every wire format.
        webhook_secret: PureSMS-format receipt signing secret.
        channel_jwt_secrets: the sandbox's own map of webhook URL path -> JWT secret.
    """

    url: str
    api_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    channel_jwt_secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def endpoint(self, provider: str) -> str:
        return self.url.rstrip("/") + WIRE_PATHS.get(provider, "")

    def points_here(self, provider: str, base_url: str) -> bool:
        """Whether an account with this provider and base URL talks to this sandbox run."""
        if provider not in WIRE_PATHS or provider == "sandbox":
            return False
        return base_url.rstrip("/") == self.endpoint(provider)

    def register_jwt(self, webhook_url: str, secret: str) -> None:
        path = urlsplit(webhook_url).path
        if secret:
            self.channel_jwt_secrets[path] = secret
        else:
            self.channel_jwt_secrets.pop(path, None)


# Values the form only fills into an empty box (a person's own choice wins).
SUGGESTED = frozenset({"sender", "jwt_secret"})


def supported(provider: str) -> bool:
    return provider in WIRE_PATHS and provider != "sandbox"


def form_values(link: SandboxLink, provider: str) -> dict[str, str]:
    """Field values that point an account of ``provider`` at the sandbox.

    Channel API accounts also get a fresh ``jwt_secret`` suggestion (the form uses it only when
    its box is empty), so the signed-report path is what a person sees working.
    """
    if not supported(provider):
        return {}
    values = {"base_url": link.endpoint(provider), "api_key": link.api_key}
    if provider == "puresms":
        values["webhook_secret"] = link.webhook_secret
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
