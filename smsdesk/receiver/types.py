"""The receiver's aiohttp-free vocabulary: the handler protocol, its verdict, the loopback test.

Kept apart from :mod:`smsdesk.receiver.receiver` so the services (and the GUI start-up that
builds them) do not import ``aiohttp.web`` before the receiver is actually started.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Protocol

from smsdesk.domain.webhook_request import WebhookRequest


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this computer (the safe default)."""
    if host.strip().lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or "" (all interfaces): assume reachable from elsewhere


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the handler decided: the status to answer and a short reason for the log."""

    status: int
    outcome: str  # accepted | duplicate | rejected
    reason: str = ""


class WebhookHandler(Protocol):
    async def handle(self, route: str, req: WebhookRequest) -> Verdict: ...

    async def rejected(self, route: str, req_path: str, status: int, reason: str) -> None: ...
