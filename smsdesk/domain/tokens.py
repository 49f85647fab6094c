"""Random tokens for generated fields: API keys and webhook secrets the sandbox issues, callback
tokens of accounts."""

from __future__ import annotations


def new_token() -> str:
    """24 random bytes, URL-safe (32 characters)."""
    import secrets  # with hmac and hashlib, 3 ms that the window's first paint does without

    return secrets.token_urlsafe(24)
