"""Conversations (read side + the few things a person changes): inbox, thread pages, read
state, drafts, replies and search.

Qt-free and async where it writes. Reads are synchronous and cheap by construction (indexed
keyset pages, FTS5 by rowid), so views call them directly on the GUI thread. Every write
publishes a ``Changes``: marking a thread read names the conversation's last message, which
is enough for every open list to refresh that one row and the unread badge.
"""

from __future__ import annotations

import builtins  # the classes here have a ``list`` method, which shadows the type in annotations
from collections.abc import Callable
from dataclasses import dataclass

from smsdesk.domain.errors import NotFound
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Message
from smsdesk.services.bus import EventBus
from smsdesk.services.send import Draft, SendService
from smsdesk.services.team_inbox import TeamInbox
from smsdesk.storage.api import ConversationStore, OptOutStore
from smsdesk.storage.records import ConversationRow, ListFilter, SearchRow

__all__ = ["ConversationService", "ConversationRow", "ListFilter", "SearchHit", "ThreadPage"]

PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class ThreadPage:
    """A slice of one thread, oldest first, and whether more exists on either side."""

    messages: builtins.list[Message]
    has_older: bool
    has_newer: bool


@dataclass(frozen=True, slots=True)
class SearchHit:
    """Open ``conversation`` at ``message_id`` (None: a name/number match, open at the end)."""

    conversation: ConversationRow
    message_id: int | None
    at: str
    text: str


class ConversationService:
    def __init__(
        self,
        conversations: ConversationStore,
        optouts: OptOutStore,
        bus: EventBus,
        sending: SendService,
        number_text: Callable[[str], str] = str,
        team: TeamInbox | None = None,
    ) -> None:
        self.repo = conversations
        self.optouts = optouts
        self.bus = bus
        self.sending = sending
        self._number_text = number_text  # a number as people write it (ContactService.number_text)
        self.team = team  # assignment, open/resolved/snoozed, notes (None: not offered)

    # ---- the inbox ---------------------------------------------------------------------
    def list(
        self,
        flt: ListFilter | str = ListFilter.ALL,
        after: tuple[str, int] | None = None,
        limit: int = PAGE_SIZE,
        account_id: int | None = None,
    ) -> builtins.list[ConversationRow]:
        """One page of the inbox, latest activity first; pass the last row's (last_at, id) for the next."""
        person = self.team.me if self.team is not None else ""
        return self.repo.list(ListFilter(flt), after, limit, account_id, person)

    def get(self, conversation_id: int) -> ConversationRow:
        row = self.repo.get(conversation_id)
        if row is None:
            raise NotFound(f"There is no conversation {conversation_id}.")
        return row

    def get_many(self, ids: builtins.list[int]) -> builtins.list[ConversationRow]:
        return self.repo.get_many(ids)

    def find(self, account_id: int, remote: str) -> ConversationRow | None:
        return self.repo.find(account_id, remote)

    def affected_by(self, message_ids: set[int]) -> set[int]:
        """Conversation ids touched by these messages (new replies, sends, receipts)."""
        return self.repo.ids_for_messages(sorted(message_ids)) if message_ids else set()

    def unread_total(self) -> int:
        return self.repo.unread_total()

    def count(self) -> int:
        return self.repo.count()

    # ---- a thread ----------------------------------------------------------------------
    def page(
        self,
        conversation_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> ThreadPage:
        """A page of a thread: the newest (no argument), older than ``before``, newer than
        ``after``, or centred on ``around`` (a search hit). Never the whole thread."""
        conv = self.get(conversation_id)
        a, r = conv.account_id, conv.remote
        if around is not None:
            half = max(limit // 2, 1)
            older = self.repo.messages_before(a, r, around + 1, half + 1)
            newer = self.repo.messages_after(a, r, around, half + 1)
            has_older = len(older) > half
            has_newer = len(newer) > half
            rows = older[-half:] + newer[:half]
        elif after is not None:
            newer = self.repo.messages_after(a, r, after, limit + 1)
            has_newer = len(newer) > limit
            rows = newer[:limit]
            has_older = True
        else:
            older = self.repo.messages_before(a, r, before, limit + 1)
            has_older = len(older) > limit
            rows = older[-limit:]
            has_newer = before is not None
        return ThreadPage(rows, has_older, has_newer)

    def messages(self, ids: set[int]) -> builtins.list[Message]:
        return self.sending.messages.get_many(ids)

    async def mark_read(self, conversation_id: int) -> int:
        """Mark a thread read (opening it does this); returns how many replies were unread."""
        conv = self.get(conversation_id)
        if conv.unread == 0:
            return 0
        n = await self.repo.mark_read(conversation_id)
        self.bus.publish(Changes(message_ids={conv.last_message_id} if conv.last_message_id else set()))
        return n

    async def save_draft(self, conversation_id: int, text: str) -> None:
        """Keep an unsent reply with its conversation (it survives a restart)."""
        await self.repo.save_draft(conversation_id, text)
        self._draft_changed(conversation_id)

    def save_draft_now(self, conversation_id: int, text: str) -> None:
        """:meth:`save_draft`, blocking until committed: for the moment the window closes,
        when the event loop may not run a spawned save any more. A few milliseconds.

        With the writer busy (a bulk run committing), it waits at most a second and returns:
        the save stays queued, and the writer commits it before the database closes.
        """
        if self.repo.save_draft_blocking(conversation_id, text, timeout=1.0):
            self._draft_changed(conversation_id)

    def _draft_changed(self, conversation_id: int) -> None:
        # As mark_read does: naming the conversation's last message makes every open list
        # refresh that one row (its "Draft: ..." line).
        row = self.repo.get(conversation_id)
        if row is not None and row.last_message_id:
            self.bus.publish(Changes(message_ids={row.last_message_id}))

    async def reply(self, conversation_id: int, text: str, *, over_limit_ok: bool = False) -> builtins.list[Message]:
        """Send ``text`` in this conversation (same checks as Compose: opt-out, length, spending
        limit; ``over_limit_ok``: the person agreed to go over the account's monthly limit).

        Raises:
            OptedOut: the number is on the opt-out list; nothing was written.
            OverLimit: the account's monthly spending limit would be passed; nothing was written.
            InvalidInput: empty or too long text.
        """
        conv = self.get(conversation_id)
        sent = await self.sending.send(Draft(conv.account_id, [conv.remote], text, over_limit_ok=over_limit_ok))
        # Read again after sending: a draft save may have landed while the send was queued.
        after = self.repo.get(conversation_id)
        if after is not None and after.draft:
            await self.save_draft(conversation_id, "")
        return sent

    async def retry(self, message_id: int) -> bool:
        return await self.sending.retry(message_id)

    def blocked_reason(self, conversation_id: int) -> str | None:
        """Why replying is blocked (opted out), or None."""
        conv = self.get(conversation_id)
        if conv.opted_out:
            how = self.optouts.reason(conv.remote) or "on the opt-out list"
            return (
                f"{conv.contact_name or self._number_text(conv.remote)} has opted out ({how}). "
                "Replies are blocked until they text START "
                "or someone removes them on the Opt-outs page."
            )
        return None

    # ---- search ------------------------------------------------------------------------
    def search(self, text: str, limit: int = 50) -> builtins.list[SearchHit]:
        """Messages, contact names and numbers matching ``text``, newest first (not ranked).

        Name/number matches come first (a person typing a name wants that conversation).
        """
        text = text.strip()
        if not text:
            return []
        rows: builtins.list[SearchRow] = self.repo.search_conversations(text, 10) + self.repo.search_messages(
            text, limit
        )
        convs = {c.id: c for c in self.repo.get_many(sorted({r.conversation_id for r in rows}))}
        return [
            SearchHit(convs[r.conversation_id], r.message_id, r.at, r.text) for r in rows if r.conversation_id in convs
        ]
