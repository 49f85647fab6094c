"""Each kind of account, added through the services, sends through the dispatcher to the
sandbox's wire format for it, and the status a person sees is recorded."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from smsdesk.domain.status import Status
from smsdesk.providers import puresms
from smsdesk.services.send import Draft
from smsdesk.storage.optouts import OptOutRepository
from tests.support.wait import until

pytestmark = pytest.mark.asyncio
JWT_SECRET = "sandbox-channel-jwt-secret-long-enough-1"


async def _add(runtime: Any, name: str, provider: str, prefix: str, **values: str) -> Any:
    cfg = runtime.sandbox.server.config
    return await runtime.accounts.add(
        name, provider, {"base_url": runtime.sandbox.url + prefix, "api_key": cfg.api_key, **values}
    )


async def _status(runtime: Any, msg_id: int, *wanted: Status) -> Any:
    def check() -> Any:
        m = runtime.sending.messages.get(msg_id)
        return m if m.status in wanted else None

    return await until(check)


@pytest.mark.parametrize(
    ("provider", "prefix", "values"),
    [
        ("mobivate", "/mobivate", {"sender": "Bistro"}),
        ("channel", "/channel", {"sender": "Bistro", "url": "/send", "jwt_secret": JWT_SECRET, "chan.Region": "eu"}),
        ("puresms", "", {"sender": "Bistro"}),
    ],
)
async def test_webhook_providers_reach_delivered(runtime: Any, provider: str, prefix: str, values: dict) -> None:
    cfg = runtime.sandbox.server.config
    cfg.channel_jwt_secret = JWT_SECRET
    if provider == "puresms":
        values = {**values, "webhook_secret": cfg.webhook_secret}
    account = await _add(runtime, f"My {provider}", provider, prefix, **values)
    if provider == "puresms":
        cfg.webhook_url = runtime.accounts.webhook_url(account)  # PureSMS has one workspace webhook
    [msg] = await runtime.sending.send(Draft(account.id, ["07911 123456"], "Your table is booked for 7pm"))
    final = await _status(runtime, msg.id, Status.DELIVERED)
    assert final.provider_message_id
    [sent] = [s for s in runtime.sandbox.server.sent if s.client_reference == msg.local_id]
    assert sent.wire == (provider if provider != "puresms" else "puresms")
    log = runtime.store.db.query("SELECT outcome FROM webhook_log")
    assert {r["outcome"] for r in log} == {"accepted"}
    if provider == "channel":
        assert sent.extra["headers"].get("chan-region") == "eu"


async def test_send2_is_delivered_by_polling(runtime: Any) -> None:
    account = await _add(runtime, "My Send-2", "send2", "/send2", sender="12345")
    [msg] = await runtime.sending.send(Draft(account.id, ["+254722000000"], "Your code is 123456"))
    sent = await _status(runtime, msg.id, Status.SENT)
    assert sent.segments == 1 and sent.provider_message_id
    adapter = runtime.accounts.adapter(account.id)

    async def poll() -> Any:
        ev = await adapter.poll_status(sent.provider_message_id)
        return ev if ev and ev.status == Status.DELIVERED else None

    ev = None
    for _ in range(200):  # what a poller does: ask again until the dlr is final
        ev = await poll()
        if ev:
            break
        await asyncio.sleep(0.05)
    assert ev is not None and ev.raw_status == "Delivered To Terminal"
    await runtime.inbound.apply_receipts(account.id, [ev])
    final = runtime.sending.messages.get(msg.id)
    assert final.status == Status.DELIVERED and final.raw_status == "Delivered To Terminal"
    assert "Balance" in await runtime.accounts.test(account)


async def test_mobivate_opt_out_at_the_provider_joins_our_list(runtime: Any) -> None:
    account = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    await runtime.accounts.adapter(account.id).optout_add("+447911123456")
    [msg] = await runtime.sending.send(Draft(account.id, ["07911 123456"], "Sale today"))
    final = await _status(runtime, msg.id, Status.REJECTED)
    assert "opted out" in (final.error or "")
    assert OptOutRepository(runtime.store.db).is_opted_out("+447911123456")


async def test_mobivate_dropped_send_is_reconciled_not_resent(runtime: Any) -> None:
    account = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    runtime.sandbox.server.config.rate_drop = 1.0
    [msg] = await runtime.sending.send(Draft(account.id, ["07911 123456"], "Hello"))
    final = await _status(runtime, msg.id, Status.NEEDS_REVIEW)
    assert final.attempts == 1  # never blindly resent
    assert runtime.sandbox.server.sent == []


async def test_test_button_shows_each_providers_words(runtime: Any) -> None:
    mob = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    assert "accepted" in await runtime.accounts.test(mob)
    ch = await _add(runtime, "Chan", "channel", "/channel", sender="Bistro", url="/send", verify_url="/verify")
    assert "accepted" in await runtime.accounts.test(ch)


def _unknown_receipt(provider: str, local_id: str, data_dir: Path, secret: str) -> tuple[bytes, dict[str, str], str]:
    """(body, headers, raw status): each provider's captured "unrecognised status" receipt for ``local_id``."""
    hooks = data_dir / "webhooks"
    headers = {"Content-Type": "application/json"}
    if provider == "mobivate":  # statusCode 99, a name nobody documents
        body = json.loads((hooks / "mobivate_receipt_new_code.json").read_text())
        body["clientReference"] = local_id
        raw = json.dumps(body).encode()
        return raw, headers, "SOMETHING_NEW"
    if provider == "channel":
        events = json.loads((hooks / "channel_dr_unknown.json").read_text())
        events[0]["custom_data"] = events[0]["request_id"] = local_id
        headers["Authorization"] = "Bearer " + jwt.encode({"iat": int(time.time())}, secret, algorithm="HS256")
        return json.dumps(events).encode(), headers, "carrier_limbo"
    body = json.loads((hooks / "puresms_receipt_unknown.json").read_text())
    body["data"]["clientReference"] = local_id
    raw = json.dumps(body).encode()
    ts = str(int(time.time()))
    headers.update({"X-Webhook-Timestamp": ts, "X-Webhook-Signature": puresms.sign(secret, ts, raw)})
    return raw, headers, "Unknown"


@pytest.mark.parametrize(
    ("provider", "prefix", "values"),
    [
        ("mobivate", "/mobivate", {"sender": "Bistro"}),
        ("channel", "/channel", {"sender": "Bistro", "url": "/send", "jwt_secret": JWT_SECRET}),
        ("puresms", "", {"sender": "Bistro"}),
    ],
)
async def test_an_unknown_receipt_after_sent_shows_unknown_with_the_raw_status(
    runtime: Any, data_dir: Path, provider: str, prefix: str, values: dict
) -> None:
    cfg = runtime.sandbox.server.config
    cfg.send_receipts = False  # the provider's own receipts would settle it first
    secret = JWT_SECRET if provider == "channel" else cfg.webhook_secret
    if provider == "puresms":
        values = {**values, "webhook_secret": cfg.webhook_secret}
    account = await _add(runtime, f"My {provider}", provider, prefix, **values)
    [msg] = await runtime.sending.send(Draft(account.id, ["07911 123456"], "Your table is booked for 7pm"))
    await _status(runtime, msg.id, Status.SENT)

    body, headers, raw = _unknown_receipt(provider, msg.local_id, data_dir, secret)
    async with httpx.AsyncClient(trust_env=False) as client:
        resp = await client.post(runtime.accounts.webhook_url(account), content=body, headers=headers)
    assert resp.status_code == 200, resp.text
    shown = await _status(runtime, msg.id, Status.UNKNOWN)
    assert shown.raw_status == raw
    assert [r.status for r in runtime.sending.messages.transitions(msg.id)] == ["queued", "sent", "unknown"]

    # UNKNOWN is terminal-but-ambiguous: a real final receipt still settles it.
    if provider == "puresms":
        final = body.replace(b'"Unknown"', b'"Delivered"').replace(b'"evt_', b'"evt_final_')
        ts = str(int(time.time()))
        hdrs = {**headers, "X-Webhook-Timestamp": ts, "X-Webhook-Signature": puresms.sign(secret, ts, final)}
        async with httpx.AsyncClient(trust_env=False) as client:
            assert (
                await client.post(runtime.accounts.webhook_url(account), content=final, headers=hdrs)
            ).status_code == 200
        delivered = await _status(runtime, msg.id, Status.DELIVERED)
        assert delivered.raw_status == "Delivered"


async def test_send2_refusal_at_submission_shows_rejected_with_its_words(runtime: Any) -> None:
    runtime.sandbox.server.wires["send2"].balance = 0  # Send-2 answers 406 "Insufficient SMS balance."
    account = await _add(runtime, "My Send-2", "send2", "/send2", sender="12345")
    [msg] = await runtime.sending.send(Draft(account.id, ["+254722000000"], "Your code is 123456"))
    final = await _status(runtime, msg.id, Status.REJECTED, Status.FAILED)
    assert final.status == Status.REJECTED
    assert "Insufficient SMS balance" in (final.error or "")


async def test_mobivate_batch_refusal_as_opted_out_joins_our_list(runtime: Any, tmp_path: Path) -> None:
    """A bulk run through Mobivate's /send/batch: the one recipient Mobivate refuses as opted out
    is rejected with its words and joins smsdesk's opt-out list (as a single send's 403 does),
    so nothing else is ever sent to it; the others go out."""
    from smsdesk.services.bulk_send_flow import BulkSendFlow, Step

    account = await _add(runtime, "Mob", "mobivate", "/mobivate", sender="Bistro")
    await runtime.accounts.adapter(account.id).optout_add("+447911123457")
    path = tmp_path / "list.csv"
    path.write_text("name,phone\nAnn,07911123456\nBen,07911123457\nCat,07911123458\n")
    wiz = BulkSendFlow(runtime.bulk_send, "GB")
    wiz.load(path)
    while wiz.step != Step.MESSAGE:
        if wiz.step == Step.VALIDATION:
            wiz.validate()
        wiz.next()
    wiz.set_account(account.id)
    wiz.set_template("Hi {{name}}, sale today")
    assert wiz.next() == Step.SEND
    run_id = await wiz.start()
    await until(lambda: runtime.bulk_send.progress(run_id).done, timeout=20)
    sent = runtime.sandbox.server.sent
    assert sorted(s.recipient for s in sent) == ["447911123456", "447911123458"]
    assert all(s.wire == "mobivate" and s.batch_id for s in sent)  # through /send/batch
    row = runtime.store.db.query_one("SELECT status, raw_status, error FROM messages WHERE remote = '+447911123457'")
    assert (row[0], row[1]) == ("rejected", "opted out") and "opted out" in row[2]
    assert OptOutRepository(runtime.store.db).is_opted_out("+447911123457")
    assert not OptOutRepository(runtime.store.db).is_opted_out("+447911123456")


async def test_an_account_pointed_at_the_sandbox_keeps_working_after_a_restart(_isolated_home: Path) -> None:
    """The sandbox keeps its port, and the key it issued to the account is accepted again, so a
    demo account needs no new key after smsdesk restarts (PureSMS: receipts to its own webhook)."""
    from smsdesk.runtime import Runtime

    async def run_once(make: bool) -> Status:
        rt = Runtime.open(str(_isolated_home))
        rt.settings.extra["sandbox_reply_rate"] = 0.0
        await rt.start(tunnel=False, polling=False)
        try:
            assert rt.sandbox is not None
            if make:
                for provider in ("puresms", "mobivate"):
                    values = rt.accounts.sandbox_values(provider)
                    await rt.accounts.add(f"Demo {provider}", provider, {**values, "sender": "Bistro"})
            statuses = []
            for provider in ("puresms", "mobivate"):
                account = rt.accounts.by_name(f"Demo {provider}")
                [msg] = await rt.sending.send(Draft(account.id, ["07911 123456"], "Back again"))
                statuses.append((await _status(rt, msg.id, Status.DELIVERED, Status.FAILED, Status.REJECTED)).status)
            assert set(statuses) == {Status.DELIVERED}, statuses
            return Status.DELIVERED
        finally:
            await rt.stop()
            rt.close()

    await run_once(make=True)
    assert await run_once(make=False) == Status.DELIVERED  # a new run: new sandbox key, same port


async def test_a_taken_sandbox_port_is_borrowed_for_one_run_not_kept(_isolated_home: Path) -> None:
    """Another smsdesk process (a GUI beside a CLI send) holds the kept port: this run uses a
    spare one and leaves the settings file alone, so the next start gets the kept port back."""
    import socket

    from smsdesk.config.settings import Settings
    from smsdesk.runtime import Runtime

    rt = Runtime.open(str(_isolated_home))
    await rt.start(tunnel=False, polling=False, dispatcher=False)
    kept = rt.settings.sandbox_port
    await rt.stop()
    rt.close()
    assert kept and Settings.load(rt.paths.settings).sandbox_port == kept
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", kept))
        holder.listen()
        rt = Runtime.open(str(_isolated_home))
        await rt.start(tunnel=False, polling=False, dispatcher=False)
        try:
            assert rt.sandbox is not None and rt.sandbox.server.port != kept
            assert Settings.load(rt.paths.settings).sandbox_port == kept
        finally:
            await rt.stop()
            rt.close()
