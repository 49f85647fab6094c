"""The scheduled queue's part of the storage surface (see :mod:`smsdesk.storage.api`, which
re-exports it). Split from ``api`` by size only."""

from __future__ import annotations

import builtins  # ScheduleStore has ``items`` and ``runs``; ``list`` below is the type
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only (see storage.api)
    from smsdesk.domain.schedule import ScheduleItem
    from smsdesk.storage.records import AuditEntry, NewOutgoing, NewSchedule, ProviderHeld, RunMessages, SpendCap

__all__ = ["ScheduleStore"]


class ScheduleStore(Protocol):
    """The scheduled queue. Commands take the version of the item the caller read and raise
    :class:`~smsdesk.storage.records.Conflict` when it changed since (nothing written)."""

    async def create(self, new: NewSchedule, account_name: str, **detail: Any) -> int: ...

    async def edit(
        self,
        sid: int,
        version: int,
        states: Sequence[str],
        fields: dict[str, Any],
        recipients: Sequence[tuple[str, str | None]] | None,
        entry: AuditEntry,
    ) -> None: ...

    async def update(self, sid: int, version: int, states: Sequence[str], **fields: Any) -> None: ...

    async def cancel(self, item: ScheduleItem, now: str, reason: str) -> tuple[int, int]:
        """Cancel ``item`` and its unsent messages: (stopped, already held by a dispatcher)."""
        ...

    async def pause(self, item: ScheduleItem) -> None: ...

    async def resume(
        self, item: ScheduleItem, fields: dict[str, Any], release: Sequence[tuple[int, str | None, str]] | None
    ) -> None: ...

    async def skip(self, item: ScheduleItem, fields: dict[str, Any], ends: bool) -> None: ...

    async def start_run(
        self,
        item: ScheduleItem,
        run: RunMessages,
        due: str,
        me: str,
        new_next: str | None,
        now: bool,
        cap: SpendCap | None = None,
    ) -> list[int] | None:
        """Claim ``item`` and store its run's messages in one transaction; None: claim lost.
        Undone with :class:`OverLimit` when they take the account's spending past ``cap``."""
        ...

    async def housekeeping(self, now: str) -> tuple[list[int], list[int]]:
        """Due scheduled messages join the outbox, finished runs close: (message ids, item ids)."""
        ...

    def dead_hand_offs(self, alive_since: str, me: str) -> bool: ...

    async def abandon_dead_hand_offs(self, alive_since: str, me: str, now: str) -> list[int]: ...

    async def claim_hand_off(
        self, item: ScheduleItem, due: str, me: str, news: Sequence[NewOutgoing]
    ) -> list[int] | None: ...

    async def record_hand_off(
        self,
        sid: int,
        accepted: Sequence[tuple[int, str, str]],
        refused: Sequence[tuple[int, str]],
        now: str,
        reason: str,
    ) -> None: ...

    async def hand_off_failed(self, sid: int, ids: Sequence[int], ambiguous: bool, error: str, now: str) -> None: ...

    async def withdrawn(self, sid: int, cancelled: Sequence[int], all_of_them: bool, now: str) -> None: ...

    async def provider_passed_done(self, sids: Sequence[int], now: str) -> None: ...

    def waiting_hand_offs(self, now: str) -> builtins.list[int]: ...

    def items(self, include_finished: bool = True, limit: int = 1000) -> builtins.list[ScheduleItem]: ...

    def get(self, sid: int) -> ScheduleItem | None: ...

    def recipients(self, sid: int) -> builtins.list[tuple[str, str | None]]: ...
    async def set_recipients(self, sid: int, recipients: Sequence[tuple[str, str | None]]) -> None:
        """Replace an item's recipients (a group send's members, taken again before a run)."""
        ...

    def first_recipients(self, sids: Sequence[int], n: int) -> dict[int, builtins.list[str]]: ...

    def due(self, now: str) -> builtins.list[ScheduleItem]: ...

    def provider_passed(self, now: str) -> builtins.list[int]: ...

    def housekeeping_due(self, now: str) -> bool: ...

    def held_count(self) -> int: ...

    def runs(self, sid: int, limit: int = 100) -> builtins.list[dict[str, Any]]: ...

    def run_counts(self, run_id: int) -> dict[str, int]: ...

    def message_ids(self, sid: int) -> builtins.list[int]: ...

    def provider_scheduled(self, sid: int) -> builtins.list[ProviderHeld]: ...
