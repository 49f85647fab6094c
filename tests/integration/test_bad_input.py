"""Issue 2 "Bad input", end to end: each case says why in plain words and changes nothing.

Receiver attacks in depth live in test_receiver_attacks.py; here each case is checked from the
person's side: the message rows, the outbox and the database file stay as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from smsdesk.domain.errors import InvalidInput, InvalidNumber, StorageError
from smsdesk.domain.status import Status
from smsdesk.providers.puresms import sign
from smsdesk.runtime import Runtime
from smsdesk.services.send import MAX_TEXT, Draft
from smsdesk.storage.migrations import LATEST_VERSION
from tests.support.wait import until

TABLES = ("messages", "message_transitions", "audit_log", "conversations", "pending_receipts")


def _counts(rt: Any) -> dict[str, int]:
    return {t: int(rt.store.db.query_one(f"SELECT count(*) FROM {t}")[0]) for t in TABLES}


def _sandbox_id(rt: Any) -> int:
    return int(rt.accounts.by_name("Sandbox").id)


# ---- invalid input to the send path ---------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("recipients", "text", "sender", "reason"),
    [
        (["07812 34567"], "hi", None, "07812 34567"),
        (["+44 7700 900123"], "hi", None, "reserved for TV and film"),
        (["hello"], "hi", None, "not a phone number"),
        (["07812 345678", "0781234"], "hi", None, "0781234"),  # one bad number stops the lot
        ([], "hi", None, "at least one recipient"),
        (["07812 345678"], "   \n ", None, "empty"),
        (["07812 345678"], "x" * (MAX_TEXT + 1), None, "limit is 1600"),
        (["07812 345678"], "hi", "Far Too Long Name", "at most 11 characters"),
    ],
)
async def test_invalid_send_writes_nothing(runtime, recipients, text, sender, reason) -> None:
    before = _counts(runtime)
    with pytest.raises(InvalidInput) as err:
        await runtime.sending.send(Draft(_sandbox_id(runtime), recipients, text, sender=sender))
    assert reason in str(err.value)
    assert _counts(runtime) == before
    assert runtime.sandbox.server.sent == []


def test_inline_check_explains_without_writing(runtime) -> None:
    before = _counts(runtime)
    bad = runtime.sending.check_recipient("+447700900001")
    assert bad.number is None and "reserved for TV and film" in bad.error
    good = runtime.sending.check_recipient("07812 345678")
    assert (good.number, good.error) == ("+447812345678", None)
    assert _counts(runtime) == before


def test_invalid_number_is_an_invalid_input() -> None:
    assert issubclass(InvalidNumber, InvalidInput)  # the CLI turns it into exit code 2


# ---- provider refusal ------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_a_provider_refusal_fails_the_row_with_the_providers_reason(runtime) -> None:
    server = runtime.sandbox.server

    async def refuse(request: Any, error: Any = None) -> web.StreamResponse:
        return web.json_response(
            {"message": "One or more errors occurred!", "errors": {"recipient": ["Recipient is on the blocklist"]}},
            status=400,
        )

    server.faults = refuse
    [msg] = await runtime.sending.send(Draft(_sandbox_id(runtime), ["07812 345678"], "hi"))
    repo = runtime.sending.messages
    final = await until(lambda: (m := repo.get(msg.id)).status.is_final and m)
    assert final.status == Status.FAILED
    assert "Recipient is on the blocklist" in final.error
    assert final.raw_status == "400"


# ---- malformed or unsigned webhooks ---------------------------------------------------------
async def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status


async def _sent_and_signed(runtime: Any) -> tuple[Any, Any, Callable[[bytes], Awaitable[int]]]:
    """A message the sandbox accepted (its own receipts off), the row once Sent, and a POST of a
    body to the Sandbox account's webhook signed as PureSMS signs it (returns the status)."""
    runtime.sandbox.server.config.send_receipts = False
    [msg] = await runtime.sending.send(Draft(_sandbox_id(runtime), ["07812 345678"], "hi"))
    repo = runtime.sending.messages
    sent = await until(lambda: (m := repo.get(msg.id)).status == Status.SENT and m)
    url = runtime.accounts.webhook_url(runtime.accounts.by_name("Sandbox"))
    secret = runtime.sandbox.server.config.webhook_secret

    async def post_signed(body: bytes) -> int:
        stamp = str(int(time.time()))
        return await _post(
            url,
            body,
            {
                "Content-Type": "application/json",
                "X-Webhook-Timestamp": stamp,
                "X-Webhook-Signature": sign(secret, stamp, body),
            },
        )

    return msg, sent, post_signed


@pytest.mark.asyncio
async def test_unsigned_or_malformed_webhooks_are_4xx_logged_and_change_nothing(runtime) -> None:
    runtime.sandbox.server.config.send_receipts = False  # only our hand-made receipts arrive
    [msg] = await runtime.sending.send(Draft(_sandbox_id(runtime), ["07812 345678"], "hi"))
    repo = runtime.sending.messages
    sent = await until(lambda: (m := repo.get(msg.id)).status == Status.SENT and m)
    url = runtime.accounts.webhook_url(runtime.accounts.by_name("Sandbox"))
    secret = runtime.sandbox.server.config.webhook_secret
    receipt = json.dumps(
        {
            "id": "evt_forged",
            "eventType": 1,
            "data": {
                "messageId": sent.provider_message_id,
                "clientReference": msg.local_id,
                "deliveryStatus": "Failed",
            },
        }
    ).encode()
    stamp = str(int(time.time()))
    cases = {
        "unsigned": (receipt, {"Content-Type": "application/json"}),
        "bad signature": (
            receipt,
            {
                "Content-Type": "application/json",
                "X-Webhook-Timestamp": stamp,
                "X-Webhook-Signature": sign("wrong-secret", stamp, receipt),
            },
        ),
        "stale": (
            receipt,
            {
                "Content-Type": "application/json",
                "X-Webhook-Timestamp": str(int(time.time()) - 3600),
                "X-Webhook-Signature": sign(secret, str(int(time.time()) - 3600), receipt),
            },
        ),
        "malformed": (
            b"{not json",
            {
                "Content-Type": "application/json",
                "X-Webhook-Timestamp": stamp,
                "X-Webhook-Signature": sign(secret, stamp, b"{not json"),
            },
        ),
    }
    for name, (body, headers) in cases.items():
        status = await _post(url, body, headers)
        assert 400 <= status < 500, (name, status)
    log = runtime.store.db.query("SELECT status_code, outcome, reason FROM webhook_log ORDER BY id")
    assert len(log) == len(cases)
    assert all(r["outcome"] == "rejected" and r["reason"] for r in log)
    assert runtime.store.db.query_one("SELECT count(*) FROM webhook_events")[0] == 0
    now = repo.get(msg.id)
    assert (now.status, now.error) == (Status.SENT, None)


@pytest.mark.asyncio
async def test_a_signed_event_that_makes_no_sense_does_not_block_later_ones(runtime) -> None:
    msg, sent, post_signed = await _sent_and_signed(runtime)
    repo = runtime.sending.messages
    odd = {
        b'"just a string"': "got a string",
        b"[1, 2, 3]": "got a number",
        b"[]": "an empty list",
        b'{"id": "evt_odd", "eventType": 1, "data": "x"}': "'data' is a string",
        b'{"id": "evt_odd2", "eventType": 1}': "no 'data' object",
    }
    for body in odd:  # genuine (signed) but not a receipt or reply: 400, logged, nothing stored
        assert await post_signed(body) == 400
    log = runtime.store.db.query("SELECT status_code, outcome, reason FROM webhook_log ORDER BY id")
    assert [(r["status_code"], r["outcome"]) for r in log] == [(400, "rejected")] * len(odd)
    for r, why in zip(log, odd.values(), strict=True):
        assert r["reason"].startswith("not a Sandbox receipt or reply") and why in r["reason"], r["reason"]
    assert runtime.store.db.query_one("SELECT count(*) FROM webhook_events")[0] == 0
    good = json.dumps(
        {
            "id": "evt_good",
            "eventType": 1,
            "data": {
                "messageId": sent.provider_message_id,
                "clientReference": msg.local_id,
                "deliveryStatus": "Delivered",
            },
        }
    ).encode()
    assert await post_signed(good) == 200
    final = await until(lambda: (m := repo.get(msg.id)).status == Status.DELIVERED and m)
    assert final.raw_status == "Delivered"
    await until(lambda: not runtime.store.db.query("SELECT 1 FROM webhook_events WHERE state = 'pending'"))
    # Receipts that name no message cannot ever match one: they are not parked forever.
    assert runtime.store.db.query_one("SELECT count(*) FROM pending_receipts")[0] == 0


# ---- damaged or newer database ----------------------------------------------------------------
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_database_is_explained_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "damaged"
    rt = Runtime.open(str(home))
    path = rt.paths.database
    rt.close()
    path.write_bytes(os.urandom(32 * 1024))
    before = _digest(path)
    with pytest.raises(StorageError, match="damaged or is not an smsdesk database"):
        Runtime.open(str(home))
    assert _digest(path) == before


def test_a_database_from_a_newer_smsdesk_is_explained_and_left_alone(tmp_path: Path) -> None:
    import sqlite3

    home = tmp_path / "newer"
    rt = Runtime.open(str(home))
    path = rt.paths.database
    rt.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(StorageError, match="newer smsdesk"):
        Runtime.open(str(home))
    assert _digest(path) == before


@pytest.mark.asyncio
async def test_an_event_that_breaks_the_parser_is_marked_failed_and_later_ones_still_apply(
    runtime, expect_warnings
) -> None:
    msg, sent, post_signed = await _sent_and_signed(runtime)
    repo = runtime.sending.messages
    # Signed and the right shape, but eventType Infinity (Python's JSON reads it) makes the
    # parser raise OverflowError: not one of the errors it expects from a bad body.
    bad = (
        b'{"id": "evt_inf", "eventType": Infinity, "data": {"messageId": "%s", "deliveryStatus": "Failed"}}'
        % sent.provider_message_id.encode()
    )
    good = json.dumps(
        {
            "id": "evt_good",
            "eventType": 1,
            "data": {
                "messageId": sent.provider_message_id,
                "clientReference": msg.local_id,
                "deliveryStatus": "Delivered",
            },
        }
    ).encode()
    assert await post_signed(bad) == 200
    assert await post_signed(good) == 200
    final = await until(lambda: (m := repo.get(msg.id)).status == Status.DELIVERED and m)
    assert final.error is None
    rows = await until(
        lambda: (
            (r := runtime.store.db.query("SELECT dedupe_key, state, error FROM webhook_events ORDER BY id"))
            and r[0]["state"] != "pending"
            and r
        )
    )
    assert [r["state"] for r in rows] == ["failed", "processed"]
    assert "OverflowError" in rows[0]["error"]
