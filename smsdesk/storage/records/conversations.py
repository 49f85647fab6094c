"""Records of conversations: the inbox, what changed, sends under review, automatic-reply limits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # annotations only
    pass

__all__ = [
    "ActivityRow",
    "AutoReplyGuards",
    "BatchMessage",
    "BatchRow",
    "ConversationRow",
    "ListFilter",
    "Marks",
    "PersonFigures",
    "RelayRequest",
    "SearchRow",
    "TeamState",
]


# ---- conversations ---------------------------------------------------------------------------
class ListFilter(StrEnum):
    ALL = "all"
    UNREAD = "unread"
    OPTED_OUT = "opted_out"
    NEEDS_REVIEW = "needs_review"
    # The team inbox: open conversations assigned to the person asking, or to nobody, and
    # the resolved ones (snoozed ones come back to Mine and Unassigned when their time is up).
    MINE = "mine"
    UNASSIGNED = "unassigned"
    RESOLVED = "resolved"


class TeamState(StrEnum):
    """Where a conversation stands for the team. A reply reopens a resolved or snoozed one."""

    OPEN = "open"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"  # until ``snoozed_until``, or the next reply when that is None


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One conversation as the inbox shows it."""

    id: int
    account_id: int
    account: str
    remote: str
    contact_name: str
    last_message_id: int | None
    last_at: str
    last_body: str
    last_direction: str
    last_status: str
    unread: int
    draft: str
    optout_source: str | None
    assignee: str | None = None  # the person it is assigned to (a workspace login name)
    state: str = TeamState.OPEN
    snoozed_until: str | None = None  # UTC ISO; None while snoozed: until the next reply

    @property
    def title(self) -> str:
        return self.contact_name or self.remote

    @property
    def opted_out(self) -> bool:
        return self.optout_source is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "number": self.remote,
            "name": self.contact_name,
            "last_message_id": self.last_message_id,
            "last_at": self.last_at,
            "last_text": self.last_body,
            "last_direction": self.last_direction,
            "last_status": self.last_status,
            "unread": self.unread,
            "opted_out": self.opted_out,
            "draft": self.draft,
            "assignee": self.assignee,
            "state": self.state,
            "snoozed_until": self.snoozed_until,
        }


@dataclass(frozen=True, slots=True)
class SearchRow:
    """A search hit: a message (``message_id``) or a whole conversation (name/number match)."""

    conversation_id: int
    message_id: int | None
    at: str
    text: str


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """A line of a conversation's team activity: an internal note (never sent) or who
    assigned, resolved, snoozed or reopened it. ``actor`` is the database's word on a
    workspace (its login name), the client's on a single desktop."""

    id: int
    conversation_id: int
    kind: str  # note, assigned, resolved, snoozed, reopened
    actor: str
    body: str  # the note; the assignee's name; the snooze's end (UTC ISO) or ""
    created_at: str


@dataclass(frozen=True, slots=True)
class PersonFigures:
    """What one person sent in a period: every message they wrote (not automatic replies),
    how many were first answers to waiting replies, and the median seconds those took."""

    person: str  # "" on a single desktop (one person: the desktop's user)
    sent: int
    answers: int
    median_answer_s: float | None


class RelayRequest(NamedTuple):
    """A call needing an account's keys, asked of the relays (storage/relay_requests.py)."""

    id: int
    kind: str  # "test", "balance" or "withdraw" (cancel a scheduled item's copies at the provider)
    account_id: int
    subject: int | None = None  # what the call is about (the scheduled item), when not the account


# ---- what changed (other processes on the same database) -------------------------------------
@dataclass(frozen=True, slots=True)
class Marks:
    """High-water marks and fingerprints of what views show; compare two to see what moved."""

    message: int = 0  # newest message id: new rows (sends, replies)
    transition: int = 0  # newest transition id: status changes
    log: int = 0  # newest webhook log line: deliveries
    pending_events: int = 0  # raw events waiting to be processed (the log shows their outcome)
    accounts: tuple[Any, ...] = ()
    optouts: tuple[Any, ...] = ()
    contacts: tuple[Any, ...] = ()
    schedules: tuple[Any, ...] = ()
    bulk: tuple[Any, ...] = ()
    activity: int = 0  # newest team activity line: notes, assignments, resolved or snoozed


# ---- review (sends that may or may not have gone out) ----------------------------------------
@dataclass(frozen=True, slots=True)
class BatchRow:
    account_id: int
    run_id: int | None
    count: int
    max_id: int  # grows when more of the same run (or single sends) become undecided
    since: str  # when the first of them was handed to the provider (claimed), UTC ISO
    source: str  # the bulk run's file name, "" for single sends
    run_state: str  # the bulk run's state, "" for single sends


class BatchMessage(NamedTuple):
    id: int
    local_id: str
    sent_at: str  # when it was handed to the provider (claimed), UTC ISO
    attempts: int


@dataclass(frozen=True, slots=True)
class AutoReplyGuards:
    """Limits every automatic reply keeps.

    Attributes:
        since_same: no second reply by the same rule to the same number after this time (ISO).
        per_conversation: at most this many automatic replies in a row in a conversation
            until a person writes in it (two auto-responders facing each other stop there).
        since_rate / rate: at most ``rate`` automatic replies from the account since then.
    """

    since_same: str
    per_conversation: int
    since_rate: str
    rate: int
