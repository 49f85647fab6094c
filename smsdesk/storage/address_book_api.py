"""The address book's part of the storage surface: contacts and groups (see :mod:`smsdesk.storage.api`).

Split from ``api`` by size only; ``api`` re-exports both Protocols.
"""

from __future__ import annotations

import builtins  # the stores' ``list``-like methods would shadow the type
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only (see storage.api)
    from smsdesk.domain.contacts import (
        AsOf,
        Contact,
        ContactPage,
        ContactQuery,
        FieldDef,
        FieldKind,
        Group,
        GroupFilter,
    )
    from smsdesk.storage.records import (
        AuditEntry,
        ConversationRow,
        Erased,
        NewContact,
        Removed,
        Saved,
        SavedTemplate,
        ScheduleUse,
    )

__all__ = ["ContactStore", "GroupStore", "TemplateStore"]


class ContactStore(Protocol):
    """The address book: contacts (several numbers each, one for texts; tags; typed custom
    fields; notes; consent) and the names shown wherever a number is.

    Never two contacts for one number: adding a contact one of whose numbers a contact has
    already merges into that contact (:class:`Saved` says which). Search text arrives
    normalised by the service: ``+digits`` means numbers starting so, ``digits`` numbers
    containing them, anything else words found in names, numbers, field values and tags
    (each word of 3 characters or more anywhere in them; shorter words at the start of the
    name). ``asof`` evaluates smart groups' rules (a date "tomorrow", "replied in the last
    30 days").
    """

    def names_for(self, numbers: Iterable[str]) -> dict[str, str]:
        """``{number: name}`` for numbers that are any number of a named contact."""
        ...

    def get(self, contact_id: int) -> Contact | None: ...
    def get_many(self, ids: Iterable[int]) -> builtins.list[Contact]:
        """Those that exist, in the order asked."""
        ...

    def by_number(self, number: str) -> Contact | None: ...
    def by_name(self, name: str, limit: int = 10) -> builtins.list[Contact]:
        """Contacts with exactly this name (any case)."""
        ...

    def count(self) -> int: ...
    def search(self, query: ContactQuery, asof: AsOf, count: bool = True, quick: bool = False) -> ContactPage:
        """One sorted page; ``total`` is -1 unless ``count``; ``quick``: a count past a
        thousand may stop early (``at_least``)."""
        ...

    def stream(self, group_id: int | None, asof: AsOf) -> Iterator[Contact]:
        """Every contact (of a group), read in pages as it is consumed."""
        ...

    def tags(self, prefix: str = "", limit: int = 1000) -> builtins.list[tuple[str, int]]:
        """Tags in use starting with ``prefix`` (any case), each with how many contacts have it."""
        ...

    def field_defs(self) -> builtins.list[FieldDef]: ...
    def field_values(self, name: str) -> builtins.list[str]:
        """Every non-empty value of one custom field."""
        ...

    def conversations_of(self, contact_id: int) -> builtins.list[ConversationRow]:
        """Conversations with any of the contact's numbers, latest first."""
        ...

    async def set_name(self, number: str, name: str, audit: AuditEntry) -> None: ...
    async def add(self, new: NewContact, audit: AuditEntry) -> Saved:
        """``audit`` gets ``contact_id`` and ``merged``."""
        ...

    async def add_many(
        self, items: Sequence[NewContact], group_id: int | None, fields: Sequence[FieldDef], audit: AuditEntry
    ) -> builtins.list[Saved]:
        """An import's batch: define ``fields`` (kept kinds win), add or merge each item in
        order (a later item with an earlier one's number merges into it), put them all in
        ``group_id``. ``audit`` gets the counts."""
        ...

    async def edit(self, contact_id: int, new: NewContact, audit: AuditEntry) -> None:
        """Replace the contact's details. Raises NotFound, or InvalidInput when a number is
        another contact's."""
        ...

    async def remove(self, ids: Sequence[int], audit: AuditEntry) -> Removed:
        """Delete contacts, returning them as they were (messages stay: they are by number)."""
        ...

    async def restore(self, removed: Removed, audit: AuditEntry) -> builtins.list[int]:
        """Undo :meth:`remove` (same ids when free; merged where a number was taken meanwhile)."""
        ...

    async def merge(self, keep_id: int, other_id: int, audit: AuditEntry) -> Contact:
        """``other`` joins ``keep`` and is deleted; returns ``other`` as it was."""
        ...

    def note_export(self, audit: AuditEntry) -> None:
        """Record an export (``audit.subject`` says of what) before its file is written; a
        workspace that keeps exports to its owner refuses it here (``NotAllowed``)."""
        ...

    async def erase(self, contact_id: int, audit: AuditEntry) -> Erased:
        """Delete the contact, every message and conversation with any of its numbers and
        their other traces; opted-out numbers stay only as salted hashes, which every opt-out
        check reads. ``audit`` gets the counts (never a number or a name)."""
        ...

    async def define_field(self, name: str, kind: FieldKind, audit: AuditEntry) -> None: ...


class GroupStore(Protocol):
    """Contact groups: plain lists and smart groups (a rule evaluated whenever asked)."""

    def groups(self, asof: AsOf) -> builtins.list[Group]:
        """Every group by name, with its size now."""
        ...

    def get(self, group_id: int, asof: AsOf) -> Group | None: ...
    def by_name(self, name: str, asof: AsOf) -> Group | None: ...
    def find(self, text: str, limit: int, asof: AsOf) -> builtins.list[Group]:
        """Groups whose name contains ``text``, those starting with it first."""
        ...

    def member_ids(self, group_ids: Iterable[int], asof: AsOf) -> dict[int, builtins.list[int]]: ...
    def groups_of(self, contact_id: int) -> builtins.list[tuple[int, str]]:
        """The plain lists a contact is in: (id, name)."""
        ...

    def uses(self, group_id: int) -> builtins.list[ScheduleUse]:
        """Scheduled sends that will still take the group's members."""
        ...

    async def create(self, name: str, flt: GroupFilter | None, audit: AuditEntry) -> int:
        """Raises InvalidInput when the name is taken (any case)."""
        ...

    async def rename(self, group_id: int, name: str, audit: AuditEntry) -> None: ...
    async def set_filter(self, group_id: int, flt: GroupFilter | None, audit: AuditEntry) -> None: ...
    async def add_members(self, group_id: int, contact_ids: Sequence[int], audit: AuditEntry) -> int:
        """Returns how many were not members yet. Raises InvalidInput for a smart group."""
        ...

    async def remove_members(self, group_id: int, contact_ids: Sequence[int], audit: AuditEntry) -> int: ...
    async def delete(self, group_id: int, audit: AuditEntry) -> bool:
        """False (nothing changed) while a scheduled send uses the group: one conditional
        statement decides."""
        ...


class TemplateStore(Protocol):
    """Saved message templates (names unique in any case)."""

    def templates(self, category: str | None = None) -> builtins.list[SavedTemplate]:
        """By category then name; only ``category``'s when given."""
        ...

    def get(self, template_id: int) -> SavedTemplate | None: ...
    def by_name(self, name: str) -> SavedTemplate | None: ...
    def categories(self) -> builtins.list[str]: ...
    async def add(self, name: str, category: str, body: str, audit: AuditEntry) -> int:
        """Raises InvalidInput when the name is taken."""
        ...

    async def edit(self, template_id: int, name: str, category: str, body: str, audit: AuditEntry) -> None:
        """Raises NotFound, or InvalidInput when another template has the name."""
        ...

    async def remove(self, template_id: int, audit: AuditEntry) -> bool: ...
