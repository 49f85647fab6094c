"""Groups of contacts: plain lists and smart groups, and who a send to them reaches.

:meth:`GroupService.resolve` turns groups and contacts into the recipients of one send: each
contact once, by the number marked for texts, with the opted-out (including erased people
known only by a hash) and the duplicates removed, each with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from smsdesk.domain.contacts import MAX_NAME, Contact, ContactPage, ContactQuery, Group, GroupFilter, clean_text
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.domain.events import Changes
from smsdesk.domain.template import compile_template
from smsdesk.services.bus import EventBus
from smsdesk.services.contact_drafts import as_of
from smsdesk.services.contacts import ContactService
from smsdesk.storage.api import GroupStore, OptOutStore
from smsdesk.storage.records import AuditEntry


@dataclass(frozen=True, slots=True)
class GroupRecipient:
    """One person a send reaches, with the values for its merge fields."""

    contact: Contact
    number: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Left:
    """A contact a send leaves out, and why in words."""

    contact: Contact
    reason: str


@dataclass(frozen=True, slots=True)
class Resolved:
    recipients: tuple[GroupRecipient, ...]
    removed: tuple[Left, ...]


class GroupInUse(InvalidInput):
    """A scheduled send still takes this group's members."""


class GroupService:
    def __init__(self, groups: GroupStore, contacts: ContactService, optouts: OptOutStore, bus: EventBus) -> None:
        self._groups = groups
        self._contacts = contacts
        self._optouts = optouts
        self.bus = bus

    def groups(self) -> list[Group]:
        return self._groups.groups(as_of())

    def get(self, group_id: int) -> Group:
        found = self._groups.get(group_id, as_of())
        if found is None:
            raise NotFound("That group no longer exists. It may have been deleted.")
        return found

    def by_name(self, name: str) -> Group:
        """Raises:
        NotFound: no group has that name (any case).
        """
        found = self._groups.by_name(" ".join(name.split()), as_of())
        if found is None:
            raise NotFound(f"There is no group called '{name}'. See the list of groups for their names.")
        return found

    def find(self, text: str, limit: int = 8) -> list[Group]:
        """Groups whose name contains ``text``, those starting with it first (with sizes)."""
        return self._groups.find(" ".join(text.split()), limit, as_of())

    def groups_of(self, contact_id: int) -> list[tuple[int, str]]:
        return self._groups.groups_of(contact_id)

    def _publish(self) -> None:
        self.bus.publish(Changes(contacts=True))

    @staticmethod
    def _name(name: str) -> str:
        clean = clean_text(name, MAX_NAME)
        if not clean:
            raise InvalidInput("Give the group a name.")
        return clean

    async def create(self, name: str, flt: GroupFilter | None = None) -> int:
        """A new plain list, or a smart group when ``flt`` is given.

        Raises:
            InvalidInput: no name, or a group already has it.
        """
        clean = self._name(name)
        gid = await self._groups.create(clean, flt, AuditEntry("group.create", clean))
        self._publish()
        return gid

    async def create_with(self, name: str, contact_ids: Sequence[int]) -> int:
        """A new plain list holding ``contact_ids`` (made from a selection or a conversation)."""
        gid = await self.create(name)
        await self.add_members(gid, contact_ids)
        return gid

    async def rename(self, group_id: int, name: str) -> None:
        clean = self._name(name)
        await self._groups.rename(group_id, clean, AuditEntry("group.rename", str(group_id), {"name": clean}))
        self._publish()

    async def set_filter(self, group_id: int, flt: GroupFilter | None) -> None:
        rule = flt.to_json() if flt is not None else None
        await self._groups.set_filter(group_id, flt, AuditEntry("group.filter", str(group_id), {"filter": rule}))
        self._publish()

    async def delete(self, group_id: int) -> None:
        """Delete a group; its members stay as contacts.

        Raises:
            GroupInUse: a scheduled send still takes its members (named in the message). To
                delete it anyway, the caller cancels those sends (:meth:`uses` gives their
                ids) through the scheduler first and asks again.
        """
        group = self.get(group_id)
        if not await self._groups.delete(group_id, AuditEntry("group.delete", group.name)):
            uses = self._groups.uses(group_id)
            first = uses[0].body[:40] if uses else ""
            raise GroupInUse(
                f"'{group.name}' is used by {len(uses)} scheduled send(s) (\"{first}\"). "
                "Cancel those sends first, or choose another group for them."
            )
        self._publish()

    def uses(self, group_id: int) -> list[int]:
        """Ids of the scheduled sends that still take this group's members."""
        return [u.id for u in self._groups.uses(group_id)]

    async def add_members(self, group_id: int, contact_ids: Sequence[int]) -> int:
        """Returns how many were not members yet."""
        added = await self._groups.add_members(group_id, list(contact_ids), AuditEntry("group.add", str(group_id)))
        self._publish()
        return added

    async def remove_members(self, group_id: int, contact_ids: Sequence[int]) -> int:
        gone = await self._groups.remove_members(group_id, list(contact_ids), AuditEntry("group.remove", str(group_id)))
        self._publish()
        return gone

    def members(self, group_id: int, query: ContactQuery | None = None) -> ContactPage:
        """One page of a group's members now (a smart group's rule evaluated)."""
        return self._contacts.search(replace(query or ContactQuery(), group_id=group_id))

    def send_list(self, group_id: int, text: str) -> tuple[list[tuple[str, str | None]], list[str]]:
        """Who a send of ``text`` to the group reaches now: (number, their personalised text,
        or None when ``text`` has no merge fields) each, and why each other member is left
        out in words (opted out, no number, a merge field they have no value for: a message
        is never sent with a gap or a raw ``{{field}}``)."""
        compiled = compile_template(text)
        resolved = self.resolve([group_id])
        left = [f"{gone.contact.shown_name or gone.contact.number} {gone.reason}" for gone in resolved.removed]
        rows: list[tuple[str, str | None]] = []
        for r in resolved.recipients:
            if not compiled.is_personalised:
                rows.append((r.number, None))
                continue
            missing = compiled.missing(r.fields)
            if missing:
                left.append(f"{r.contact.shown_name or r.number} has no {', '.join(missing)}")
                continue
            rows.append((r.number, compiled.render(r.fields)))
        return rows, left

    def member_numbers(self, group_id: int) -> list[str]:
        """Every number of every member of a group, opted out or not (for exports)."""
        members = self._groups.member_ids([group_id], as_of()).get(group_id, [])
        contacts = self._contacts.contacts.get_many(dict.fromkeys(members))
        return list(dict.fromkeys(n.number for c in contacts for n in c.numbers))

    def resolve(self, group_ids: Iterable[int] = (), contact_ids: Iterable[int] = ()) -> Resolved:
        """The recipients of a send to these groups and contacts, in order, each once."""
        members = self._groups.member_ids(list(group_ids), as_of())
        wanted = [cid for ids in members.values() for cid in ids] + list(contact_ids)
        contacts = self._contacts.contacts.get_many(dict.fromkeys(wanted))
        opted = self._optouts.reasons([c.number for c in contacts if c.number])
        recipients: list[GroupRecipient] = []
        removed: list[Left] = []
        seen: set[str] = set()
        for c in contacts:
            if not c.number:
                removed.append(Left(c, "has no number for texts"))
            elif c.number in opted:
                removed.append(Left(c, f"opted out ({opted[c.number]})"))
            elif c.number in seen:
                removed.append(Left(c, "the same number is already in this send"))
            else:
                seen.add(c.number)
                recipients.append(GroupRecipient(c, c.number, c.merge_values()))
        return Resolved(tuple(recipients), tuple(removed))
