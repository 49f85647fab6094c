"""Provider adapters: one module per provider, declared as data in ``spec``.

Imports ``domain`` and httpx only (``_http`` also knows the aiohttp transport it plugs into
httpx). The ``httpx.AsyncClient`` is injected, so tests and the sandbox use real loopback HTTP.
"""
