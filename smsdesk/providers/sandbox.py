"""The built-in sandbox provider: the PureSMS adapter, talking to this process's sandbox.

Its account (the seeded "Sandbox") needs no sign-up: the base URL and keys are this run's,
given by the sandbox host in memory. The wire format is PureSMS's, served at the sandbox's root.
"""

from __future__ import annotations

from smsdesk.providers.puresms import CAPS, ENVELOPE, UNICODE_HELP, UNICODE_MODES, make
from smsdesk.providers.spec import BASE_URL, COMMON_TAIL, SENDER, FieldSpec, Limits, ProviderSpec, SandboxWire

SPEC: ProviderSpec = ProviderSpec(
    id="sandbox",
    name="Sandbox",
    fields=(
        BASE_URL,
        SENDER,
        FieldSpec("api_key", "API key", secret=True, generated=True),
        FieldSpec("webhook_secret", "Webhook signing secret", secret=True, generated=True),
        FieldSpec(
            "unicode",
            "Special characters (Unicode mode)",
            default="Allow",
            choices=UNICODE_MODES,
            help=UNICODE_HELP,
            advanced=True,
        ),
        *COMMON_TAIL,
    ),
    caps=CAPS,
    limits=Limits(concurrency=16, per_second=1000),
    default_base_url="",
    factory=lambda acct, client: make(SPEC, acct, client),
    notes="The built-in simulated provider (PureSMS wire format); no account, no real SMS.",
    unsettled_note=(
        "The sandbox, like PureSMS whose wire format it speaks, cannot be asked whether these went "
        "out; a delivery receipt still settles any that did. Mark them as sent or send them again."
    ),
    envelope=ENVELOPE,
    builtin_sandbox=True,
    sandbox=SandboxWire(""),
)
