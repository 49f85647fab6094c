"""The local webhook receiver: HTTP in, a :class:`WebhookRequest` out to an injected handler.

Knows no concrete provider and no storage: the handler (``services.webhooks``) verifies,
persists the raw event and decides the answer; the receiver only enforces HTTP hygiene
(method, body cap, slow-body timeout, content type) and answers. Imports ``domain`` only.
"""

from smsdesk.webhook.receiver import Receiver, ReceiverThread, WebhookHandler

__all__ = ["Receiver", "ReceiverThread", "WebhookHandler"]
