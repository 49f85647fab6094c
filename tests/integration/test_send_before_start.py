"""A message sent in the moment between the window's first paint and the services starting
(the window is shown first) is queued, never lost, and goes out once the dispatcher runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.domain.status import Status
from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from tests.support.wait import until


@pytest.mark.asyncio
async def test_a_send_before_the_services_start_is_queued_then_delivered(_isolated_home: Path) -> None:
    rt = Runtime.open(str(_isolated_home))
    rt.settings.extra["sandbox_reply_rate"] = 0.0
    rt.settings.extra["sandbox_stop_rate"] = 0.0
    try:
        account = rt.accounts.by_name("Sandbox")
        [msg] = await rt.sending.send(Draft(account.id, ["07911 123456"], "Typed before the services were up"))
        assert rt.sending.messages.get(msg.id).status == Status.QUEUED and rt.sandbox is None
        await rt.start(tunnel=False, polling=False)
        await until(lambda: rt.sending.messages.get(msg.id).status == Status.DELIVERED, timeout=15)
        assert rt.sandbox is not None
        assert [s.content for s in rt.sandbox.server.sent] == ["Typed before the services were up"]
    finally:
        await rt.stop()
        rt.close()
