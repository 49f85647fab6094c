"""The forward-only status rule: receipts twice, late or out of order never move a message back."""

from __future__ import annotations

import itertools

import pytest

from smsdesk.domain.status import FINAL, Status, can_move, can_retry

S = Status
# The order a message walks; a final status outranks all of these.
PROGRESS = [S.SCHEDULED, S.QUEUED, S.NEEDS_REVIEW, S.SENT, S.UNKNOWN]
FINALS = [S.DELIVERED, S.FAILED, S.EXPIRED, S.REJECTED, S.CANCELLED, S.RECEIVED]


def expected(current: Status, new: Status) -> bool:
    if current == new or current in FINALS:
        return False
    if new in FINALS:
        return True
    return PROGRESS.index(new) > PROGRESS.index(current)


def test_every_status_is_either_progress_or_final() -> None:
    assert set(PROGRESS) | set(FINALS) == set(Status)
    assert set(FINALS) == set(FINAL)
    assert all(s.is_final for s in FINALS)
    assert not any(s.is_final for s in PROGRESS)


@pytest.mark.parametrize(("current", "new"), list(itertools.product(Status, Status)))
def test_matrix(current: Status, new: Status) -> None:
    assert can_move(current, new) is expected(current, new)


@pytest.mark.parametrize("final", FINALS)
def test_nothing_leaves_a_final_status(final: Status) -> None:
    assert not any(can_move(final, new) for new in Status)


def test_receipt_order_cases() -> None:
    assert can_move(S.QUEUED, S.SENT)
    assert can_move(S.SENT, S.DELIVERED)
    assert can_move(S.QUEUED, S.DELIVERED)  # the receipt beat the send's own answer
    assert not can_move(S.DELIVERED, S.SENT)  # "Dispatched" arriving after "Delivered"
    assert not can_move(S.DELIVERED, S.FAILED)  # a late contradicting receipt changes nothing
    assert not can_move(S.SENT, S.SENT)  # a duplicate
    assert not can_move(S.SENT, S.QUEUED)


def test_needs_review_can_be_settled_by_a_receipt() -> None:
    assert can_move(S.NEEDS_REVIEW, S.DELIVERED)
    assert can_move(S.NEEDS_REVIEW, S.FAILED)
    assert can_move(S.NEEDS_REVIEW, S.SENT)
    assert not can_move(S.NEEDS_REVIEW, S.QUEUED)  # never silently back into the outbox


def test_an_unknown_status_after_sent_is_kept_and_can_still_be_settled() -> None:
    # UNKNOWN is terminal-but-ambiguous; its raw status must not be lost.
    assert can_move(S.SENT, S.UNKNOWN)
    assert not can_move(S.UNKNOWN, S.SENT)  # a late "Dispatched" does not hide it again
    assert all(can_move(S.UNKNOWN, f) for f in (S.DELIVERED, S.FAILED, S.EXPIRED, S.REJECTED, S.CANCELLED))


def test_scheduled_moves_to_queued_not_back() -> None:
    assert can_move(S.SCHEDULED, S.QUEUED)
    assert can_move(S.SCHEDULED, S.CANCELLED)
    assert not can_move(S.QUEUED, S.SCHEDULED)


def test_retry_is_for_failed_or_undecided_messages() -> None:
    allowed = {S.FAILED, S.REJECTED, S.EXPIRED, S.NEEDS_REVIEW, S.UNKNOWN}
    assert {s for s in Status if can_retry(s)} == allowed


def test_values_and_labels() -> None:
    # These strings are the CLI's --json contract (issue 2 item 9).
    assert {s.value for s in Status} == {
        "queued",
        "scheduled",
        "sent",
        "delivered",
        "failed",
        "expired",
        "rejected",
        "cancelled",
        "unknown",
        "needs_review",
        "received",
    }
    assert S.NEEDS_REVIEW.label == "Needs review"
    assert all(s.label for s in Status)
