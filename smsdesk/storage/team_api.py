"""The team inbox's storage surface (re-exported by :mod:`smsdesk.storage.api`)."""

from __future__ import annotations

import builtins  # TeamInboxStore names a ``list``-returning method; keep the type unambiguous
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from smsdesk.storage.records import ActivityRow, PersonFigures, TeamState


class TeamInboxStore(Protocol):
    """Assignment, open/resolved/snoozed, internal notes and per-person figures."""

    @property
    def person(self) -> str:
        """Who is using this desktop (a workspace's login name; the computer's on a single desktop)."""
        ...

    def people(self) -> builtins.list[str]:
        """Everyone a conversation can be assigned to, sorted."""
        ...

    async def assign(self, conversation_id: int, to: str | None, expected: str | None) -> tuple[bool, str | None]:
        """Assign to ``to`` (None: nobody) if still assigned to ``expected``; (done, who has it now)."""
        ...

    async def set_state(self, conversation_id: int, state: TeamState, until: str | None) -> bool: ...
    async def add_note(self, conversation_id: int, body: str) -> int: ...
    async def mark_seen(self, conversation_id: int, message_id: int) -> None:
        """This desktop's person has seen the conversation up to ``message_id``."""
        ...

    def seen_by(self, conversation_id: int, message_id: int) -> builtins.list[str]: ...
    def activity(self, conversation_id: int, limit: int = 200) -> builtins.list[ActivityRow]: ...
    def activity_by_id(self, ids: builtins.list[int]) -> builtins.list[ActivityRow]: ...
    def senders_after(self, conversation_id: int, after_message_id: int) -> builtins.list[str]: ...
    def person_figures(self, start: str, end: str) -> builtins.list[PersonFigures]: ...
