"""Records of the send path: audit lines, accounts, messages, the outbox and its claims."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from smsdesk.domain.status import Status

if TYPE_CHECKING:  # annotations only
    from smsdesk.domain.optout import Keyword

__all__ = [
    "AuditEntry",
    "AuditRecord",
    "ClaimGroups",
    "ClaimResult",
    "ClaimedMessage",
    "NewAccount",
    "NewInbound",
    "NewOutgoing",
    "OpenSend",
    "OptOutChange",
    "OutboxRow",
    "RecordedBatch",
    "SpendCap",
    "Transition",
]


# (number, opted out now): a change of the opt-out list that providers keeping their own
# list are told about after COMMIT.
OptOutChange = tuple[str, bool]


# ---- audit -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log written in the same transaction as the change it records
    (never a secret)."""

    action: str
    subject: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class AuditRecord(NamedTuple):
    id: int
    at: str
    action: str
    subject: str
    detail: str  # JSON


# ---- accounts --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewAccount:
    name: str
    provider: str
    base_url: str = ""
    sender: str = ""
    settings: dict[str, Any] = field(default_factory=dict)


# ---- messages --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewOutgoing:
    account_id: int
    remote: str
    local_number: str
    body: str
    segments: int
    encoding: str
    status: Status = Status.QUEUED
    send_at: str | None = None
    run_id: int | None = None
    local_id: str | None = None


@dataclass(frozen=True, slots=True)
class SpendCap:
    """An account's monthly spending limit, checked again by the write that queues a send.

    The caller checked it before writing (and asked a person when over). Two desktops of a
    workspace, or a desktop and a relay's automatic reply, queueing at the same moment would
    each pass that check alone; the write stores its rows, then sums the month's spending
    again, now with every committed send and its own, and is undone when the total is over
    ``limit`` (:class:`~smsdesk.domain.errors.OverLimit` with ``reason``). Rows of running or
    paused bulk runs not yet made messages count at ``pending_price`` a part: they will be sent.
    """

    account_id: int
    since: str  # the month's start (business time zone), UTC ISO-8601
    limit: str  # decimal text, in ``currency``
    currency: str
    reason: str  # the sentence the person reads when the send is held
    pending_price: str = ""  # the account's price per part, for bulk rows still to be sent ("": not counted)


@dataclass(frozen=True, slots=True)
class NewInbound:
    """A reply to store; its segments and opt-out keyword are worked out by the caller."""

    from_number: str
    to_number: str
    text: str
    provider_message_id: str | None
    segments: int | None = None
    encoding: str | None = None
    keyword: Keyword | None = None  # STOP-type: on the opt-out list; START-type: off it


class OutboxRow(NamedTuple):
    """A queued message due to be claimed (a hint: the claim decides)."""

    id: int
    account_id: int
    run_id: int | None


class ClaimedMessage(NamedTuple):
    """A message this dispatcher holds for sending, and the attempt this is."""

    id: int
    account_id: int
    local_id: str
    remote: str
    sender: str
    body: str
    send_at: str | None
    run_id: int | None
    attempts: int


# ``(ids, run_id)`` groups to claim (run_id None: no bulk run), or a function the writer calls
# for them as its write begins (so claims asked while the write waited for its turn go with it).
ClaimGroups = Sequence[tuple[Sequence[int], int | None]] | Callable[[], Sequence[tuple[Sequence[int], int | None]]]


class ClaimResult(NamedTuple):
    claimed: list[ClaimedMessage]  # in the order asked for
    rejected: list[int]  # ids rejected instead: the number opted out since it was queued


class Transition(NamedTuple):
    status: str
    raw_status: str
    at: str


class RecordedBatch(NamedTuple):
    changed: set[int]
    opted_out: list[str]  # numbers the provider refused as opted out (now on our list)


class OpenSend(NamedTuple):
    """An outgoing message whose provider may still report on it (polling)."""

    id: int
    provider_message_id: str
    status: str
