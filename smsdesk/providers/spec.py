"""Providers declared as data: fields (which are secret), capabilities and limits.

The Settings account form and ``smsdesk accounts add --set field=value`` are both built from
these declarations, so a new field appears in both without more code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from smsdesk.providers.base import AccountConfig, Provider


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One account field. ``secret`` fields live in the keyring and show as password boxes;
    ``advanced`` ones (tuning and plumbing most people never change) sit in the account
    form's closed "Advanced" section."""

    name: str
    label: str
    secret: bool = False
    required: bool = False
    default: str = ""
    help: str = ""
    choices: tuple[str, ...] = ()
    generated: bool = False  # filled with a random token when left empty
    number: str = ""  # "int" or "float": the value must be such a number, at least ``minimum``
    minimum: float = 0.0
    advanced: bool = False
    kind: str = ""  # "country_prices": a small table of country -> price in the account form


@dataclass(frozen=True, slots=True)
class Capabilities:
    bulk: bool = False
    max_batch: int = 1
    schedule: bool = False
    cancel: bool = False
    status_poll: bool = False
    inbound_poll: bool = False
    webhooks: bool = False
    webhook_signed: bool = False
    balance: bool = False
    idempotent: bool = False  # the provider dedupes on our client reference
    reconcile: bool = False  # an ambiguous send can be checked against the provider's log
    callback_per_send: bool = False  # each send names the webhook URL: nothing to paste in a dashboard

    @property
    def settle(self) -> str:
        """How a send that may or may not have gone out (``needs_review``) can be settled
        without a person: :data:`SETTLE_LOOKUP`, :data:`SETTLE_RESEND`, or "" (it cannot)."""
        if self.reconcile:
            return SETTLE_LOOKUP
        if self.idempotent:
            return SETTLE_RESEND
        return ""


# Ways to settle an undecided send (Capabilities.settle). LOOKUP: the provider's message log is
# searched for our reference (``Provider.reconcile_many``). RESEND: the provider drops a repeat
# of our reference, so sending it again cannot reach anyone twice.
SETTLE_LOOKUP = "lookup"
SETTLE_RESEND = "resend"


@dataclass(frozen=True, slots=True)
class Limits:
    concurrency: int = 8
    per_second: float = 50.0


@dataclass(frozen=True, slots=True)
class WebhookEnvelope:
    """The shape of a provider's webhook body, checked before the body is stored.

    Attributes:
        batch_keys: a JSON object whose member under the first of these keys that holds a list
            is a batch of events (Channel API connectors wrap batches this way).
        event_in_data: every event wraps its fields in a ``data`` object (PureSMS).
    """

    batch_keys: tuple[str, ...] = ()
    event_in_data: bool = False


@dataclass(frozen=True, slots=True)
class SandboxWire:
    """How the built-in sandbox (:mod:`smsdesk.sandbox`) serves a provider's wire format.

    Attributes:
        path: where the format lives on the sandbox server ("" is its root).
        note: what a person should know about this provider against the sandbox (shown in
            Settings once an account is pointed at it).
        generated: fields "Use the built-in sandbox" fills with a fresh random token.
        preset: fields it fills with a fixed value the sandbox accepts.
        registers_webhook: the sandbox posts this account's receipts and replies to its webhook,
            signed with its ``webhook_secret`` (its issued key names both).
        registers_jwt: the sandbox signs this account's reports with its ``jwt_secret``.
    """

    path: str
    note: str = ""
    generated: tuple[str, ...] = ()
    preset: tuple[tuple[str, str], ...] = ()
    registers_webhook: bool = False
    registers_jwt: bool = False


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider, declared: everything services and views ask of a provider by its id.

    Attributes:
        numeric_sender_only: sender IDs must be numbers (no alphanumeric names).
        envelope: the shape of its webhook bodies.
        builtin_sandbox: this is the built-in sandbox provider (its account talks to this
            process's sandbox, with keys made per run and kept in memory, never in the keyring).
        sandbox: how the built-in sandbox serves its wire format (None: it does not).
    """

    id: str
    name: str
    fields: tuple[FieldSpec, ...]
    caps: Capabilities
    limits: Limits = Limits()
    default_base_url: str = ""
    factory: Callable[[AccountConfig, httpx.AsyncClient], Provider] | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Said on a batch of undecided sends when the provider cannot be asked (caps.settle == ""):
    # what, if anything, can still settle them. Empty: a sentence built from the name.
    unsettled_note: str = ""
    numeric_sender_only: bool = False
    envelope: WebhookEnvelope = WebhookEnvelope()
    builtin_sandbox: bool = False
    sandbox: SandboxWire | None = None

    @property
    def cannot_ask_note(self) -> str:
        return self.unsettled_note or (
            f"{self.name} cannot be asked whether these went out. Check with the recipients or on "
            f"{self.name}'s own website, then mark them as sent or send them again."
        )

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.secret)


BASE_URL = FieldSpec("base_url", "Base URL", help="API host; change for regional hosts, tests or the sandbox.")
SENDER = FieldSpec("sender", "Sender ID", help="The name or number messages come from.")
API_KEY = FieldSpec("api_key", "API key", secret=True, required=True)
CONCURRENCY = FieldSpec(
    "concurrency",
    "Messages sent at once",
    default="8",
    help="How many single messages are handed to the provider in parallel (sends in flight).",
    number="int",
    minimum=1,
    advanced=True,
)
RATE = FieldSpec(
    "rate_per_second",
    "Messages per second, at most",
    default="50",
    help="A ceiling on sends per second, below the provider's own limit.",
    number="float",
    minimum=0.01,
    advanced=True,
)
# Empty means "not known" (estimates say "cost unknown"), never free.
PRICE = FieldSpec(
    "price_per_segment",
    "Price per segment",
    help="What your provider charges per segment, for cost estimates; leave empty if you do not know.",
    number="float",
)
COUNTRY_PRICES = FieldSpec(
    "prices_by_country",
    "Prices by country",
    help="A different price per segment for some countries (KE=0.80, US=0.0079); others use the price above.",
    kind="country_prices",
    advanced=True,
)
CURRENCY = FieldSpec(
    "currency",
    "Currency",
    help="The currency of the price (GBP, EUR, USD...): costs are shown and totalled per currency.",
)
MONTHLY_LIMIT = FieldSpec(
    "monthly_limit",
    "Monthly spending limit",
    help="Sends that would take this calendar month's spending (in the currency above) over it wait for "
    "you to confirm; scheduled sends and automatic replies wait. Leave empty for no limit.",
    number="float",
)
COMMON_TAIL = (CONCURRENCY, RATE, PRICE, COUNTRY_PRICES, CURRENCY, MONTHLY_LIMIT)
# For providers that can be asked for statuses and replies (services/polling.py reads them).
POLLING = FieldSpec(
    "polling",
    "Ask the provider for updates",
    default="auto",
    choices=("auto", "always", "off"),
    help="Polling. auto: ask for statuses and replies while no tunnel brings this account's "
    "webhooks in; always: ask even then; off: never ask.",
    advanced=True,
)
POLL_RATE = FieldSpec(
    "poll_per_second",
    "Update requests per second, at most",
    default="2",
    help="At most this many status or reply requests (polls) per second.",
    number="float",
    minimum=0.01,
    advanced=True,
)
POLL_TAIL = (POLLING, POLL_RATE)
