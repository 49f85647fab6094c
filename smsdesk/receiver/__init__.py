"""The local webhook receiver: HTTP in, a :class:`WebhookRequest` out to an injected handler.

Knows no concrete provider and no storage: the handler (``services.webhook_intake``) verifies,
persists the raw event and decides the answer; the receiver only enforces HTTP hygiene
(method, body cap, slow-body timeout, content type) and answers. Imports ``domain`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smsdesk.receiver.types import WebhookHandler

if TYPE_CHECKING:
    from smsdesk.receiver.receiver import Receiver, ReceiverThread

__all__ = ["Receiver", "ReceiverThread", "WebhookHandler"]


def __getattr__(name: str) -> Any:
    # The aiohttp server is imported on first use, not with the package (GUI start-up time).
    if name in ("Receiver", "ReceiverThread"):
        from smsdesk.receiver import receiver

        return getattr(receiver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
