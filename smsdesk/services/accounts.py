"""Accounts: add, edit, remove and test, with secrets in the keyring and adapters cached.

The form fields come from each provider's declaration (``providers.spec``), so the GUI and
``smsdesk accounts add --set field=value`` accept exactly the same things.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smsdesk.config.secrets import SecretStore, secret_key
from smsdesk.domain.errors import InvalidInput, NotFound, SecretStoreUnavailable, SmsdeskError, StorageError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account
from smsdesk.domain.pricing import Prices, country_prices, format_country_prices, price_per_part
from smsdesk.domain.pricing import prices as account_prices
from smsdesk.domain.tokens import new_token
from smsdesk.providers import registry
from smsdesk.providers.base import AccountConfig, Provider
from smsdesk.providers.spec import FieldSpec, ProviderSpec
from smsdesk.services import sandbox_host as sandbox_link
from smsdesk.services.bus import EventBus
from smsdesk.services.sandbox_host import SandboxLink
from smsdesk.storage.api import AccountStore, RelayRequestStore
from smsdesk.storage.records import AuditEntry, NewAccount

if TYPE_CHECKING:
    import httpx  # annotations only: httpx is imported when the first client is built

SANDBOX_NAME = "Sandbox"
# The account a new database starts with (a person may remove it later).
SANDBOX_SEED = NewAccount(SANDBOX_NAME, registry.SANDBOX, "", "smsdesk", {"unicode": "Allow"})
log = logging.getLogger(__name__)
HELD_TTL = 30.0  # seconds before the accounts whose keys this computer holds are read again
RELAY_ANSWER_S = 20.0  # how long a call asked of the relays (Test, balance) waits for an answer


def _check_number(fld: FieldSpec, value: str) -> None:
    """Refuse "1.5 sends in flight" or "fast" when saving, in words the form can show."""
    if not fld.number:
        return
    whole = fld.number == "int"
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise InvalidInput(f"{fld.label} must be {kind}, not '{value}'.") from None
    if not math.isfinite(number) or number < fld.minimum:
        raise InvalidInput(f"{fld.label} must be at least {fld.minimum:g}, not '{value}'.")


class AccountService:
    def __init__(
        self,
        accounts: AccountStore,
        secrets: SecretStore,
        bus: EventBus,
        client_factory: Callable[[], httpx.AsyncClient],
        webhook_base: Callable[[], str],
    ) -> None:
        self.repo = accounts
        self.secrets = secrets
        self.bus = bus
        self._client_factory = client_factory
        self._client: httpx.AsyncClient | None = None
        self._webhook_base = webhook_base
        self._adapters: dict[int, Provider] = {}
        self.session_secrets: dict[tuple[str, str], str] = {}  # sandbox keys, never persisted
        self.public_base: dict[int, str] = {}  # account id -> public URL base from a tunnel
        self.sandbox_url = ""  # the running built-in sandbox, for sandbox accounts without a base URL
        self.sandbox: SandboxLink | None = None  # the running built-in sandbox, for any provider's account
        # A team workspace: the account rows are shared, each computer's keyring holds (or not)
        # its own copy of their keys. Only relays hold them; a desktop sends through the outbox.
        self.keys_per_computer = False
        self.requests: RelayRequestStore | None = None  # calls asked of the relays that hold the keys
        self._held: tuple[float, list[int]] | None = None  # held_ids(), read again every HELD_TTL s
        self._held_reading = False

    # ---- reading -----------------------------------------------------------------------
    def all(self) -> list[Account]:
        return self.repo.all()

    def get(self, account_id: int) -> Account:
        acct = self.repo.get(account_id)
        if acct is None:
            raise NotFound(f"No account with id {account_id}.")
        return acct

    def by_name(self, name: str) -> Account:
        acct = self.repo.by_name(name)
        if acct is None:
            names = ", ".join(a.name for a in self.all()) or "none yet"
            raise NotFound(f"No account named '{name}'. Accounts: {names}.")
        return acct

    def spec(self, account: Account) -> ProviderSpec:
        return registry.get_spec(account.provider)

    @staticmethod
    def price_per_segment(account: Account) -> float | None:
        """What the account's provider charges per segment, or None when nobody said.

        An empty field means "unknown", never free: an estimate then says "cost unknown"
        rather than 0.00.
        """
        price = price_per_part(account.settings)
        return None if price is None else float(price)

    def prices(self, account_id: int) -> Prices:
        """An account's prices now: per part (None when nobody said), by country, and the currency."""
        try:
            account = self.get(account_id)
        except SmsdeskError:
            return Prices()
        return account_prices(account.settings)

    def webhook_url(self, account: Account, public: bool = False) -> str:
        base = self.public_base.get(account.id) if public else None
        url = f"{base or self._webhook_base()}/hooks/{account.id}"
        token = account.settings.get("webhook_token")
        return f"{url}?token={token}" if token else url

    def secret(self, account: Account, field: str) -> str:
        session = self.session_secrets.get((account.name, field))
        if session is not None:
            return session
        return self.secrets.get(secret_key(account.name, field)) or ""

    def holds_keys(self, account: Account) -> bool:
        """Whether this computer holds every key ``account`` needs to send (blocking: the keyring)."""
        spec = self.spec(account)
        if spec.builtin_sandbox:  # its keys are made by the process that runs the sandbox
            return bool(self.session_secrets.get((account.name, "api_key")))
        try:
            return all(self.secret(account, f.name) for f in spec.fields if f.secret and f.required)
        except SmsdeskError:  # no keyring here: no keys either
            return False

    def held_ids(self) -> list[int]:
        """The accounts this computer can send with (a relay's heartbeat names them).

        Asked on the event loop (each pass of the dispatcher, each heartbeat), while every key
        is a keyring read (on Linux a D-Bus call, tens of milliseconds): the answer is kept for
        HELD_TTL seconds, then read again in a thread of its own, the last answer standing
        meanwhile. Only the very first answer is read where it is asked."""
        now = time.monotonic()
        if self._held is None:
            self._held = (now, self._keys_held(self.all()))
        elif now - self._held[0] > HELD_TTL and not self._held_reading:
            self._held_reading = True
            accounts = self.all()  # read here: a worker thread would open a connection of its own
            threading.Thread(target=self._read_held, args=(accounts,), name="smsdesk-keys", daemon=True).start()
        return list(self._held[1])

    def _keys_held(self, accounts: list[Account]) -> list[int]:
        return sorted(a.id for a in accounts if self.holds_keys(a))

    def _read_held(self, accounts: list[Account]) -> None:
        try:
            self._held = (time.monotonic(), self._keys_held(accounts))
        finally:
            self._held_reading = False

    def _held_stale(self) -> None:
        """Keys were added or accounts changed: read which are held again (in the background)."""
        if self._held is not None:
            self._held = (0.0, self._held[1])

    async def add_keys(self, name: str, values: Mapping[str, str]) -> Account:
        """Keep this computer's copy of an existing account's keys (a second relay of a team
        workspace); the shared account row is left as it is."""
        account = self.by_name(name)
        spec = self.spec(account)
        _base, _sender, _settings, secrets = self._split(spec, values, account.settings)
        missing = [f.name for f in spec.fields if f.secret and f.required and f.name not in secrets]
        if missing:
            raise InvalidInput(
                f"{spec.name} needs {', '.join(missing)} (give it with --secret-stdin or SMSDESK_SECRET_<FIELD>)."
            )
        for fld, value in secrets.items():
            if spec.builtin_sandbox:
                self.session_secrets[(account.name, fld)] = value
            else:
                self.secrets.set(secret_key(account.name, fld), value)
        # The shared row is touched (and the audit log says which computer) so running relays
        # read again at once whose keys they hold.
        entry = AuditEntry("account.keys", account.name, {"computer": socket.gethostname()})
        await self.repo.update(
            account.id,
            name=account.name,
            base_url=account.base_url,
            sender=account.sender,
            settings=account.settings,
            audit=entry,
        )
        self._adapters.pop(account.id, None)
        self._held_stale()
        self.bus.publish(Changes(accounts=True))
        return account

    def config_for(self, account: Account) -> AccountConfig:
        spec = self.spec(account)
        secrets = {f: self.secret(account, f) for f in spec.secret_fields}
        base_url = account.base_url or spec.default_base_url
        if spec.builtin_sandbox and not account.base_url:
            base_url = self.sandbox_url
        return AccountConfig(
            name=account.name,
            base_url=base_url,
            sender=account.sender,
            settings=account.settings,
            secrets=secrets,
            webhook_url=self.webhook_url(account, public=True),
        )

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def adapter(self, account_id: int) -> Provider:
        cached = self._adapters.get(account_id)
        if cached is not None:
            return cached
        account = self.get(account_id)
        adapter = registry.build(account.provider, self.config_for(account), self.client)
        self._adapters[account_id] = adapter
        return adapter

    def forget_adapters(self) -> None:
        self._adapters.clear()
        self._held_stale()

    # ---- writing -----------------------------------------------------------------------
    def fill_generated_fields(self) -> None:
        """Give accounts made before their provider declared a generated field (a callback
        token) one; blocking, for start-up.

        A Channel API account without a JWT secret is authenticated by its ``webhook_token``;
        an account added before that field existed would otherwise refuse every delivery report.
        """
        updates: dict[int, dict[str, Any]] = {}
        for account in self.repo.all(include_removed=True):
            try:
                spec = registry.get_spec(account.provider)
            except SmsdeskError:
                continue
            settings = dict(account.settings)
            missing = [f.name for f in spec.fields if f.generated and not f.secret and not settings.get(f.name)]
            if missing:
                settings.update({name: new_token() for name in missing})
                updates[account.id] = settings
        if not updates:
            return
        try:
            self.repo.replace_settings(updates)
        except StorageError as exc:  # a staff login on a workspace: its owner's (or a relay's) start fills them
            log.info("the accounts' generated fields were left for the workspace's owner: %s", exc)

    def _split(
        self, spec: ProviderSpec, values: Mapping[str, str], existing: Mapping[str, Any] | None = None
    ) -> tuple[str, str, dict[str, Any], dict[str, str]]:
        settings: dict[str, Any] = dict(existing or {})
        secrets: dict[str, str] = {}
        base_url = values.get("base_url", "")
        sender = values.get("sender", "")
        for key, value in values.items():
            if key in ("base_url", "sender"):
                continue
            fld = spec.field(key)
            if fld is None and not key.startswith("chan."):
                known = ", ".join(f.name for f in spec.fields)
                raise InvalidInput(f"{spec.name} has no field '{key}'. Fields: {known}.")
            if fld is not None and fld.choices and value and value not in fld.choices:
                raise InvalidInput(f"'{key}' must be one of {', '.join(fld.choices)}.")
            if fld is not None and value:
                _check_number(fld, value)
            if fld is not None and fld.kind == "country_prices":
                value = format_country_prices(country_prices(value))  # refuses "KE 0.8" with the reason
            if fld is not None and fld.secret:
                if value:
                    secrets[key] = value
            else:
                settings[key] = value
        for fld in spec.fields:
            if fld.generated and not fld.secret and not settings.get(fld.name):
                settings[fld.name] = new_token()
            if not fld.secret and fld.default and fld.name not in settings and fld.name not in ("base_url", "sender"):
                settings[fld.name] = fld.default
        return base_url, sender, settings, secrets

    async def add(self, name: str, provider: str, values: Mapping[str, str]) -> Account:
        name = name.strip()
        if not name:
            raise InvalidInput("An account needs a name.")
        spec = registry.get_spec(provider)
        base_url, sender, settings, secrets = self._split(spec, values)
        missing = [f.name for f in spec.fields if f.secret and f.required and f.name not in secrets]
        if missing and not self.keys_per_computer:  # a workspace: each relay adds its own copy later
            raise InvalidInput(
                f"{spec.name} needs {', '.join(missing)} (give it with --secret-stdin or SMSDESK_SECRET_<FIELD>)."
            )
        if not spec.builtin_sandbox:
            for fld, value in secrets.items():  # keyring first: no half-made account if it fails
                self.secrets.set(secret_key(name, fld), value)
        else:
            for fld, value in secrets.items():
                self.session_secrets[(name, fld)] = value
        account_id = await self.repo.add(NewAccount(name, provider, base_url, sender, settings))
        account = self.get(account_id)
        self._sync_sandbox(account, secrets)
        self.bus.publish(Changes(accounts=True))
        return account

    async def update(self, account: Account, values: Mapping[str, str], name: str | None = None) -> Account:
        spec = self.spec(account)
        base_url, sender, settings, secrets = self._split(spec, values, account.settings)
        new_name = (name or account.name).strip()
        if "base_url" not in values:
            base_url = account.base_url
        stale_key = ""  # the sandbox stops accepting a key the account no longer uses
        link = self.sandbox
        if (
            link is not None
            and link.points_here(account.provider, account.base_url)
            and ("api_key" in secrets or base_url != account.base_url)
        ):
            with contextlib.suppress(SmsdeskError):
                stale_key = self.secret(account, "api_key") or ""
        if "sender" not in values:
            sender = account.sender
        for fld in spec.secret_fields:
            if new_name != account.name:
                old = self.secret(account, fld)
                if old and fld not in secrets:
                    secrets[fld] = old
        for fld, value in secrets.items():
            if spec.builtin_sandbox:
                self.session_secrets[(new_name, fld)] = value
            else:
                self.secrets.set(secret_key(new_name, fld), value)
        await self.repo.update(account.id, name=new_name, base_url=base_url, sender=sender, settings=settings)
        if new_name != account.name and not spec.builtin_sandbox:
            for fld in spec.secret_fields:
                self.secrets.delete(secret_key(account.name, fld))
        self._adapters.pop(account.id, None)
        updated = self.get(account.id)
        if link is not None and stale_key:
            link.forget_key(stale_key)
        self._sync_sandbox(updated, secrets)
        self.bus.publish(Changes(accounts=True))
        return updated

    async def set_setting(self, account: Account, key: str, value: str) -> Account:
        """Store one non-secret setting of ``account`` (an option such as its quiet hours), audited
        as ``account.<key>`` in the same transaction."""
        settings = {**account.settings, key: value}
        entry = AuditEntry("account." + key, account.name, {"value": value})
        await self.repo.update(
            account.id,
            name=account.name,
            base_url=account.base_url,
            sender=account.sender,
            settings=settings,
            audit=entry,
        )
        self._adapters.pop(account.id, None)
        self.bus.publish(Changes(accounts=True))
        return self.get(account.id)

    async def remove(self, account: Account) -> None:
        spec = self.spec(account)
        link = self.sandbox
        if link is not None and link.points_here(account.provider, account.base_url):
            with contextlib.suppress(SmsdeskError):  # without a keyring there is nothing to forget
                link.forget_key(self.secret(account, "api_key") or "")
        await self.repo.remove(account.id)
        if not spec.builtin_sandbox:
            for fld in spec.secret_fields:
                self.secrets.delete(secret_key(account.name, fld))
        self._adapters.pop(account.id, None)
        if self.sandbox is not None:
            self.sandbox.register_jwt(self.webhook_url(account), "")
        self.bus.publish(Changes(accounts=True))

    async def test(self, account: Account) -> str:
        """A real authenticated call; returns the provider's words (raises ProviderError).
        On a workspace computer without the account's keys, a relay that holds them makes it."""
        if await self._relay_asks(account):
            return await self.ask_relay("test", account)
        self._adapters.pop(account.id, None)
        return await self.adapter(account.id).test()

    async def relay_asks(self, account: Account) -> bool:
        """Whether a call with ``account``'s keys is asked of the relays (a workspace computer
        without them)."""
        return await self._relay_asks(account)

    async def _relay_asks(self, account: Account) -> bool:
        import asyncio

        if not self.keys_per_computer or self.requests is None:
            return False
        return not await asyncio.to_thread(self.holds_keys, account)

    async def ask_relay(self, kind: str, account: Account, subject: int | None = None) -> str:
        """Have a relay holding ``account``'s keys make the call ``kind`` ("test", "balance");
        returns its answer, raises its refusal, or says that no such relay answered."""
        import asyncio

        assert self.requests is not None
        request_id = await self.requests.ask(kind, account.id, subject)
        deadline = time.monotonic() + RELAY_ANSWER_S
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            got = await asyncio.to_thread(self.requests.answer_of, request_id)
            if got is not None:
                ok, text = got
                if not ok:
                    raise SmsdeskError(text)
                return text
        raise SmsdeskError(
            f"No relay holding the keys of {account.name} answered within {RELAY_ANSWER_S:.0f} seconds. "
            f"Start 'smsdesk serve' on a relay that holds them ('smsdesk accounts secrets \"{account.name}\"' "
            "says which do)."
        )

    async def balance(self, account: Account) -> int | float | None:
        """What is left on the account, from the provider (raises ProviderError, InvalidInput).

        The secrets are read on a worker thread first: a keyring read is a blocking D-Bus
        round trip, and this is called when a person selects the account in Settings.
        """
        if not self.spec(account).caps.balance:
            raise InvalidInput(f"{self.spec(account).name} has no balance call.")
        if await self._relay_asks(account):
            answer = await self.ask_relay("balance", account)
            if not answer:
                return None
            number = float(answer)
            return int(number) if number.is_integer() else number
        names = self.spec(account).secret_fields
        import asyncio  # not at import: the first paint imports this module before the loop exists

        await asyncio.to_thread(lambda: [self.secret(account, f) for f in names])
        fetch = getattr(self.adapter(account.id), "balance", None)
        if fetch is None:
            raise InvalidInput(f"{self.spec(account).name} has no balance call.")
        value: int | float | None = await fetch()
        return value

    # ---- the built-in sandbox ------------------------------------------------------------
    def attach_sandbox(self, link: SandboxLink | None) -> None:
        """The runtime started (or stopped: None) the built-in sandbox."""
        self.sandbox = link
        if link is None:
            return
        for account in self.all():
            if link.points_here(account.provider, account.base_url):
                try:
                    self._sync_sandbox(account, {})
                except SecretStoreUnavailable as exc:  # the sandbox refuses its key; Test says why
                    log.warning("could not read %s's keys for the sandbox: %s", account.name, exc)

    def sandbox_values(self, provider: str) -> dict[str, str]:
        """Form values pointing a ``provider`` account at the running sandbox ({} if none runs)."""
        if self.sandbox is None:
            return {}
        return sandbox_link.form_values(self.sandbox, provider)

    def sandbox_use(self, account: Account) -> str:
        """Whether the account talks to a built-in sandbox: ``running`` (the one running now),
        ``stopped`` (a Sandbox account while no sandbox runs), ``elsewhere`` (its base URL is a
        sandbox of an earlier run), or "" (a real provider)."""
        link = self.sandbox
        if self.is_builtin_sandbox(account):
            return "running" if link is not None or account.base_url else "stopped"
        if link is not None and link.points_here(account.provider, account.base_url):
            return "running"
        if sandbox_link.looks_like_old_sandbox(account.provider, account.base_url):
            return "elsewhere"
        return ""

    def sandbox_note(self, account: Account) -> str:
        """A line for Settings when the account talks (or used to talk) to a built-in sandbox."""
        link = self.sandbox
        if link is not None and link.points_here(account.provider, account.base_url):
            return "Uses the built-in sandbox (demo mode: nothing reaches a phone). " + sandbox_link.note(
                account.provider
            )
        if sandbox_link.looks_like_old_sandbox(account.provider, account.base_url):
            now = "press “Use the built-in sandbox” and Save" if link is not None else "turn on demo mode"
            return (
                f"The base URL looks like a built-in sandbox that is not running at that address: "
                f"{now} to point it at the running one."
            )
        return ""

    def _sync_sandbox(self, account: Account, given: Mapping[str, str]) -> None:
        """Tell the running sandbox what an account pointed at it uses (``given``: secrets just
        saved; the others are read from the keyring).

        Its own API key, accepted on every wire format, so the account keeps working after a
        restart; for PureSMS also its webhook and signing secret (its receipts and replies come
        back to it, as from a workspace of its own); for a Channel API connector the JWT secret
        its reports are signed with.
        """
        link = self.sandbox
        if link is None or not link.points_here(account.provider, account.base_url):
            return

        def value(name: str) -> str:
            return given[name] if name in given else (self.secret(account, name) or "")

        wire = self.spec(account).sandbox
        key = value("api_key")
        if key.startswith(sandbox_link.ISSUED_PREFIX):
            if wire is not None and wire.registers_webhook:
                link.register_key(key, self.webhook_url(account), value("webhook_secret"))
            else:
                link.register_key(key)
        if wire is not None and wire.registers_jwt:
            link.register_jwt(self.webhook_url(account), value("jwt_secret"))

    def is_builtin_sandbox(self, account: Account) -> bool:
        """Whether ``account`` is the built-in sandbox provider's (it talks to this process's
        sandbox, with keys made per run and kept in memory)."""
        spec = registry.find_spec(account.provider)
        return spec is not None and spec.builtin_sandbox

    def builtin_sandbox_account(self) -> Account | None:
        """The Sandbox account (the seeded one, else any built-in-sandbox account), or None."""
        account = self.repo.by_name(SANDBOX_NAME)
        if account is not None and self.is_builtin_sandbox(account):
            return account
        return next((a for a in self.all() if self.is_builtin_sandbox(a)), None)

    async def ensure_sandbox(self) -> Account:
        acct = self.repo.by_name(SANDBOX_NAME)
        if acct is not None:
            return acct
        return await self.add(SANDBOX_NAME, SANDBOX_SEED.provider, {"sender": "smsdesk"})

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- what Settings -> Accounts asks (appended: views ask the service) ---------------------
    def secrets_kept_for_session(self) -> bool:
        """Whether secrets saved now stay in memory for this session only (there is no keyring)."""
        return self.secrets.session_only

    def keep_secrets_for_session(self) -> None:
        """From now on keep saved secrets in memory only: a person's choice when no keyring works."""
        self.secrets.session_only = True

    def can_use_sandbox(self, provider: str) -> bool:
        """Whether "Use the built-in sandbox" can fill in a ``provider`` account's form now (the
        sandbox runs and speaks that provider's wire format; the Sandbox provider wires itself)."""
        return self.sandbox is not None and sandbox_link.supported(provider)

    def sandbox_fill(self, provider: str) -> SandboxFill | None:
        """What "Use the built-in sandbox" fills in for a ``provider`` account (a fresh key of its
        own each time), or None when the sandbox is not running."""
        values = self.sandbox_values(provider)
        if not values:
            return None
        return SandboxFill(values, sandbox_link.SUGGESTED, sandbox_link.note(provider))


@dataclass(frozen=True, slots=True)
class SandboxFill:
    """Form values pointing an account at the running sandbox.

    Attributes:
        values: field name -> value (its address for the provider, a key of the account's own...).
        suggested: fields filled only into an empty box (a person's own sender ID or secret wins).
        note: what the person should know about this provider against the sandbox, or "".
    """

    values: dict[str, str]
    suggested: frozenset[str]
    note: str
