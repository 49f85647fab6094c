"""Provider adapters: one module per provider, declared as data in ``spec``.

Imports ``domain`` and httpx only (``_http`` also knows the aiohttp transport it plugs into
httpx). The ``httpx.AsyncClient`` is injected, so tests and the sandbox use real loopback HTTP.

Everything the rest of smsdesk needs to know about a provider is in its
:class:`~smsdesk.providers.spec.ProviderSpec`; services and views ask the spec, never the id
(``tests/test_provider_knowledge.py`` fails on a provider id named outside ``providers/`` and
``sandbox/``). If a service needs a new fact about providers, add a field to ``ProviderSpec``
(plain data, with a default that keeps the others as they are) and read it there.

How to add a provider (say ``acme``):

1. **The adapter**, ``smsdesk/providers/acme.py``: a module docstring with the provider's
   public documentation link and the facts smsdesk relies on (auth, errors, retries); a
   ``BaseProvider`` subclass implementing ``send`` and ``test`` and whatever its capabilities
   say (``send_bulk``, ``cancel``, ``verify_webhook``/``parse_webhook``, ``poll_status``,
   ``poll_inbound``, ``reconcile_many``; :class:`~smsdesk.providers.base.Provider` lists
   them); map HTTP failures with :mod:`smsdesk.providers._http` so retries follow the shared
   rule. Then ``SPEC = ProviderSpec(...)`` declaring:

   - ``id`` (stored with each account: never change it), ``name`` (what people read),
     ``fields`` (the account form and ``accounts add --set``; ``secret=True`` ones live in the
     keyring; end with ``COMMON_TAIL``, plus ``POLL_TAIL`` if it can be polled),
     ``default_base_url``, ``factory``;
   - ``caps`` (:class:`~smsdesk.providers.spec.Capabilities`: bulk and ``max_batch``,
     ``schedule``/``cancel`` for provider-side scheduling, ``status_poll``/``inbound_poll``
     (polling), ``webhooks``/``webhook_signed``/``callback_per_send``, ``balance``, and how an
     undecided send settles: ``reconcile`` or ``idempotent``) and ``limits``;
   - ``numeric_sender_only`` if sender IDs must be numbers; ``envelope`` if its webhook body
     is not a plain event or list of events (``batch_keys``, ``event_in_data``);
     ``unsettled_note`` if it cannot be asked about an undecided send;
   - ``sandbox=SandboxWire("/acme", note=..., generated=..., preset=...,
     registers_webhook=..., registers_jwt=...)``: where the built-in sandbox serves its wire
     format, what "Use the built-in sandbox" fills in, and how the sandbox posts back.

   Set ``AcmeProvider.spec = SPEC`` after it, as the other modules do.
2. **The registry**: add ``"acme": "smsdesk.providers.acme"`` to ``MODULES`` in
   ``smsdesk/providers/registry.py`` (imported when first asked for) and the module to
   ``packaging/hidden_imports.py`` (explicit, so a frozen build has it).
3. **The sandbox's wire module**, ``smsdesk/sandbox/acme.py``: ``PREFIX = "/acme"`` (the
   ``SandboxWire`` path), a wire class answering the provider's routes from the shared
   :class:`~smsdesk.sandbox.server.SandboxServer` (``record``, ``faults``, ``_lifecycle``
   with its own receipt poster), and ``register(server, app)``; add ``acme.register`` to the
   tuple in ``smsdesk/sandbox/__init__.py``. It imports nothing from smsdesk outside
   ``sandbox/``: it stands for the provider's cloud.
4. **The packaging list**: ``smsdesk.providers.acme`` and ``smsdesk.sandbox.acme`` in
   ``packaging/hidden_imports.py`` (``tests/test_packaging.py`` says so when one is missing).
5. **Its test**, ``tests/providers/test_acme.py``: an account of the new provider pointed at
   the running sandbox (``accounts.sandbox_fill``), a send, and the status a person would see
   come back; add a row to ``tests/providers/cases.py`` (and its wire's default answer in
   ``tests/providers/fakes.py``) to put it through the contract suite's errors, numbers,
   senders and webhook checks.

Nothing else changes: the account form, the CLI, sending, scheduling, polling, webhook intake,
reception and the sandbox host all read the spec. The README's provider table lists it.
"""
