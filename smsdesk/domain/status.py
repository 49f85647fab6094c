"""The one status set every provider maps into, and the forward-only rule.

Statuses move forward only: a receipt that arrives twice, late or out of order never moves
a message backwards, and nothing leaves a final state. ``needs_review`` is where an
ambiguous send waits for a person (or reconciliation); a real receipt may still settle it.

``unknown`` is "terminal-but-ambiguous": the provider reported a status
nobody recognises (Mobivate code 99, a connector's ``carrier_limbo``, PureSMS ``Unknown``).
It ranks above ``sent``, so such a receipt after the send's own answer is recorded with its
raw status instead of being dropped, and a later ``sent``-like receipt cannot hide it again;
a final status (delivered, failed, ...) still settles it.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    SCHEDULED = "scheduled"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    NEEDS_REVIEW = "needs_review"
    RECEIVED = "received"

    @property
    def is_final(self) -> bool:
        return self in FINAL

    @property
    def label(self) -> str:
        return _LABELS[self]


FINAL = frozenset({Status.DELIVERED, Status.FAILED, Status.EXPIRED, Status.REJECTED, Status.CANCELLED, Status.RECEIVED})

# Rank orders the non-final states; any final state outranks all of them.
_RANK = {
    Status.SCHEDULED: 0,
    Status.QUEUED: 1,
    Status.NEEDS_REVIEW: 2,
    Status.SENT: 3,
    Status.UNKNOWN: 4,
}

_LABELS = {
    Status.QUEUED: "Queued",
    Status.SCHEDULED: "Scheduled",
    Status.SENT: "Sent",
    Status.DELIVERED: "Delivered",
    Status.FAILED: "Failed",
    Status.EXPIRED: "Expired",
    Status.REJECTED: "Rejected",
    Status.CANCELLED: "Cancelled",
    Status.UNKNOWN: "Unknown",
    Status.NEEDS_REVIEW: "Needs review",
    Status.RECEIVED: "Received",
}


def _rule(current: Status, new: Status) -> bool:
    if current == new or current in FINAL:
        return False
    if new in FINAL:
        return True
    return _RANK[new] > _RANK[current]


# The rule above, precomputed: every receipt asks it, and a set probe is several times
# cheaper than enum property calls. A StrEnum hashes and compares as its value, so a raw
# status string from the database probes the same pairs.
_MOVES = frozenset((a, b) for a in Status for b in Status if _rule(a, b))
_BY_VALUE: dict[str, Status] = {s.value: s for s in Status}


def can_move(current: Status, new: Status) -> bool:
    """True when a message in ``current`` may take ``new`` (forward only, never out of final)."""
    return (current, new) in _MOVES


def status_of(value: str) -> Status:
    """``Status(value)`` by a dict probe (the enum constructor is slow on hot paths).

    Raises:
        ValueError: ``value`` is not a status, as ``Status(value)`` would.
    """
    try:
        return _BY_VALUE[value]
    except KeyError:
        return Status(value)  # the enum's own error message


def can_retry(current: Status) -> bool:
    """A person may resend a failed or undecided message (it becomes a new attempt)."""
    return current in {Status.FAILED, Status.REJECTED, Status.EXPIRED, Status.NEEDS_REVIEW, Status.UNKNOWN}
