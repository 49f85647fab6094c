"""The aiohttp-backed provider client (see :mod:`smsdesk.providers._http` for why).

A module of its own so that httpx and aiohttp are imported when the first client is built
(:func:`smsdesk.providers._http.make_client`), not when the adapters are.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import httpx

from smsdesk.providers._http import Reply, classify_aiohttp


class AiohttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` over ``httpx_aiohttp``.

    :func:`smsdesk.providers._http.request` uses its session directly.
    """

    def __init__(self, *, timeout: httpx.Timeout | float, limits: httpx.Limits, headers: dict[str, str]) -> None:
        from httpx_aiohttp import AiohttpTransport

        self.aio_transport = AiohttpTransport(limits=limits, trust_env=False)
        super().__init__(transport=self.aio_transport, timeout=timeout, headers=headers)
        t = self.timeout
        # The same mapping httpx_aiohttp uses: connect -> sock_connect, read -> sock_read, pool -> connect.
        self.aio_timeout = aiohttp.ClientTimeout(sock_connect=t.connect, sock_read=t.read, connect=t.pool)
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
            return Reply(resp.status, resp.headers, body, resp.reason or "", resp.charset or "utf-8")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise classify_aiohttp(exc, provider) from exc
