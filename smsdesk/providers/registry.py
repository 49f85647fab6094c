"""The built-in providers, registered explicitly (survives PyInstaller; no entry-point magic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsdesk.domain.errors import InvalidInput
from smsdesk.providers import channel, mobivate, puresms, sandbox, send2
from smsdesk.providers.base import AccountConfig, Provider
from smsdesk.providers.spec import ProviderSpec

if TYPE_CHECKING:
    import httpx  # annotations only: httpx is imported when the first client is built

BUILTINS: tuple[ProviderSpec, ...] = (
    sandbox.SPEC,
    puresms.SPEC,
    mobivate.SPEC,
    send2.SPEC,
    channel.SPEC,
)


def specs() -> tuple[ProviderSpec, ...]:
    return BUILTINS


def get_spec(provider_id: str) -> ProviderSpec:
    spec = find_spec(provider_id)
    if spec is not None:
        return spec
    known = ", ".join(s.id for s in BUILTINS)
    raise InvalidInput(f"Unknown provider '{provider_id}'. Known providers: {known}.")


def find_spec(provider_id: str) -> ProviderSpec | None:
    """The spec of ``provider_id``, or None for an id no provider has (a removed account's)."""
    return next((s for s in BUILTINS if s.id == provider_id), None)


def build(provider_id: str, account: AccountConfig, client: httpx.AsyncClient) -> Provider:
    spec = get_spec(provider_id)
    assert spec.factory is not None
    return spec.factory(account, client)
