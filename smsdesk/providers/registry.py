"""The built-in providers, registered explicitly (survives PyInstaller; no entry-point magic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsdesk.domain.errors import InvalidInput
from smsdesk.providers import channel, mobivate, puresms, send2
from smsdesk.providers.base import AccountConfig, Provider
from smsdesk.providers.spec import ProviderSpec

if TYPE_CHECKING:
    import httpx  # annotations only: httpx is imported when the first client is built

BUILTINS: tuple[ProviderSpec, ...] = (
    puresms.SANDBOX_SPEC,
    puresms.SPEC,
    mobivate.SPEC,
    send2.SPEC,
    channel.SPEC,
)


def specs() -> tuple[ProviderSpec, ...]:
    return BUILTINS


def get_spec(provider_id: str) -> ProviderSpec:
    for spec in BUILTINS:
        if spec.id == provider_id:
            return spec
    known = ", ".join(s.id for s in BUILTINS)
    raise InvalidInput(f"Unknown provider '{provider_id}'. Known providers: {known}.")


def build(provider_id: str, account: AccountConfig, client: httpx.AsyncClient) -> Provider:
    spec = get_spec(provider_id)
    assert spec.factory is not None
    return spec.factory(account, client)
