"""The shape of one webhook delivery, independent of the HTTP server that received it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A delivery as received. ``headers`` keys are lower case; ``body`` is the raw bytes."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)
    public_url: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class WebhookRejected(Exception):
    """Raised by an adapter's verification: answer ``status`` and log ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
