"""What core services need of each other, as small protocols (constructor collaborators).

A service names the one or two calls it makes on another (the dispatcher's ``kick``, the
opt-out service's ``sync_later``) instead of taking a callback assigned after construction;
the composition root hands it the other service, and a test hands it a stub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from smsdesk.storage.records import OptOutChange, SpendCap

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from decimal import Decimal

    from smsdesk.domain.schedule import ScheduleItem
    from smsdesk.services.schedule_plan import ScheduleRequest


class OutboxKick(Protocol):
    """Wakes the dispatcher: something was queued (or is due) now."""

    def kick(self) -> None: ...


class OutboxDoor(OutboxKick, Protocol):
    """The dispatcher as the send service sees it: also told which rows were just queued."""

    def queued(self, account_id: int, ids: Sequence[int]) -> None: ...


class OutboxHandle(OutboxKick, Protocol):
    """The dispatcher as the scheduler sees it: also who it is (its claims carry this id)."""

    @property
    def id(self) -> str: ...


class SpendingLimit(Protocol):
    """The accounts' monthly spending limits, as a send sees them (``services.spending``)."""

    def over_limit(self, account_id: int, cost: Decimal | float | None, now: datetime | None = None) -> str: ...

    def cap(self, account_id: int) -> SpendCap | None:
        """The limit for the queueing write to check again (None: the account has none)."""
        ...


class OptOutSync(Protocol):
    """Tells providers that keep their own opt-out list about changes made here (a STOP reply,
    a provider's opted-out refusal), in the background after COMMIT."""

    def sync_later(self, changes: list[OptOutChange]) -> None: ...


class PendingEvents(Protocol):
    """Processes stored webhook events soon, on the app loop (errors are logged there)."""

    def process_soon(self) -> None: ...


class ScheduledQueue(Protocol):
    """The scheduled queue as a bulk send sees it: a run for later is one scheduled item."""

    async def create(self, req: ScheduleRequest) -> ScheduleItem: ...

    async def cancel(self, sid: int) -> str: ...


class AutoReplier(Protocol):
    """Answers new incoming messages with automatic replies, in the background."""

    def answer_soon(self, inbound_ids: set[int]) -> None: ...
