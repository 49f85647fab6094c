"""One row per adapter for the contract suite: how to build it and what its wire looks like."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.api_jws import PyJWS

from smsdesk.domain.errors import ErrorKind
from smsdesk.domain.status import Status
from smsdesk.domain.webhook_request import WebhookRequest
from smsdesk.providers import puresms
from tests.providers.fakes import Reply

MPESA = "8556a495c390f3ba95d2bdf6d06436f2fd09f516531f0a7cd9591c60812fa46d"  # sha256("254722000000"), Send-2 docs

# (HTTP status, body, headers, expected kind, expected flag ("auth" | "opted_out" | "rejected" | ""), words)
ErrorRow = tuple[int, Any, dict[str, str], ErrorKind, str, str]
# (file name, receipts, inbound, first status, first raw status, first client ref / from number)
HookRow = tuple[str, int, int, Status | None, str, str]


@dataclass
class Case:
    id: str
    wire: str
    send_path: str
    number_key: str
    to: str
    wire_number: str
    sender: str
    bad_sender: str
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    errors: list[ErrorRow] = field(default_factory=list)
    hooks: list[HookRow] = field(default_factory=list)
    hook_ids: list[tuple[str, str]] = field(default_factory=list)  # (file, provider id kept exactly as a string)
    ambiguous_kind: ErrorKind = ErrorKind.AMBIGUOUS  # a read timeout after the upload
    sign: Callable[[bytes, float], tuple[dict[str, str], dict[str, str]]] | None = None
    forges: list[Callable[[bytes, float], tuple[dict[str, str], dict[str, str]]]] = field(default_factory=list)
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (what the app passes, what goes on the wire)
    bad_numbers: list[str] = field(default_factory=list)  # refused before any request
    senders: list[tuple[str, Any]] = field(default_factory=list)  # (sender ID, what goes on the wire)
    bad_senders: list[str] = field(default_factory=list)
    partial: Reply | None = None  # a bulk answer accepting items 0 and 2 and refusing item 1 ("zebra")
    # A correctly signed request whose time is the given text, verbatim (None: no time is signed),
    # and the texts that must pass and fail for a given "now" (whole seconds).
    stamp: Callable[[bytes, str], tuple[dict[str, str], dict[str, str]]] | None = None
    good_stamps: Callable[[int], list[str]] = lambda now: []
    bad_stamps: Callable[[int], list[str]] = lambda now: []

    def request(
        self, body: bytes, headers: dict[str, str] | None = None, query: dict[str, str] | None = None
    ) -> WebhookRequest:
        hdrs = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
        return WebhookRequest("POST", "/hooks/1", hdrs, body, dict(query or {}))


def _pure_sign(secret: str) -> Callable[[bytes, float], tuple[dict[str, str], dict[str, str]]]:
    def sign(body: bytes, now: float) -> tuple[dict[str, str], dict[str, str]]:
        ts = str(int(now))
        return {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": puresms.sign(secret, ts, body)}, {}

    return sign


def _jwt(secret: str, age: float = 0) -> Callable[[bytes, float], tuple[dict[str, str], dict[str, str]]]:
    def sign(body: bytes, now: float) -> tuple[dict[str, str], dict[str, str]]:
        return {"Authorization": "Bearer " + jwt.encode({"iat": int(now - age)}, secret, algorithm="HS256")}, {}

    return sign


def _pure_stamp(secret: str) -> Callable[[bytes, str], tuple[dict[str, str], dict[str, str]]]:
    def stamp(body: bytes, text: str) -> tuple[dict[str, str], dict[str, str]]:
        return {"X-Webhook-Timestamp": text, "X-Webhook-Signature": puresms.sign(secret, text, body)}, {}

    return stamp


def _jwt_claims(secret: str) -> Callable[[bytes, str], tuple[dict[str, str], dict[str, str]]]:
    """The claims as raw JSON text (``NaN``, ``Infinity`` and 400-digit numbers included), signed."""

    def stamp(body: bytes, claims: str) -> tuple[dict[str, str], dict[str, str]]:
        return {"Authorization": "Bearer " + PyJWS().encode(claims.encode(), secret, algorithm="HS256")}, {}

    return stamp


HUGE = "9" * 400  # float() overflows on it; int() does not


def _fullwidth(n: int) -> str:
    return "".join(chr(0xFF10 + int(d)) for d in str(n))


def pure_bad_stamps(now: int) -> list[str]:
    """Times that are not a whole number of seconds in plain digits, or not within the window."""
    return [
        "nan",
        "NaN",
        "-nan",
        "inf",
        "-inf",
        "Infinity",
        "-Infinity",
        "1e400",
        HUGE,
        "-" + HUGE,
        "1e3",
        "",
        f"{now}.0",
        f"{now}.5",
        f"{now}e0",
        f"+{now}",
        f"-{now}",
        f"0{now}",
        f"{now:_}",
        f" {now}",
        _fullwidth(now),
        f"{now - 400}",
        f"{now + 400}",
        "0",
        str(2**63),
        str(10**30),
    ]


def pure_good_stamps(now: int) -> list[str]:
    return [str(now), str(now - 290), str(now + 290)]


def jwt_bad_claims(now: int) -> list[str]:
    return [
        '{"iat": NaN}',
        '{"iat": Infinity}',
        '{"iat": -Infinity}',
        '{"iat": 1e400}',
        f'{{"iat": {HUGE}}}',
        f'{{"iat": -{HUGE}}}',
        f'{{"iat": "{now}"}}',
        '{"iat": true}',
        f'{{"iat": [{now}]}}',
        '{"iat": null}',
        f'{{"iat": {now}, "exp": NaN}}',
        f'{{"iat": {now}, "exp": Infinity}}',
        f'{{"iat": {now}, "exp": {HUGE}}}',
        f'{{"iat": {now}, "exp": "never"}}',
        f'{{"iat": {now}, "exp": true}}',
        f'{{"iat": {now}, "nbf": NaN}}',
        f'{{"iat": {now}, "nbf": {HUGE}}}',
        f'{{"iat": {now - 3600}}}',
        f'{{"iat": {now + 3600}}}',
    ]


def jwt_good_claims(now: int) -> list[str]:
    return [f'{{"iat": {now}}}', f'{{"iat": {now}.5}}', f'{{"iat": {now - 600}, "exp": {now + 600}}}']


PURE_ERRORS: list[ErrorRow] = [
    (
        400,
        {"message": "One or more errors occurred!", "errors": {"recipient": ["Recipient is not E.164 zebra"]}},
        {},
        ErrorKind.PERMANENT,
        "",
        "Recipient is not E.164 zebra",
    ),
    (
        401,
        {"title": "Unauthorized", "detail": "Workspace key revoked zebra"},
        {},
        ErrorKind.PERMANENT,
        "auth",
        "revoked zebra",
    ),
    (402, {"message": "Workspace out of credit zebra"}, {}, ErrorKind.PERMANENT, "", "out of credit zebra"),
    (403, {"message": "Key lacks permission zebra"}, {}, ErrorKind.PERMANENT, "auth", "permission zebra"),
    (429, {"message": "Slow down zebra"}, {"Retry-After": "7"}, ErrorKind.RETRYABLE, "", "Slow down zebra"),
    (500, {"message": "Boom zebra"}, {}, ErrorKind.AMBIGUOUS, "", "Boom zebra"),
    # No idempotency key: a gateway error may come after PureSMS acted, so it is ambiguous.
    (502, {"message": "Bad gateway zebra"}, {}, ErrorKind.AMBIGUOUS, "", "Bad gateway zebra"),
    (504, {"message": "Gateway timeout zebra"}, {}, ErrorKind.AMBIGUOUS, "", "Gateway timeout zebra"),
    (503, {"message": "Maintenance zebra"}, {"Retry-After": "3"}, ErrorKind.RETRYABLE, "", "Maintenance zebra"),
]
PURE_HOOKS: list[HookRow] = [
    ("puresms_receipt.json", 1, 0, Status.DELIVERED, "Delivered", "order-confirmation-456"),
    ("puresms_receipt_pascal.json", 1, 0, Status.DELIVERED, "7", "order-confirmation-457"),  # numeric status
    ("puresms_receipt_string_code.json", 1, 0, Status.DELIVERED, "7", "order-confirmation-461"),  # "7", event_type "1"
    ("puresms_receipt_numeric_failed.json", 1, 0, Status.FAILED, "2", "order-confirmation-462"),
    ("puresms_receipt_unknown.json", 1, 0, Status.UNKNOWN, "Unknown", "order-confirmation-460"),
    ("puresms_receipt_int64_id.json", 1, 0, Status.SENT, "Dispatched", "order-confirmation-463"),
    ("puresms_inbound.json", 0, 1, None, "", "+447911123456"),
    ("puresms_inbound_no_plus.json", 0, 1, None, "", "+447911123456"),  # sender without +
]
# int64 ids sent as JSON numbers (beyond 2**53) come back digit for digit, as strings.
PURE_IDS = [
    ("puresms_receipt_int64_id.json", "9007199254740993123"),
    ("puresms_inbound_no_plus.json", "9007199254740995001"),
]
PURE_NUMBERS = [
    ("+447911123456", "+447911123456"),
    ("447911123456", "+447911123456"),
    ("00447911123456", "+447911123456"),
]
PURE_BAD_NUMBERS = ["07911 123456", "+44 7911 12345x", "+123"]
PURE_PARTIAL = Reply(
    207,
    {
        "batchId": "77",
        "messageCount": 2,
        "messageIds": ["1", None, "3"],
        "errors": [{"index": 1, "error": "Recipient is blocked zebra"}],
    },
)


def _mob_err(status: int, name: str, obj: str) -> dict[str, Any]:
    return {"success": False, "error": {"name": name, "statusCode": status, "object": obj}}


CASES = [
    Case(
        "puresms",
        "puresms",
        "/sms/send",
        "recipient",
        "+447911123456",
        "+447911123456",
        "Bistro",
        "",
        secrets={"api_key": "k-pure", "webhook_secret": "whsec"},
        errors=PURE_ERRORS,
        hooks=PURE_HOOKS,
        hook_ids=PURE_IDS,
        sign=_pure_sign("whsec"),
        forges=[_pure_sign("not-the-secret")],
        stamp=_pure_stamp("whsec"),
        good_stamps=pure_good_stamps,
        bad_stamps=pure_bad_stamps,
        numbers=PURE_NUMBERS,
        bad_numbers=PURE_BAD_NUMBERS,
        senders=[("Bistro", "Bistro")],
        bad_senders=[""],
        partial=PURE_PARTIAL,
    ),
    Case(
        "sandbox",
        "puresms",
        "/sms/send",
        "recipient",
        "+447911123456",
        "+447911123456",
        "smsdesk",
        "",
        secrets={"api_key": "k-sand", "webhook_secret": "whsec"},
        errors=PURE_ERRORS,
        hooks=PURE_HOOKS,
        hook_ids=PURE_IDS,
        sign=_pure_sign("whsec"),
        forges=[_pure_sign("nope")],
        stamp=_pure_stamp("whsec"),
        good_stamps=pure_good_stamps,
        bad_stamps=pure_bad_stamps,
        numbers=PURE_NUMBERS,
        bad_numbers=PURE_BAD_NUMBERS,
        senders=[("smsdesk", "smsdesk")],
        bad_senders=[""],
        partial=PURE_PARTIAL,
    ),
    Case(
        "mobivate",
        "mobivate",
        "/send/single",
        "recipient",
        "+447911123456",
        "447911123456",
        "Bistro",
        "BistroOnTheCorner",
        settings={"webhook_token": "tok-123"},
        secrets={"api_key": "k-mob"},
        errors=[
            (
                400,
                _mob_err(400, "ValidationError", "Missing Originator object"),
                {},
                ErrorKind.PERMANENT,
                "",
                "Missing Originator object",
            ),
            (
                401,
                {"code": 401, "message": "Unauthorized key zebra"},
                {},
                ErrorKind.PERMANENT,
                "auth",
                "Unauthorized key zebra",
            ),
            (
                402,
                _mob_err(402, "PaymentRequired", "No credit left zebra"),
                {},
                ErrorKind.PERMANENT,
                "",
                "No credit left zebra",
            ),
            (
                403,
                _mob_err(403, "AuthenticationError", "zebra"),
                {},
                ErrorKind.PERMANENT,
                "auth",
                "AuthenticationError",
            ),
            (
                403,
                _mob_err(403, "OptOutError", "Recipient opted out zebra"),
                {},
                ErrorKind.PERMANENT,
                "opted_out",
                "Recipient opted out zebra",
            ),
            (
                429,
                _mob_err(429, "RateLimitError", "slow down zebra"),
                {"Retry-After": "7"},
                ErrorKind.RETRYABLE,
                "",
                "slow down zebra",
            ),
            (500, _mob_err(500, "InternalServerError", "boom zebra"), {}, ErrorKind.AMBIGUOUS, "", "boom zebra"),
            (502, {"code": 502, "message": "bad gateway zebra"}, {}, ErrorKind.AMBIGUOUS, "", "bad gateway zebra"),
            (
                504,
                {"code": 504, "message": "gateway timeout zebra"},
                {},
                ErrorKind.AMBIGUOUS,
                "",
                "gateway timeout zebra",
            ),
            (503, {"code": 503, "message": "down zebra"}, {"Retry-After": "3"}, ErrorKind.RETRYABLE, "", "down zebra"),
        ],
        hooks=[
            ("mobivate_receipt.json", 1, 0, Status.DELIVERED, "DELIVERED", "ref-1"),
            ("mobivate_receipt_failed.json", 1, 0, Status.REJECTED, "FAILED_RECIPIENT_BLACKLISTED", "ref-2"),
            ("mobivate_receipt_new_code.json", 1, 0, Status.UNKNOWN, "SOMETHING_NEW", "ref-3"),
            ("mobivate_inbound.json", 0, 1, None, "", "+447911123456"),
            ("mobivate_inbound_reply.json", 0, 1, None, "", "+447911123456"),
        ],
        sign=lambda body, now: ({}, {"token": "tok-123"}),
        forges=[lambda body, now: ({}, {"token": "tok-124"})],
        numbers=[
            ("+447911123456", "447911123456"),
            ("00447911123456", "447911123456"),
            ("447911123456", "447911123456"),
        ],
        bad_numbers=["07911123456", "+44abc7911", "+4479111234567890"],
        # originator: at most 11 alphanumeric characters, or at most 15 digits
        senders=[("Bistro", "Bistro"), ("ABCDEFGHIJK", "ABCDEFGHIJK"), ("123456789012345", "123456789012345")],
        bad_senders=["ABCDEFGHIJKL", "1234567890123456", "Bistro!"],
        partial=Reply(
            200,
            {
                "success": True,
                "record": {
                    "id": "b1",
                    "type": "BatchSMS",
                    "recipientCount": 2,
                    "recipients": [
                        {"id": "r0", "recipient": "447911123456", "reference": "id00000"},
                        {"id": "r2", "recipient": "447911123456", "reference": "id00002"},
                    ],
                    "rejected": [{"index": 1, "error": "Recipient has opted out zebra"}],
                },
            },
        ),
    ),
    Case(
        "send2",
        "send2",
        "/v1/message",
        "phone",
        "+254722000000",
        "+254722000000",
        "12345",
        "ACME",
        secrets={"api_key": "k-s2"},
        numbers=[("+254722000000", "+254722000000"), ("254722000000", "+254722000000"), (MPESA, MPESA)],
        bad_numbers=["0722000000", "hello", MPESA[:-1]],
        senders=[("12345", 12345)],
        bad_senders=["ACME", "12a45"],
        errors=[
            (
                406,
                {"success": False, "message": "Invalid sender ID zebra"},
                {},
                ErrorKind.PERMANENT,
                "rejected",
                "Invalid sender ID zebra",
            ),
            (400, {"success": False, "message": "Bad request zebra"}, {}, ErrorKind.PERMANENT, "", "Bad request zebra"),
            (
                401,
                {"success": False, "message": "Unauthenticated zebra"},
                {},
                ErrorKind.PERMANENT,
                "auth",
                "Unauthenticated zebra",
            ),
            (
                429,
                {"success": False, "message": "Too many zebra"},
                {"Retry-After": "7"},
                ErrorKind.RETRYABLE,
                "",
                "Too many zebra",
            ),
            (500, {"success": False, "message": "Server zebra"}, {}, ErrorKind.AMBIGUOUS, "", "Server zebra"),
            (502, {"success": False, "message": "Bad gateway zebra"}, {}, ErrorKind.AMBIGUOUS, "", "Bad gateway zebra"),
            (504, {"success": False, "message": "Gateway zebra"}, {}, ErrorKind.AMBIGUOUS, "", "Gateway zebra"),
            (
                503,
                {"success": False, "message": "Down zebra"},
                {"Retry-After": "3"},
                ErrorKind.RETRYABLE,
                "",
                "Down zebra",
            ),
        ],
    ),
    Case(
        "channel",
        "channel",
        "/send",
        "recipient",
        "+447911123456",
        "00447911123456",
        "Bistro",
        "",
        settings={"url": "/send", "chan.Example-Token": "123"},
        secrets={"api_key": "k-ch", "jwt_secret": "jwt-secret-for-the-contract-suite-0001"},
        errors=[
            # Any non-200 that is not 429 or above 500 is Bloomreach's enqueue_failed: rejected.
            (
                400,
                {"error": "recipient malformed zebra"},
                {},
                ErrorKind.PERMANENT,
                "rejected",
                "recipient malformed zebra",
            ),
            (401, {"error": "bad Chan-Api-Key zebra"}, {}, ErrorKind.PERMANENT, "auth", "bad Chan-Api-Key zebra"),
            (404, {"error": "no such route zebra"}, {}, ErrorKind.PERMANENT, "rejected", "no such route zebra"),
            (422, {"message": "unprocessable zebra"}, {}, ErrorKind.PERMANENT, "rejected", "unprocessable zebra"),
            (429, {"error": "slow zebra"}, {"Retry-After": "7"}, ErrorKind.RETRYABLE, "", "slow zebra"),
            (500, {"error": "crash zebra"}, {}, ErrorKind.PERMANENT, "rejected", "crash zebra"),  # "above 500" only
            (
                502,
                {"error": "bad gateway zebra"},
                {},
                ErrorKind.RETRYABLE,
                "",
                "bad gateway zebra",
            ),  # request_id dedupes
            (503, {"error": "busy zebra"}, {"Retry-After": "3"}, ErrorKind.RETRYABLE, "", "busy zebra"),
        ],
        hooks=[
            ("channel_dr_delivered.json", 1, 0, Status.DELIVERED, "delivered", "8f14e45fceea167a5a36dedd4bea2543"),
            ("channel_dr_failed.json", 1, 0, Status.FAILED, "failed", "c9f0f895fb98ab9159f51fd0297e236d"),
            ("channel_dr_batch.json", 2, 0, Status.SENT, "sent", "45c48cce2e2d7fbdea1afc51c7c6ad26"),
            ("channel_dr_unknown.json", 1, 0, Status.UNKNOWN, "carrier_limbo", "d3d9446802a44259755d38e6d163e820"),
            ("channel_inbound.json", 0, 1, None, "", "+447911123456"),  # 00 sender -> +
            ("channel_dr_and_inbound.json", 1, 1, Status.EXPIRED, "expired", "6512bd43d9caa6e02c990b0a82652dca"),
        ],
        ambiguous_kind=ErrorKind.RETRYABLE,
        sign=_jwt("jwt-secret-for-the-contract-suite-0001"),
        forges=[
            _jwt("jwt-secret-for-the-contract-suite-0001", age=16 * 60),  # expired
            _jwt("another-secret-that-is-long-enough-00001"),
        ],  # signed with the wrong secret
        stamp=_jwt_claims("jwt-secret-for-the-contract-suite-0001"),
        good_stamps=jwt_good_claims,
        bad_stamps=jwt_bad_claims,
        numbers=[("+447911123456", "00447911123456"), ("00447911123456", "00447911123456")],
        bad_numbers=["07911123456", "+44", "0044 79x1"],
        senders=[("Bistro", "Bistro"), ("+447700900100", "+447700900100")],
        bad_senders=[""],
    ),
]
BY_ID = {c.id: c for c in CASES}


def now() -> float:
    return time.time()
