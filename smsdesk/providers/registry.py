"""The built-in providers, registered explicitly (survives PyInstaller; no entry-point magic).

Each provider's module is imported the first time its spec is asked for: a start with only the
sandbox account imports the sandbox's adapter, not the four others (nor ``phonenumbers``, which
some of them use to read inbound numbers). ``packaging/hidden_imports.py`` lists every module
below, because PyInstaller cannot see imports by name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from smsdesk.domain.errors import InvalidInput

if TYPE_CHECKING:
    import httpx  # annotations only: httpx is imported when the first client is built

    from smsdesk.providers.base import AccountConfig, Provider
    from smsdesk.providers.spec import ProviderSpec

SANDBOX = "sandbox"  # the built-in simulated provider's id (its module need not load to name it)

# provider id -> the module whose ``SPEC`` declares it, in the order they are offered
MODULES: dict[str, str] = {
    SANDBOX: "smsdesk.providers.sandbox",
    "puresms": "smsdesk.providers.puresms",
    "mobivate": "smsdesk.providers.mobivate",
    "send2": "smsdesk.providers.send2",
    "channel": "smsdesk.providers.channel",
}


def _load(provider_id: str) -> ProviderSpec:
    spec: ProviderSpec = importlib.import_module(MODULES[provider_id]).SPEC
    return spec


def specs() -> tuple[ProviderSpec, ...]:
    """Every built-in provider's spec (imports all their modules)."""
    return tuple(_load(pid) for pid in MODULES)


def get_spec(provider_id: str) -> ProviderSpec:
    spec = find_spec(provider_id)
    if spec is not None:
        return spec
    known = ", ".join(MODULES)
    raise InvalidInput(f"Unknown provider '{provider_id}'. Known providers: {known}.")


def find_spec(provider_id: str) -> ProviderSpec | None:
    """The spec of ``provider_id``, or None for an id no provider has (a removed account's)."""
    return _load(provider_id) if provider_id in MODULES else None


def build(provider_id: str, account: AccountConfig, client: httpx.AsyncClient) -> Provider:
    spec = get_spec(provider_id)
    assert spec.factory is not None
    return spec.factory(account, client)
