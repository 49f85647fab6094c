"""The sandbox's knobs (:class:`SandboxConfig`) and how a person sets them from the command line.

Rates are probabilities in 0..1; delays are seconds. ``parse_knobs`` checks names, types and
ranges so ``smsdesk sandbox --set`` can refuse a typo instead of silently ignoring it.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit


@dataclass
class SandboxConfig:
    """Knobs. Rates are probabilities in 0..1; delays are seconds."""

    api_key: str = field(default="sandbox-key", repr=False)
    webhook_url: str = ""
    webhook_secret: str = field(default="sandbox-secret", repr=False)
    inbound_number: str = "+447700900999"
    # receipts
    dispatch_delay: float = 0.2
    final_delay: float = 0.6
    rate_failed: float = 0.0
    rate_rejected: float = 0.0
    rate_expired: float = 0.0
    # replies
    rate_reply: float = 0.0
    rate_stop: float = 0.0
    reply_delay: float = 1.0
    # faults
    latency: float = 0.0
    rate_429: float = 0.0
    retry_after: int = 1
    rate_500: float = 0.0
    rate_400: float = 0.0  # refuse the send as invalid (a permanent refusal, in the wire's error shape)
    rate_timeout: float = 0.0
    timeout_hang: float = 30.0
    rate_drop: float = 0.0
    rate_duplicate: float = 0.0
    rate_out_of_order: float = 0.0
    send_receipts: bool = True
    seed: int | None = None
    # other wire formats (sandbox/mobivate.py, send2.py, channel.py)
    channel_jwt_secret: str = field(
        default="", repr=False
    )  # sign Channel API delivery reports with an HS256 JWT when set
    # Per-callback JWT secrets (webhook URL path -> secret): a Channel API account pointed at
    # this sandbox has its reports signed with its own jwt_secret. Memory only.
    channel_jwt_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    send2_balance: int = 1_000_000
    # Keys of accounts pointed at this sandbox, accepted on every wire format beside ``api_key``
    # (so such an account keeps working across restarts): key -> (webhook URL, signing secret)
    # for PureSMS-format receipts and replies of what was sent with that key, like a PureSMS
    # workspace of its own ("" when the account's receipts come some other way). Memory only.
    workspaces: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    extra_webhooks: dict[str, str] = field(default_factory=dict)  # wire -> URL for unsolicited replies
    # What "now" is when a send scheduled at the provider falls due (epoch seconds). Tests give
    # the sandbox the same injected clock as the scheduler under test, so a send handed over
    # for "tomorrow" of the test's clock is not due by the real date.
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def update(self, data: dict[str, Any]) -> None:
        names = {f.name: f.type for f in fields(self)}
        for key, value in data.items():
            if key in names:
                current = getattr(self, key)
                if isinstance(current, bool):
                    value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
                elif isinstance(current, float):
                    value = float(value)
                elif isinstance(current, int) and not isinstance(current, bool):
                    value = int(value)
                setattr(self, key, value)

    def key_ok(self, given: str) -> bool:
        """Whether ``given`` is this sandbox's key or an account's registered one."""
        ok = hmac.compare_digest(given.encode(), self.api_key.encode())
        for key in list(self.workspaces):
            ok |= hmac.compare_digest(given.encode(), key.encode())
        return bool(given) and ok

    def bearer_ok(self, header: str) -> bool:
        """An ``Authorization: Bearer <key>`` header naming an accepted key."""
        scheme, _, key = header.partition(" ")
        return scheme == "Bearer" and self.key_ok(key.strip())

    def channel_secret_for(self, url: str) -> str:
        """The JWT secret for a Channel API report to ``url``: the account's own, else the shared one."""
        return self.channel_jwt_secrets.get(urlsplit(url).path) or self.channel_jwt_secret


# Knobs a person may set from the command line (``smsdesk sandbox --set name=value``): numbers
# and switches only; keys, secrets and URLs have their own options or environment variables.
SECRET_KNOBS = frozenset({"api_key", "webhook_secret", "channel_jwt_secret", "channel_jwt_secrets", "workspaces"})
NOT_KNOBS = SECRET_KNOBS | {"webhook_url", "extra_webhooks", "inbound_number", "clock"}


def knob_names() -> list[str]:
    return sorted(f.name for f in fields(SandboxConfig) if f.name not in NOT_KNOBS)


def parse_knobs(items: list[str]) -> dict[str, Any]:
    """``["rate_429=0.1", "send_receipts=false"]`` -> typed values, checked.

    Raises:
        ValueError: a message naming the bad knob and what is allowed.
    """
    defaults = SandboxConfig()
    allowed = knob_names()
    out: dict[str, Any] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not eq or not name:
            raise ValueError(f"'{item}' is not KNOB=VALUE (for example rate_429=0.1). Knobs: {', '.join(allowed)}.")
        if name not in allowed:
            raise ValueError(f"'{name}' is not a sandbox knob. Knobs: {', '.join(allowed)}.")
        current = getattr(defaults, name)
        value: Any
        if isinstance(current, bool):
            low = text.lower()
            if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(f"{name} must be true or false, not '{text}'.")
            value = low in ("1", "true", "yes", "on")
        elif name == "seed":
            try:
                value = None if text.lower() in ("", "none") else int(text)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, not '{text}'.") from None
        elif isinstance(current, int):
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, not '{text}'.") from None
            if value < 0:
                raise ValueError(f"{name} must be 0 or more, not {value}.")
        else:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{name} must be a number, not '{text}'.") from None
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not '{text}'.")
            if name.startswith("rate_") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is a probability: give a number from 0 to 1, not {text}.")
            if value < 0:
                raise ValueError(f"{name} is in seconds: give 0 or more, not {text}.")
        out[name] = value
    return out
