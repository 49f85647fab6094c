"""Value objects that cross layers: what we ask a provider, and what it tells us back.

Provider ids are always strings (PureSMS int64s overflow JS and float parsers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smsdesk.domain.status import Status


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message for an adapter. ``local_id`` doubles as the client reference."""

    local_id: str
    to: str  # canonical +E.164 (or a Send-2 M-PESA hash)
    sender: str
    text: str
    send_at: datetime | None = None  # tz-aware UTC, for provider-side scheduling
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider said about one message it accepted (or refused, within a bulk)."""

    local_id: str
    provider_message_id: str | None
    status: Status = Status.SENT
    raw_status: str = ""
    segments: int | None = None
    error: str | None = None
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A delivery receipt, from a webhook or a poll."""

    provider_message_id: str | None
    client_ref: str | None
    status: Status
    raw_status: str
    error: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A reply from a phone."""

    provider_message_id: str | None
    from_number: str  # canonical +E.164 where it is a number
    to_number: str
    text: str
    received_at: datetime | None = None
    in_reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedWebhook:
    """What an adapter found in one webhook body: zero or more receipts and replies."""

    receipts: tuple[StatusEvent, ...] = ()
    inbound: tuple[InboundMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message, as services and views see it."""

    id: int
    local_id: str
    account_id: int
    account: str
    direction: str  # "out" | "in"
    remote: str
    local_number: str
    body: str
    status: Status
    raw_status: str
    error: str | None
    provider_message_id: str | None
    segments: int | None
    encoding: str | None
    send_at: str | None
    attempts: int
    run_id: int | None
    is_read: bool
    created_at: str
    updated_at: str
    auto_rule_id: int | None = None  # sent by this automatic reply rule (None: by a person or a send)
    price_per_part: str | None = None  # the account's price when it was queued (None: unknown)
    currency: str = ""

    @property
    def to(self) -> str:
        return self.remote if self.direction == "out" else self.local_number

    @property
    def from_(self) -> str:
        return self.local_number if self.direction == "out" else self.remote

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "local_id": self.local_id,
            "account": self.account,
            "direction": self.direction,
            "to": self.to,
            "from": self.from_,
            "text": self.body,
            "status": self.status.value,
            "raw_status": self.raw_status,
            "error": self.error,
            "provider_message_id": self.provider_message_id,
            "segments": self.segments,
            "encoding": self.encoding,
            "send_at": self.send_at,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Account:
    """A configured provider account (non-secret fields only; secrets live in the keyring)."""

    id: int
    name: str
    provider: str
    base_url: str
    sender: str
    settings: dict[str, Any]
    created_at: str = ""
    updated_at: str = ""
