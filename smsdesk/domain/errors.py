"""The error tree. Every failure a person may see is one of these, with words they understand.

Provider failures carry a ``kind`` that decides retries (only ``retryable`` is retried, with
exponential back-off, jitter and the provider's Retry-After; see the README's "How it works"):
``retryable`` (the request never reached the provider, 429, 5xx before acceptance),
``ambiguous`` (the provider may have sent it), ``permanent`` (fix data, key or credit).
"""

from __future__ import annotations

from enum import StrEnum


class SmsdeskError(Exception):
    """Base of everything smsdesk raises on purpose. ``str(err)`` is shown to the person."""


class InvalidInput(SmsdeskError):
    """Bad input from the person (CLI exit code 2)."""


class InvalidNumber(InvalidInput):
    """A phone number that cannot be used."""


class OptedOut(InvalidInput):
    """The recipient asked not to be messaged."""


class NotFound(InvalidInput):
    """A named thing (account, message, queue item) does not exist."""


class OverLimit(InvalidInput):
    """A send would go over its account's monthly spending limit, and nobody agreed to that.
    ``reason`` is the limit's sentence alone, for a question that offers to send anyway."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"{reason} Nothing was sent: confirm to send anyway (on the command line, add --over-limit), "
            "or raise the limit in Settings → Accounts."
        )
        self.reason = reason


class StorageError(SmsdeskError):
    """The database cannot be used (corrupt, newer version, locked)."""


class StoreUnreachable(StorageError):
    """A team workspace's server cannot be reached now (down, restarting, no network): it
    may answer again, so a window waits and retries rather than giving up."""


class LoginRefused(StoreUnreachable):
    """A team workspace's server answered and refused this login (a wrong password, a person
    removed, a workspace that does not exist): it is retried too, but someone must act first."""


class SecretStoreUnavailable(SmsdeskError):
    """No usable OS keyring backend."""


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"
    AMBIGUOUS = "ambiguous"
    PERMANENT = "permanent"


class ProviderError(SmsdeskError):
    """A provider refused or failed a request.

    Attributes:
        kind: how the dispatcher treats it.
        status_code: the HTTP status, when there was one.
        retry_after: seconds the provider asked us to wait.
        opted_out: the provider says the recipient opted out.
        auth: the key was refused.
        rejected: the provider refused this message at submission (a permanent refusal that
            smsdesk records as ``rejected``, such as Send-2's 406 or a Channel API connector's
            non-200: the provider looked at this message and said no), as opposed to a request
            that failed.
    """

    def __init__(
        self,
        message: str,
        kind: ErrorKind = ErrorKind.PERMANENT,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        opted_out: bool = False,
        auth: bool = False,
        rejected: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.auth = auth
        self.rejected = rejected
