"""The send service's ports onto parts the runtime builds later (not before the first paint).

The window's first paint builds the send service (Compose needs it) but not the dispatcher
or the spending limits, which import more and open more. These stand in for them and build
them on first use: a send queued before :meth:`Runtime.start` rings a doorbell that builds the
dispatcher (the queued rows wait in the outbox meanwhile).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from decimal import Decimal

    from smsdesk.runtime import Runtime
    from smsdesk.storage.records import SpendCap


class LateOutbox:
    """The dispatcher's doorbell for the send service, without building the dispatcher first: a
    send queued before :meth:`Runtime.start` builds it (and the queued rows wait in the outbox)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def kick(self) -> None:
        self._rt.dispatcher.kick()

    def queued(self, account_id: int, ids: Sequence[int]) -> None:
        self._rt.dispatcher.queued(account_id, ids)


class LateSpending:
    """The spending limits for the send service, built when a send first asks (not at the first paint)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def over_limit(self, account_id: int, cost: Decimal | float | None, now: datetime | None = None) -> str:
        return self._rt.spending.over_limit(account_id, cost, now)

    def cap(self, account_id: int) -> SpendCap | None:
        return self._rt.spending.cap(account_id)
