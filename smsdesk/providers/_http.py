"""HTTP plumbing shared by adapters: the client factory and HTTP failure -> ProviderError.

Transport: httpx's default transport is several times slower than aiohttp under
concurrency (encode/httpx#3215), so the client keeps the httpx
API over ``httpx_aiohttp.AiohttpTransport``. ``SMSDESK_HTTP_TRANSPORT=httpx`` switches back
(bench/ measures both).

Fast path: :func:`request` on an :class:`AiohttpClient` sends through its aiohttp session
directly and answers with a light :class:`Reply`. Adapters read answers through the
:class:`HttpReply` protocol, which ``httpx.Response`` (the httpx transport) satisfies too. The
per-request work of ``httpx.AsyncClient`` (request building, cookie extraction, redirect and
auth plumbing) is skipped: on the send benchmark it cost about as much as aiohttp itself, and
building an ``httpx.Response`` for each answer cost ~12 µs more.

Classification. The question is always "can the
provider have acted on this request?", because PureSMS and Send-2 have no idempotency key
and a second attempt could send the SMS twice:

- Retryable, the request provably never reached the provider: connect refused or timed out,
  no pooled connection free in time (httpx's transport only: on aiohttp's, a request still
  waiting for one of the 200 pooled connections when its answer's deadline passes counts as
  ambiguous, see ``_aioclient``; the dispatcher never has that many in flight); 429 (refused, not
  processed); 503 (RFC 9110: the server is "currently unable to handle the request", which
  load balancers, maintenance pages and overloaded servers answer before the application
  sees it), with or without ``Retry-After``.
- Ambiguous, it may have been processed: a read timeout or a dropped connection after the
  request was written; 500, 502 (a gateway got a bad answer from the provider's application,
  which may have acted first) and 504 (the gateway gave up waiting on it). An adapter whose
  provider dedupes on our reference (``idempotent=True``) retries these instead.
- Permanent: every other answer (4xx: validation, key, credit, opt-out).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from smsdesk.domain.errors import ErrorKind, ProviderError

if TYPE_CHECKING:
    import httpx

# httpx (~0.1 s) and aiohttp (~0.2-0.5 s to import) are imported inside the functions that
# need them: the first client built or the first failure classified, never at GUI start-up.
# The aiohttp-backed client lives in ``_aioclient`` for the same reason.
_AIOCLIENT = "smsdesk.providers._aioclient"
# Request bodies: compact JSON, from one encoder built once. ``JSONEncoder.encode`` builds its
# C encoder again on every call (half of its ~3 µs per message); the bodies are plain dicts,
# lists and strings, so the circular-reference check it also sets up is not needed.
_C_COMPACT = json.encoder.c_make_encoder(  # type: ignore[attr-defined]  # (CPython's C accelerator)
    None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
)
_DECODER = json.JSONDecoder()


def compact_json(body: Any) -> bytes:
    """``body`` as compact JSON bytes (ASCII, as ``json.dumps(body, separators=(",", ":"))``)."""
    return "".join(_C_COMPACT(body, 0)).encode()


class HttpReply(Protocol):
    """What adapters read of an answer: :class:`Reply` and ``httpx.Response`` both have it."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...  # names case-insensitive

    @property
    def reason_phrase(self) -> str: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class Reply:
    """A provider's answer, read in full (the aiohttp fast path's :class:`HttpReply`)."""

    __slots__ = ("_charset", "content", "headers", "reason_phrase", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        reason_phrase: str,
        charset: Callable[[], str | None],
    ) -> None:
        """``charset``: how to read the charset the answer named (parsing the Content-Type
        costs a few µs, and only an answer read as text needs it)."""
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.reason_phrase = reason_phrase
        self._charset = charset

    @property
    def encoding(self) -> str:
        """The charset the answer named, else UTF-8 (as httpx decodes)."""
        return self._charset() or "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        # UTF-8 (RFC 8259) decoded here: json.loads first guesses the encoding of bytes, a
        # third of its time for a provider's short answer. Anything else goes the long way.
        try:
            text = self.content.decode("utf-8")
        except UnicodeDecodeError:
            return json.loads(self.content)
        return _DECODER.decode(text[1:] if text.startswith("\ufeff") else text)


def make_client(timeout: httpx.Timeout | float | None = None, transport: str | None = None) -> httpx.AsyncClient:
    """The one way smsdesk builds an HTTP client for providers (default timeout: 20 s; connect
    10 s; waiting for a pooled connection 30 s, on the aiohttp transport within the answer's
    deadline of connect + read instead)."""
    import httpx

    if timeout is None:
        timeout = httpx.Timeout(20.0, connect=10.0, pool=30.0)
    kind = transport or os.environ.get("SMSDESK_HTTP_TRANSPORT", "aiohttp")
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    headers = {"Accept": "application/json", "User-Agent": "smsdesk"}
    if kind == "aiohttp":
        from smsdesk.providers._aioclient import AiohttpClient

        return AiohttpClient(timeout=timeout, limits=limits, headers=headers)
    return httpx.AsyncClient(timeout=timeout, limits=limits, headers=headers, trust_env=False)


def _unreachable(provider: str, exc: BaseException) -> str:
    return (
        f"Could not reach {provider} ({str(exc) or type(exc).__name__}); nothing was sent. "
        "Check the internet connection and the account's base URL."
    )


def classify_aiohttp(exc: BaseException, provider: str) -> ProviderError:
    """The fast path's twin of :func:`classify_exception` (same kinds, same words)."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return ProviderError(_unreachable(provider, exc), ErrorKind.RETRYABLE)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return ProviderError(f"The {provider} URL is not valid: {exc}.", ErrorKind.PERMANENT)
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        return ProviderError(
            f"{provider} did not answer in time; the message may or may not have been sent.", ErrorKind.AMBIGUOUS
        )
    return ProviderError(
        f"The connection to {provider} broke after the request was sent ({type(exc).__name__}); "
        "the message may or may not have been sent.",
        ErrorKind.AMBIGUOUS,
    )


def _never_sent(exc: BaseException) -> bool:
    import httpx

    cause = exc.__cause__
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None and isinstance(cause, aiohttp.ClientError):
        # httpx_aiohttp maps every aiohttp connection error to ConnectTimeout; only a failed
        # connect proves the request never left.
        return isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    # httpx's own transport (httpcore, cause httpcore.*): a connect or pool error is raised
    # before a byte of the request is written (a dead kept-alive connection is a write or
    # protocol error instead).
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def classify_exception(exc: httpx.HTTPError, provider: str) -> ProviderError:
    import httpx

    if _never_sent(exc):
        return ProviderError(_unreachable(provider, exc), ErrorKind.RETRYABLE)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ProviderError(f"The {provider} URL is not valid: {exc}.", ErrorKind.PERMANENT)
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(
            f"{provider} did not answer in time; the message may or may not have been sent.", ErrorKind.AMBIGUOUS
        )
    return ProviderError(
        f"The connection to {provider} broke after the request was sent ({type(exc).__name__}); "
        "the message may or may not have been sent.",
        ErrorKind.AMBIGUOUS,
    )


async def request(
    client: httpx.AsyncClient,
    provider: str,
    method: str,
    url: str,
    *,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> HttpReply:
    """Send one request; network failures become classified :class:`ProviderError`."""
    # An AiohttpClient can only exist once its module was imported (by make_client).
    aio = sys.modules.get(_AIOCLIENT)
    if aio is not None and isinstance(client, aio.AiohttpClient):
        content = None if json_body is None else compact_json(json_body)
        hdrs = dict(headers or {})
        if content is not None:
            hdrs.setdefault("Content-Type", "application/json")
        # aio_request is typed Any (the module is looked up at run time); it returns a Reply.
        return await aio.aio_request(client, provider, method, url, content, hdrs, params)  # type: ignore[no-any-return]
    import httpx

    try:
        if json_body is not None:
            content = compact_json(json_body)
            hdrs = {"Content-Type": "application/json", **(headers or {})}
            return await client.request(method, url, content=content, headers=hdrs, params=params)
        return await client.request(method, url, headers=headers, params=params)
    except httpx.HTTPError as exc:
        raise classify_exception(exc, provider) from exc


def body_json(resp: HttpReply) -> Any:
    try:
        return resp.json()
    except (ValueError, UnicodeDecodeError):
        return None


def error_text(resp: HttpReply) -> str:
    """The provider's own words, taken defensively: message, detail, title, error, errors."""
    data = body_json(resp)
    parts: list[str] = []
    if isinstance(data, dict):
        for key in ("message", "detail", "title", "error", "Message"):
            val = data.get(key)
            if isinstance(val, str) and val.strip():
                parts.append(val.strip())
                break
            if isinstance(val, dict):
                inner = val.get("message") or val.get("name")
                if isinstance(inner, str):
                    parts.append(inner)
                    break
        errs = data.get("errors")
        if isinstance(errs, dict):
            for fld, msgs in errs.items():
                msg = "; ".join(map(str, msgs)) if isinstance(msgs, list) else str(msgs)
                parts.append(f"{fld}: {msg}")
        elif isinstance(errs, list):
            parts += [str(e.get("error", e)) if isinstance(e, dict) else str(e) for e in errs[:5]]
    if not parts:
        text = resp.text.strip()[:300]
        parts.append(text or (resp.reason_phrase or f"HTTP {resp.status_code}"))
    return " - ".join(parts)


def retry_after(resp: HttpReply) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # ~8 ms to import: only when a date is given

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def generic_error(resp: HttpReply, provider: str, *, idempotent: bool = False) -> ProviderError:
    """Default mapping of a non-success answer (adapters refine it); see the module docstring.

    ``idempotent``: the provider dedupes on our client reference, so a request that may have
    been processed can safely be sent again.
    """
    code = resp.status_code
    text = error_text(resp)
    if code == 429:
        return ProviderError(
            f"{provider} is rate limiting: {text}", ErrorKind.RETRYABLE, status_code=code, retry_after=retry_after(resp)
        )
    if code == 503:
        return ProviderError(
            f"{provider} is unavailable (HTTP {code}): {text}",
            ErrorKind.RETRYABLE,
            status_code=code,
            retry_after=retry_after(resp),
        )
    if code in (502, 504) and not idempotent:
        return ProviderError(
            f"{provider}'s gateway answered HTTP {code} ({text}) after the request was sent; the message may or "
            "may not have been sent, so it is not sent again automatically.",
            ErrorKind.AMBIGUOUS,
            status_code=code,
        )
    if code >= 500:
        kind = ErrorKind.RETRYABLE if idempotent else ErrorKind.AMBIGUOUS
        return ProviderError(
            f"{provider} had an internal error (HTTP {code}): {text}",
            kind,
            status_code=code,
            retry_after=retry_after(resp),
        )
    if code in (401, 403):
        return ProviderError(f"{provider} refused the API key (HTTP {code}): {text}", status_code=code, auth=True)
    return ProviderError(f"{provider} refused the message (HTTP {code}): {text}", status_code=code)
