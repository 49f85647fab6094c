"""Signed PureSMS-style webhook bodies for receiver tests (the sandbox's own wire format)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from smsdesk.providers.puresms import sign

SECRET = "whsec-test-0123456789abcdef"


def receipt(
    message_id: str = "pm-1", client_ref: str | None = None, status: str = "Delivered", event_id: str | None = None
) -> bytes:
    env: dict[str, Any] = {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "timestamp": "2026-01-15T10:30:00Z",
        "eventType": 1,
        "data": {"messageId": message_id, "clientReference": client_ref, "deliveryStatus": status},
    }
    return json.dumps(env).encode()


def reply(sender: str, text: str, message_id: str | None = None) -> bytes:
    env = {
        "id": f"evt_{uuid.uuid4().hex}",
        "eventType": 2,
        "data": {
            "messageId": message_id or uuid.uuid4().hex,
            "sender": sender,
            "inboundNumber": "+447700900999",
            "body": text,
        },
    }
    return json.dumps(env).encode()


def signed_headers(body: bytes, secret: str = SECRET, ts: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if ts is None else ts))
    return {
        "Content-Type": "application/json",
        "X-Webhook-Timestamp": stamp,
        "X-Webhook-Signature": sign(secret, stamp, body),
    }
