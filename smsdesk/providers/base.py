"""The adapter contract every provider implements.

An adapter turns :class:`OutboundMessage` into the provider's wire format and back, and
raises :class:`ProviderError` with a ``kind`` for every failure. It never touches storage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from smsdesk.domain.errors import InvalidNumber, ProviderError
from smsdesk.domain.models import (
    InboundMessage,
    OutboundMessage,
    ParsedWebhook,
    SendResult,
    StatusEvent,
)
from smsdesk.domain.webhook_request import WebhookRequest
from smsdesk.providers.spec import ProviderSpec

if TYPE_CHECKING:
    import httpx  # annotations only: httpx is imported when the first client is built


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What an adapter needs of an account: its settings and its secrets (from the keyring)."""

    name: str
    base_url: str
    sender: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    webhook_url: str = ""  # this account's public (or local) receiver URL

    def setting(self, name: str, default: str = "") -> str:
        value = self.settings.get(name, default)
        return default if value is None else str(value)

    def secret(self, name: str) -> str:
        return self.secrets.get(name, "") or ""


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # isdigit alone takes "١٢٣" and "²" too


def international_digits(number: str, provider: str) -> str:
    """The country code and number as digits only, from ``+44...``, ``0044...`` or ``44...``.

    Adapters render it in their wire format (``+``, bare digits, ``00``). The send service has
    already checked the number; this is the last guard before a provider sees it.

    Raises:
        InvalidNumber: not 7-15 digits after the prefix, or a national number (leading 0).
    """
    s = (number or "").strip().replace(" ", "").replace("-", "")
    digits = s[1:] if s.startswith("+") else s[2:] if s.startswith("00") else s
    if not _ascii_digits(digits) or not 7 <= len(digits) <= 15 or digits.startswith("0"):
        raise InvalidNumber(
            f"'{number}' is not an international number {provider} can send to. "
            "Write it with + and the country code, for example +447911123456."
        )
    return digits


class Provider(Protocol):
    spec: ProviderSpec
    account: AccountConfig

    async def send(self, msg: OutboundMessage) -> SendResult: ...

    async def send_bulk(self, msgs: list[OutboundMessage]) -> list[SendResult]: ...

    async def cancel(self, provider_message_id: str) -> None: ...

    async def test(self) -> str: ...

    def verify_webhook(self, req: WebhookRequest, now: float) -> None: ...

    def webhook_dedupe_key(self, req: WebhookRequest) -> str: ...

    def parse_webhook(self, req: WebhookRequest) -> ParsedWebhook: ...

    async def poll_status(self, provider_message_id: str) -> StatusEvent | None: ...

    async def poll_inbound(self, since: datetime) -> list[InboundMessage]: ...

    async def reconcile(self, local_id: str, sent_after: datetime) -> SendResult | None: ...

    async def reconcile_many(self, local_ids: Sequence[str], sent_after: datetime) -> dict[str, SendResult]: ...


class BaseProvider:
    """Defaults for optional capabilities; adapters override what their provider offers."""

    spec: ProviderSpec

    def __init__(self, account: AccountConfig, client: httpx.AsyncClient) -> None:
        self.account = account
        self.client = client

    @property
    def base_url(self) -> str:
        return (self.account.base_url or self.spec.default_base_url).rstrip("/")

    async def send_bulk(self, msgs: list[OutboundMessage]) -> list[SendResult]:
        raise ProviderError(f"{self.spec.name} has no bulk endpoint.")

    async def cancel(self, provider_message_id: str) -> None:
        raise ProviderError(f"{self.spec.name} cannot cancel a scheduled message.")

    def verify_webhook(self, req: WebhookRequest, now: float) -> None:
        return None

    def webhook_dedupe_key(self, req: WebhookRequest) -> str:
        import hashlib

        return hashlib.sha256(req.body).hexdigest()

    def parse_webhook(self, req: WebhookRequest) -> ParsedWebhook:
        return ParsedWebhook()

    async def poll_status(self, provider_message_id: str) -> StatusEvent | None:
        return None

    async def poll_inbound(self, since: datetime) -> list[InboundMessage]:
        return []

    async def reconcile(self, local_id: str, sent_after: datetime) -> SendResult | None:
        return None

    async def reconcile_many(self, local_ids: Sequence[str], sent_after: datetime) -> dict[str, SendResult]:
        """What the provider knows of each of ``local_ids`` (sent after ``sent_after``), by local id.

        Those it does not know are left out. Adapters whose provider can list many messages in
        one request override this (a batch of 1,000 is then one look, not 1,000).
        """
        found: dict[str, SendResult] = {}
        for local_id in local_ids:
            res = await self.reconcile(local_id, sent_after)
            if res is not None:
                found[local_id] = res
        return found
