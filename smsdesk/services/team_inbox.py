"""The team inbox: assigning conversations, resolving and snoozing them, internal notes with
@mentions, the "a colleague replied meanwhile" check, and per-person figures.

A conversation is *open*, *resolved* or *snoozed* (until a time, or until the next reply);
an incoming message reopens it (storage does that as it stores the reply). Assignment is a
conditional update: two people taking the same conversation at once, one wins and the other
is told who ("Taken by ana."), never silently overwritten. Notes are never sent; an
``@name`` in a note notifies that person on their desktop (:meth:`TeamInbox.notes_for_me`,
called by the window's notifier for every new note, whichever desktop wrote it). Who is
viewing or typing in a conversation is announced to the other desktops (:meth:`TeamInbox.announce`)
and never stored.

On a single desktop everything works the same with one person: the computer's login name.
Qt-free: every write publishes a ``Changes`` naming the conversation (and the note).
"""

from __future__ import annotations

import builtins  # TeamInbox has a ``list``-like API; keep the type unambiguous in annotations
import re
import time
from datetime import UTC, datetime

from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.domain.events import Changes
from smsdesk.services.bus import EventBus
from smsdesk.storage.api import ChangeFeed, ConversationStore, TeamInboxStore
from smsdesk.storage.records import ActivityRow, ConversationRow, PersonFigures, TeamState

__all__ = ["NOTE_MAX", "ActivityRow", "PersonFigures", "Taken", "TeamInbox", "TeamState"]

PEOPLE_TTL = 30.0
NOTE_MAX = 2000  # characters in one note: a note is a line to a colleague, not a document
_MENTION = re.compile(r"(?<![\w@])@([\w.\-]+)", re.UNICODE)


class Taken(InvalidInput):
    """Someone else changed the conversation's assignment first."""

    def __init__(self, conversation_id: int, holder: str | None) -> None:
        self.conversation_id = conversation_id
        self.holder = holder
        super().__init__(f"Taken by {holder}: they assigned it first." if holder else "Someone unassigned it first.")


class TeamInbox:
    def __init__(
        self, store: TeamInboxStore, conversations: ConversationStore, bus: EventBus, feed: ChangeFeed | None = None
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.bus = bus
        self.feed = feed  # presence goes out through the change feed (a workspace's notifications)
        self._people: tuple[float, builtins.list[str]] | None = None

    @property
    def me(self) -> str:
        """The person using this desktop."""
        return self.store.person

    def people(self) -> builtins.list[str]:
        """Everyone a conversation can be assigned to (this desktop's person included); read
        again at most every :data:`PEOPLE_TTL` seconds (a person added meanwhile appears then)."""
        now = time.monotonic()
        if self._people is None or now - self._people[0] > PEOPLE_TTL:
            self._people = (now, self.store.people())
        return list(self._people[1])

    @property
    def shared(self) -> bool:
        """More than one person works in this inbox (a team workspace)."""
        return len(self.people()) > 1

    def _get(self, conversation_id: int) -> ConversationRow:
        row = self.conversations.get(conversation_id)
        if row is None:
            raise NotFound(f"There is no conversation {conversation_id}.")
        return row

    def _changed(self, conversation_id: int, note_id: int | None = None) -> None:
        self.bus.publish(Changes(conversation_ids={conversation_id}, note_ids={note_id} if note_id else set()))

    # ---- assignment --------------------------------------------------------------------
    async def assign(self, conversation_id: int, to: str | None, *, seen: str | None) -> None:
        """Give the conversation to ``to`` (None: nobody). ``seen``: who the person saw it
        assigned to; if that changed meanwhile, nothing is written.

        Raises:
            Taken: someone else assigned (or unassigned) it first; says who has it now.
        """
        if to is not None and to not in self.people():
            raise InvalidInput(f"{to} is not a member of this workspace.")
        done, holder = await self.store.assign(conversation_id, to, seen)
        self._changed(conversation_id)  # either way the list shows who has it now
        if not done and holder != to:
            if holder is None and self.conversations.get(conversation_id) is None:
                raise NotFound(f"There is no conversation {conversation_id}.")
            raise Taken(conversation_id, holder)

    async def take(self, conversation_id: int) -> None:
        """Assign the conversation to yourself, if nobody has it (else :class:`Taken`)."""
        await self.assign(conversation_id, self.me, seen=None)

    # ---- open, resolved, snoozed -------------------------------------------------------
    async def resolve(self, conversation_id: int) -> None:
        await self._set(conversation_id, TeamState.RESOLVED, None)

    async def reopen(self, conversation_id: int) -> None:
        await self._set(conversation_id, TeamState.OPEN, None)

    async def snooze(self, conversation_id: int, until: datetime | None) -> None:
        """Hide it from Mine and Unassigned until ``until`` (None: until the next reply)."""
        if until is not None and until <= datetime.now(UTC):
            raise InvalidInput("Choose a time in the future to snooze until.")
        at = until.astimezone(UTC).isoformat(timespec="milliseconds") if until else None
        await self._set(conversation_id, TeamState.SNOOZED, at)

    async def _set(self, conversation_id: int, state: TeamState, until: str | None) -> None:
        if not await self.store.set_state(conversation_id, state, until):
            raise NotFound(f"There is no conversation {conversation_id}.")
        self._changed(conversation_id)

    # ---- notes -------------------------------------------------------------------------
    async def add_note(self, conversation_id: int, text: str) -> int:
        """Add an internal note (never sent to the customer); returns its id."""
        text = text.strip()
        if not text:
            raise InvalidInput("Write the note first.")
        if len(text) > NOTE_MAX:
            raise InvalidInput(f"A note holds at most {NOTE_MAX} characters; this one has {len(text)}.")
        self._get(conversation_id)
        note_id = await self.store.add_note(conversation_id, text)
        self._changed(conversation_id, note_id)
        return note_id

    def activity(self, conversation_id: int) -> builtins.list[ActivityRow]:
        """Notes and who assigned, resolved or snoozed the conversation, oldest first."""
        return self.store.activity(conversation_id)

    def mentioned(self, text: str) -> set[str]:
        """The people a note's ``@name`` words name (any case), as their login names."""
        people = {p.lower(): p for p in self.people()}
        return {people[m.lower()] for m in _MENTION.findall(text) if m.lower() in people}

    def notes_for_me(self, note_ids: set[int]) -> builtins.list[ActivityRow]:
        """Of these new notes, those by someone else that @mention the person at this desktop."""
        if not note_ids:
            return []
        me = self.me.lower()
        return [
            n
            for n in self.store.activity_by_id(sorted(note_ids))
            if n.kind == "note" and n.actor.lower() != me and me in {m.lower() for m in _MENTION.findall(n.body)}
        ]

    # ---- read markers ------------------------------------------------------------------
    async def seen(self, conversation: ConversationRow) -> None:
        """This person has seen the conversation up to its newest message (on a team only)."""
        if conversation.last_message_id and self.shared:
            await self.store.mark_seen(conversation.id, conversation.last_message_id)

    def seen_by_others(self, conversation: ConversationRow) -> builtins.list[str]:
        """Colleagues who have seen the conversation's newest message."""
        if not conversation.last_message_id:
            return []
        return [p for p in self.store.seen_by(conversation.id, conversation.last_message_id) if p != self.me]

    # ---- presence ----------------------------------------------------------------------
    async def announce(self, conversation_id: int, activity: str) -> None:
        """Tell the other desktops that this person is "viewing", "typing" in or "left" the
        conversation. Nothing is stored; on a single desktop nothing is sent."""
        if self.feed is not None and self.shared:
            import asyncio

            await asyncio.to_thread(self.feed.announce, self.me, conversation_id, activity)

    # ---- sending -----------------------------------------------------------------------
    def colleagues_replied(self, conversation_id: int, after_message_id: int) -> builtins.list[str]:
        """Colleagues who sent a message in the conversation after message ``after_message_id``
        (the newest one shown when this person opened it): a reply now may repeat theirs."""
        me = self.me
        return [p for p in self.store.senders_after(conversation_id, after_message_id) if p != me]

    # ---- reports -----------------------------------------------------------------------
    def person_figures(self, start: str, end: str) -> builtins.list[PersonFigures]:
        """Per person: messages sent, first answers and their median time, ``start``..``end`` (UTC ISO)."""
        return self.store.person_figures(start, end)
