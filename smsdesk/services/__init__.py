"""Use cases, async and Qt-free: sending (outbox + dispatcher), inbound and receipts, accounts,
opt-outs, webhooks. Every mutation is announced on the :class:`EventBus` as a ``Changes``.

Imports ``domain``, ``storage``, ``providers``, ``config`` and ``webhook``; never Qt.
"""
