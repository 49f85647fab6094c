"""The aiohttp-backed provider client (see :mod:`smsdesk.providers._http` for why).

A module of its own so that httpx and aiohttp are imported when the first client is built
(:func:`smsdesk.providers._http.make_client`), not when the adapters are.

Time-outs. aiohttp's per-request time-outs arm timers for every request: one while a pooled
connection is awaited, and the read time-out is cancelled and armed again on every chunk
received. That was ~12 µs of the event loop's time per send, 4% of the send benchmark. Here
aiohttp keeps only its connect time-out (it runs only when a connection is opened, so a send
that fails to connect is still told apart: nothing was written, safe to retry), and the
answer's deadline is kept by :class:`_Deadlines`: one timer for every request in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx

from smsdesk.providers._http import Reply, classify_aiohttp


class _Deadlines:
    """The deadlines of the requests in flight, checked by one repeating timer.

    A request must be answered within ``seconds`` of its start (the connect time-out plus the
    read one: a request that had to open a connection has both). The timer runs only while
    requests are in flight and looks every ``tick`` (a quarter of ``seconds``, at most a
    second), so a request that is not answered fails between ``seconds`` and ``seconds +
    tick`` after it started. It fails as aiohttp's read time-out did: the request may have
    been written, so the send is ambiguous.

    A request past its deadline is cancelled (its task is suspended inside the request, so
    the cancellation is raised there) and :func:`aio_request` turns that cancellation, and
    only that one, into a time-out.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.tick = max(0.01, min(1.0, seconds / 4))
        self._due: dict[_InFlight, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> _InFlight:
        task = asyncio.current_task(loop)
        assert task is not None, "a provider request runs in a task"
        req = _InFlight(task)
        self._due[req] = loop.time() + self.seconds
        if self._timer is None or self._loop is not loop:  # (a timer of a loop since closed never fires)
            self._loop = loop
            self._timer = loop.call_later(self.tick, self._check, loop)
        return req

    def done(self, req: _InFlight) -> None:
        self._due.pop(req, None)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._loop:
            return  # a timer left from an earlier loop: the current one has its own
        now = loop.time()
        late = [req for req, due in self._due.items() if due <= now]
        for req in late:
            del self._due[req]
            req.expired = True
            req.task.cancel()
        self._timer = loop.call_later(self.tick, self._check, loop) if self._due else None


class _InFlight:
    __slots__ = ("cancelling", "expired", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.cancelling = task.cancelling()  # cancellations asked before this request began
        self.expired = False


class AiohttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` over ``httpx_aiohttp``.

    :func:`smsdesk.providers._http.request` uses its session directly.
    """

    def __init__(self, *, timeout: httpx.Timeout | float, limits: httpx.Limits, headers: dict[str, str]) -> None:
        from httpx_aiohttp import AiohttpTransport

        self.aio_transport = AiohttpTransport(limits=limits, trust_env=False)
        super().__init__(transport=self.aio_transport, timeout=timeout, headers=headers)
        t = self.timeout
        # Only the connect time-out is aiohttp's (see the module's doc); the rest is _Deadlines'.
        self.aio_timeout = aiohttp.ClientTimeout(total=None, sock_connect=t.connect)
        self.deadlines = _Deadlines((t.connect or 0.0) + (t.read or 0.0) or 30.0)
        self.base_headers = dict(headers)

    def session(self) -> aiohttp.ClientSession:
        """The transport's session (created on first use, on the running loop; closed by aclose)."""
        transport = self.aio_transport
        if not isinstance(transport.client, aiohttp.ClientSession):
            transport.client = transport.get_client()
        return transport.client


async def aio_request(
    client: AiohttpClient,
    provider: str,
    method: str,
    url: str,
    content: bytes | None,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None,
) -> Reply:
    hdrs = {**client.base_headers, **headers}
    deadlines = client.deadlines
    req = deadlines.start(asyncio.get_running_loop())
    try:
        async with client.session().request(
            method,
            url,
            data=content,
            headers=hdrs,
            params=params,
            allow_redirects=False,
            auto_decompress=False,
            timeout=client.aio_timeout,
        ) as resp:
            body = await resp.read()
            return Reply(resp.status, resp.headers, body, resp.reason or "", lambda: resp.charset)
    except asyncio.CancelledError:
        # Ours only if the deadline passed and nobody else cancelled the task meanwhile.
        if req.expired and req.task.uncancel() <= req.cancelling:
            raise classify_aiohttp(TimeoutError(), provider) from None
        raise
    except (aiohttp.ClientError, TimeoutError) as exc:
        if req.expired:  # failed on its own just as its deadline passed: the cancel is void
            req.task.uncancel()
        raise classify_aiohttp(exc, provider) from exc
    finally:
        deadlines.done(req)
