"""Send through the sandbox over real loopback HTTP; the signed receipt makes it Delivered."""

from __future__ import annotations

import pytest

from smsdesk.domain.status import Status
from smsdesk.services.send import Draft
from tests.support.wait import until


@pytest.mark.asyncio
async def test_send_is_delivered_by_signed_receipt(runtime) -> None:
    account = runtime.accounts.by_name("Sandbox")
    [msg] = await runtime.sending.send(Draft(account.id, ["07911 123456"], "Your table is booked for 7pm"))
    assert msg.status == Status.QUEUED and msg.remote == "+447911123456"

    def delivered():
        m = runtime.sending.messages.get(msg.id)
        return m if m.status == Status.DELIVERED else None

    final = await until(delivered)
    assert final.provider_message_id
    assert final.raw_status == "Delivered"
    sent = runtime.sandbox.server.sent
    assert [(s.recipient, s.client_reference) for s in sent] == [("+447911123456", msg.local_id)]
    log = runtime.store.db.query("SELECT outcome FROM webhook_log")
    assert {r["outcome"] for r in log} == {"accepted"}
    statuses = [r.status for r in runtime.sending.messages.transitions(msg.id)]
    assert statuses == ["queued", "sent", "delivered"]
