"""Records of longer work: backups, bulk runs and the scheduled queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # annotations only
    from smsdesk.domain.schedule import Recurrence
    from smsdesk.storage.records.outbox import NewOutgoing

__all__ = [
    "BULK_ACTIVE",
    "BackupFacts",
    "BulkReject",
    "Conflict",
    "NewItem",
    "NewRun",
    "NewSchedule",
    "ProviderHeld",
    "RunMessages",
    "RunRow",
]


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
