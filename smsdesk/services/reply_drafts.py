"""Where a reply typed in a conversation is kept, so that nothing typed is lost.

Normally in the database, as the conversation's draft: it survives a restart, and the
conversation list (on every desktop of a team workspace) shows it. While the database is out
of reach (:class:`~smsdesk.services.health.StoreHealth`), on this computer instead
(:class:`~smsdesk.services.health.OfflineDrafts`, with the reason); so is a reply whose save or
send failed because the database just went away. Once it answers again, each reply kept here
becomes its conversation's draft and leaves this computer's file (:meth:`ReplyDrafts.put_back`).
"""

from __future__ import annotations

import logging

from smsdesk.domain.errors import StorageError
from smsdesk.services.conversations import ConversationRow, ConversationService
from smsdesk.services.health import StoreHealth

log = logging.getLogger(__name__)


class ReplyDrafts:
    """The reply box's drafts, in the database or (while it is away) on this computer."""

    def __init__(self, conversations: ConversationService, health: StoreHealth) -> None:
        self._conversations = conversations
        self._health = health

    @property
    def away(self) -> bool:
        """The database is out of reach: replies are kept on this computer meanwhile."""
        return not self._health.ok

    def text_for(self, conversation: ConversationRow) -> str:
        """The reply to show in ``conversation``'s box: one kept on this computer (written while
        the database was away, so the newer) or else its stored draft."""
        kept = self._health.drafts.get(conversation.id)
        return conversation.draft if kept is None else kept

    def keep_here_if_away(self, conversation_id: int, text: str) -> bool:
        """While the database is out of reach, keep ``text`` on this computer; True if so (then
        there is nothing to store)."""
        if self._health.ok:
            return False
        self._health.drafts.keep(conversation_id, text, self._health.reason)
        return True

    async def save(self, conversation_id: int, text: str) -> bool:
        """Keep ``text`` as the conversation's reply: in the database, or on this computer when
        it is out of reach (also when it goes away during this save). True when stored."""
        if self.keep_here_if_away(conversation_id, text):
            return False
        try:
            await self._conversations.save_draft(conversation_id, text)
        except StorageError as exc:
            self._health.drafts.keep(conversation_id, text, str(exc))
            log.info("the draft is kept on this computer: %s", exc)
            return False
        return True

    def save_now(self, conversation_id: int, text: str) -> bool:
        """:meth:`save`, blocking: for the moment the window closes. True when stored.

        Raises:
            SmsdeskError: the save failed for another reason than the database being away.
        """
        if self.keep_here_if_away(conversation_id, text):
            return False
        try:
            self._conversations.save_draft_now(conversation_id, text)
        except StorageError as exc:
            self._health.drafts.keep(conversation_id, text, str(exc))
            log.info("the draft is kept on this computer: %s", exc)
            return False
        return True

    def not_sent(self, conversation_id: int, text: str, exc: BaseException) -> None:
        """A reply could not be sent: when the database was out of reach, it is kept here."""
        if isinstance(exc, StorageError):
            self._health.drafts.keep(conversation_id, text, str(exc))

    def kept(self) -> dict[int, str]:
        """The replies kept on this computer, by conversation id."""
        return self._health.drafts.all()

    async def put_back(self, conversation_id: int, text: str) -> None:
        """The database answers again: ``text`` (kept here, or newer in the box) becomes the
        conversation's draft, then leaves this computer's file."""
        await self._conversations.save_draft(conversation_id, text)
        self._health.drafts.forget(conversation_id)
