"""Loopback by default; binding elsewhere is an explicit setting and is warned about."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from smsdesk.runtime import Runtime


@pytest.mark.asyncio
async def test_default_bind_is_loopback(_isolated_home: Path) -> None:
    rt = Runtime.open(str(_isolated_home))
    try:
        await rt.start(sandbox=False, dispatcher=False, polling=False)
        assert rt.receiver.receiver.host == "127.0.0.1"  # type: ignore[union-attr]
    finally:
        await rt.stop()
        rt.close()


@pytest.mark.asyncio
async def test_binding_all_interfaces_warns_and_serves(
    _isolated_home: Path, caplog: pytest.LogCaptureFixture, expect_warnings: list[bool]
) -> None:
    rt = Runtime.open(str(_isolated_home))
    rt.settings.receiver_host = "0.0.0.0"
    try:
        with caplog.at_level(logging.WARNING, logger="smsdesk.runtime"):
            await rt.start(sandbox=False, dispatcher=False, polling=False)
        assert any("reachable from other computers" in r.getMessage() for r in caplog.records)
        port = rt.receiver.receiver.port  # type: ignore[union-attr]
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/health")).json() == {"ok": True}
    finally:
        await rt.stop()
        rt.close()
