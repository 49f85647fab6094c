"""Change-sets: every mutation a service makes is announced as one ``Changes``.

Views refresh from what changed (Anki's OpChanges) instead of polling. A ``Changes`` is
cheap to merge, so bursts (a bulk run, a flood of receipts) reach the GUI as one refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Changes:
    """What changed. Empty sets mean "nothing of this kind"; ``everything`` forces a full reload."""

    message_ids: set[int] = field(default_factory=set)  # messages.id rows that changed
    inbound_ids: set[int] = field(default_factory=set)  # new inbound message rows (notify)
    # The team inbox: conversations assigned, resolved, snoozed, reopened or noted, and the
    # activity ids of new internal notes (a note that @mentions you is notified).
    conversation_ids: set[int] = field(default_factory=set)
    note_ids: set[int] = field(default_factory=set)
    # Who is viewing or typing where, heard from other desktops (person, conversation id,
    # "viewing" / "typing" / "left"); never stored.
    presence: set[tuple[str, int, str]] = field(default_factory=set)
    accounts: bool = False
    optouts: bool = False
    contacts: bool = False
    templates: bool = False  # saved message templates
    queue: bool = False
    webhooks: bool = False
    bulk: bool = False
    reception: bool = False  # how receipts and replies arrive changed (a tunnel, a relay)
    autoreplies: bool = False  # automatic reply rules (this process's own changes)
    balances: bool = False  # a provider balance crossed an account's warning level
    connection: bool = False  # the database went out of reach or came back (services.health)
    everything: bool = False

    def merge(self, other: Changes) -> None:
        self.message_ids |= other.message_ids
        self.inbound_ids |= other.inbound_ids
        self.conversation_ids |= other.conversation_ids
        self.note_ids |= other.note_ids
        self.presence |= other.presence
        self.accounts |= other.accounts
        self.optouts |= other.optouts
        self.contacts |= other.contacts
        self.templates |= other.templates
        self.queue |= other.queue
        self.webhooks |= other.webhooks
        self.bulk |= other.bulk
        self.reception |= other.reception
        self.autoreplies |= other.autoreplies
        self.balances |= other.balances
        self.connection |= other.connection
        self.everything |= other.everything

    def __bool__(self) -> bool:
        return bool(
            self.message_ids
            or self.inbound_ids
            or self.conversation_ids
            or self.note_ids
            or self.presence
            or self.accounts
            or self.optouts
            or self.contacts
            or self.templates
            or self.queue
            or self.webhooks
            or self.bulk
            or self.reception
            or self.autoreplies
            or self.balances
            or self.connection
            or self.everything
        )
