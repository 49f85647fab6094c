"""Value types that cross the storage boundary, the same for every backend.

Services hand these to the repositories of :mod:`smsdesk.storage.api` and get these back:
never a database row or connection. Rows read on hot paths (the outbox, claims, stored
webhook events) are ``NamedTuple``: built in C from a fetched tuple, read by attribute.
Imports ``domain`` only.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from smsdesk.domain.status import Status

if TYPE_CHECKING:  # annotations only: the records load without the address book's or schedules' domain
    from smsdesk.domain.contacts import Consent, Contact, ContactNumber
    from smsdesk.domain.models import StatusEvent
    from smsdesk.domain.optout import Keyword
    from smsdesk.domain.schedule import Recurrence

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


# ---- webhooks --------------------------------------------------------------------------------
class NewDelivery(NamedTuple):
    """A webhook delivery accepted by the receiver, stored raw before it is answered."""

    account_id: int
    dedupe_key: str
    content_type: str
    body: bytes
    account_name: str
    path: str


class StoredEvent(NamedTuple):
    """A raw webhook event waiting to be processed."""

    id: int
    account_id: int
    content_type: str
    body: bytes


class ParsedEvent(NamedTuple):
    """A stored event as its adapter read it; ``error`` set when it could not be read."""

    event_id: int
    account_id: int
    receipts: tuple[StatusEvent, ...] = ()
    replies: tuple[NewInbound, ...] = ()
    error: str | None = None


class StoredReplies(NamedTuple):
    new_ids: set[int]
    optout_changes: list[OptOutChange]


class AppliedEvents(NamedTuple):
    changed: set[int]  # messages whose status moved
    inbound: set[int]  # new replies
    optout_changes: list[OptOutChange]
    failures: list[tuple[int, BaseException]]  # (event id, what went wrong) of events marked failed


class WebhookLogLine(NamedTuple):
    """One delivery in the webhook log; ``processing`` says what became of an accepted one
    (``pending``, ``processed``, ``waiting`` for its message, ``failed``), None for rejections,
    duplicates and events already pruned."""

    id: int
    at: str
    account: str
    path: str
    status_code: int
    outcome: str
    reason: str
    event_id: int | None
    processing: str | None
    processing_error: str | None


# ---- opt-outs --------------------------------------------------------------------------------
class OptOutEntry(NamedTuple):
    number: str
    source: str
    note: str
    created_at: str
    name: str  # the contact's name, "" when none


class OptOutHow(dict[str, str]):
    """Each opted-out number and how it came onto the list; ``in`` and :meth:`get` also
    answer for an erased person's opted-out number (known only by its hash)."""

    def __init__(self, plain: Mapping[str, str], erased: Container[str], erased_how: str) -> None:
        super().__init__(plain)
        self._erased = erased
        self._erased_how = erased_how

    def __contains__(self, number: object) -> bool:
        return dict.__contains__(self, number) or number in self._erased

    def get(self, number: str, default: Any = None) -> Any:
        found = dict.get(self, number)
        if found is None and number in self._erased:
            return self._erased_how
        return default if found is None else found


# ---- contacts and groups ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewContact:
    """A checked contact to store: numbers are +E.164 (one ``for_sms``), field values are
    normalised to their field's kind and keyed by the defined field's name."""

    name: str = ""
    given_name: str = ""
    family_name: str = ""
    numbers: tuple[ContactNumber, ...] = ()
    tags: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    consent: Consent | None = None

    @property
    def sms(self) -> str:
        return next((n.number for n in self.numbers if n.for_sms), self.numbers[0].number if self.numbers else "")


class Saved(NamedTuple):
    """Where a contact went: a new one, or ``merged`` into the contact that had one of its numbers."""

    contact_id: int
    merged: bool


@dataclass(frozen=True, slots=True)
class Removed:
    """Contacts as they were just before they were removed, for undo (their messages stay)."""

    contacts: tuple[Contact, ...]
    memberships: tuple[tuple[int, int], ...] = ()  # (group id, contact id)

    @property
    def count(self) -> int:
        return len(self.contacts)


@dataclass(frozen=True, slots=True)
class Erased:
    """What erasing a person deleted."""

    numbers: int
    messages: int
    conversations: int
    kept_opt_out: bool  # a salted hash stays so the opted-out person is never texted again


class ScheduleUse(NamedTuple):
    """A scheduled send that takes a group's members at each run."""

    id: int
    body: str
    next_run_utc: str | None
    zone: str
    state: str
    location: str


# ---- conversations ---------------------------------------------------------------------------
class ListFilter(StrEnum):
    ALL = "all"
    UNREAD = "unread"
    OPTED_OUT = "opted_out"
    NEEDS_REVIEW = "needs_review"


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
        }


@dataclass(frozen=True, slots=True)
class SearchRow:
    """A search hit: a message (``message_id``) or a whole conversation (name/number match)."""

    conversation_id: int
    message_id: int | None
    at: str
    text: str


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


# ---- backups ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BackupFacts:
    """What a backup file holds, once checked."""

    path: Path
    version: int  # schema version
    messages: int
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (name, provider id)
    taken_at: str = ""  # UTC ISO, "" when the file does not say (then its modification time)
    size: int = 0


# ---- bulk sends ------------------------------------------------------------------------------
BULK_ACTIVE = ("scheduled", "running", "paused")  # states of a bulk run that is not over


@dataclass(frozen=True, slots=True)
class NewRun:
    account_id: int
    source: str
    source_hash: str
    template: str
    sender: str
    headers: Sequence[str]
    rows_in: int
    accepted: int
    rejected: int
    by_reason: dict[str, int]
    state: str = "running"
    send_at: str | None = None


@dataclass(frozen=True, slots=True)
class NewItem:
    row_no: int
    status: str  # accepted | rejected
    number: str | None
    reason: str | None = None
    detail: str = ""
    body: str | None = None
    segments: int | None = None
    encoding: str | None = None
    cells: Sequence[str] = ()
    name: str = ""
    fields: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run as stored."""

    id: int
    account_id: int
    source: str
    source_hash: str
    template: str
    sender: str
    state: str
    send_at: str | None
    rows_in: int
    accepted: int
    rejected: int
    by_reason: dict[str, int]
    headers: list[str]
    group_id: int | None
    schedule_id: int | None
    created_at: str
    finished_at: str | None


class BulkReject(NamedTuple):
    """A data row of a bulk send that was not accepted, with its original cells."""

    row_no: int
    number: str | None
    reason: str
    detail: str
    cells: list[str]


# ---- the scheduled queue ---------------------------------------------------------------------
class Conflict(Exception):
    """The item changed (or started) since the caller read it. Services turn it into words."""


@dataclass(frozen=True, slots=True)
class NewSchedule:
    account_id: int
    kind: str
    body: str
    sender: str
    recipients: Sequence[tuple[str, str | None]]  # (number, personalised text or None)
    recurrence: Recurrence
    first_local: datetime
    zone: str
    next_run_utc: str
    location: str = "local"
    bulk_run_id: int | None = None
    group_id: int | None = None  # a group whose members each run takes (recipients: the first run's)


@dataclass(slots=True)
class RunMessages:
    """What one run of a scheduled item writes: its messages, and why some wait or are not sent."""

    items: list[NewOutgoing]
    deferred: dict[int, str]  # index in items -> why it waits
    skipped: int
    note: str
    rejected: dict[int, str] = field(default_factory=dict)  # index in items -> why it is not sent


class ProviderHeld(NamedTuple):
    """A message of a scheduled item waiting at the provider."""

    id: int
    provider_message_id: str
    send_at: str | None


# ---- saved message templates -----------------------------------------------------------------
class SavedTemplate(NamedTuple):
    """A message kept to reuse, with its merge fields written as ``{{field|fallback}}``."""

    id: int
    name: str
    category: str
    body: str
    created_at: str
    updated_at: str


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
