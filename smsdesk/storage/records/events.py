"""Records of what providers tell us: webhook deliveries and events, and the opt-out list."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # annotations only
    from smsdesk.domain.models import StatusEvent
    from smsdesk.storage.records.outbox import NewInbound, OptOutChange

__all__ = [
    "AppliedEvents",
    "NewDelivery",
    "OptOutEntry",
    "OptOutHow",
    "ParsedEvent",
    "StoredEvent",
    "StoredReplies",
    "WebhookLogLine",
]


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
