"""Contacts: name a number, and say who a number is wherever one is shown.

Same ``contacts`` table bulk import fills (number is +E.164). Views show numbers through
:meth:`ContactService.labels_for` (one query for a whole list) and
:meth:`ContactService.number_text`, never through storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.config.settings import Settings
from smsdesk.domain import phone
from smsdesk.domain.contacts import (
    Contact,
    ContactDraft,
    ContactPage,
    ContactQuery,
    DraftNumber,
    FieldDef,
    FieldKind,
    check_field_name,
)
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.domain.events import Changes
from smsdesk.services.bus import EventBus
from smsdesk.services.contact_drafts import as_of, check_draft, search_text
from smsdesk.storage.api import ContactStore
from smsdesk.storage.records import AuditEntry, ConversationRow, Erased, Removed, Saved

if TYPE_CHECKING:
    from smsdesk.services import contact_files

MAX_NAME = 80
# What add and remove return, for views that may not import storage themselves.
__all__ = ["ContactLabel", "ContactService", "Removed", "Saved"]


@dataclass(frozen=True, slots=True)
class ContactLabel:
    """How to show one number: ``number`` is +E.164, ``shown`` the number as people write it."""

    number: str
    shown: str
    name: str = ""

    @property
    def text(self) -> str:
        """The name when there is one, else the number ("Ann Lee" / "07911 123456")."""
        return self.name or self.shown

    @property
    def full(self) -> str:
        """Name and number together ("Ann Lee (07911 123456)"), for a tooltip or a summary."""
        return f"{self.name} ({self.shown})" if self.name else self.shown


class ContactService:
    def __init__(self, contacts: ContactStore, bus: EventBus, settings: Settings) -> None:
        self.contacts = contacts
        self.bus = bus
        self._settings = settings  # default_region: how numbers are written

    def _region(self) -> str:
        return self._settings.default_region

    def region(self) -> str:
        """The default country: how numbers written without a country code are read."""
        return self._region()

    def name_of(self, number: str) -> str:
        return self.names_for([number]).get(number, "")

    def names_for(self, numbers: Iterable[str]) -> dict[str, str]:
        """``{number: name}`` for those of ``numbers`` (+E.164) that have a contact name."""
        return self.contacts.names_for(numbers)

    def number_text(self, number: str) -> str:
        """``number`` as people write it: national in the default country, else international."""
        return phone.display(number, self._region())

    def number_texts(self, numbers: Iterable[str]) -> dict[str, str]:
        """:meth:`number_text` for many numbers at once (no database: rows that carry their
        contact's name already, like the inbox's, need only this)."""
        region = self._region()
        return {n: phone.display(n, region) for n in numbers}

    def labels_for(self, numbers: Iterable[str]) -> dict[str, ContactLabel]:
        """A :class:`ContactLabel` for each distinct number, names found in one batch."""
        wanted = list(dict.fromkeys(numbers))
        names = self.names_for(wanted)
        region = self._region()
        return {n: ContactLabel(n, phone.display(n, region), names.get(n, "")) for n in wanted}

    async def set_name(self, raw_number: str, name: str) -> str:
        """Give a number a name (an empty name clears it); returns the canonical number.

        Raises:
            InvalidNumber: the number is not usable.
        """
        number = phone.parse(raw_number, self._region()).e164
        clean = " ".join(name.split())[:MAX_NAME]
        await self.contacts.set_name(number, clean, AuditEntry("contact.name", number, {"name": clean}))
        self.bus.publish(Changes(contacts=True))
        return number

    # ---- the address book ----------------------------------------------------------------
    def search(self, query: ContactQuery, count: bool = True, quick: bool = False) -> ContactPage:
        """One page of contacts matching ``query`` (its text as a person types it).

        ``count``: also count every match (``total``); a list reading its next page skips it.
        ``quick``: past a thousand matches, say "at least" rather than count them all.
        """
        text = search_text(query.text, self._region())
        return self.contacts.search(replace(query, text=text), as_of(), count, quick)

    def get(self, contact_id: int) -> Contact:
        """Raises:
        NotFound: no such contact (removed meanwhile).
        """
        found = self.contacts.get(contact_id)
        if found is None:
            raise NotFound("That contact no longer exists. It may have been removed.")
        return found

    def by_number(self, raw_number: str) -> Contact | None:
        return self.contacts.by_number(phone.parse(raw_number, self._region()).e164)

    async def contact_for(self, number: str, name: str = "") -> int:
        """The id of the contact that has ``number``, made (named ``name``) when nobody has it."""
        found = self.by_number(number)
        if found is not None:
            return found.id
        return (await self.add(ContactDraft(name=name, numbers=(DraftNumber(number),)))).contact_id

    def numbers_for(self, text: str) -> list[str]:
        """Every number of the contact a person means by a name or a number, or the number itself
        when no contact has it (a conversation with someone not in the address book).

        Raises:
            InvalidInput: nobody has that name and it is not a phone number, or several have it.
        """
        try:
            c = self.find(text)
        except NotFound:
            number = phone.try_parse(text, self._region())
            if number is None:
                raise NotFound(f"No contact is called '{text}', and it is not a phone number.") from None
            return [number.e164]
        return [n.number for n in c.numbers] or [c.number]

    def find(self, text: str) -> Contact:
        """The one contact a person means by a name or a number (the CLI's argument).

        Raises:
            NotFound: nobody has that name or number.
            InvalidInput: several contacts have that name.
        """
        text = text.strip()
        if text.isdigit() and not text.startswith("0") and len(text) < 7:
            found = self.contacts.get(int(text))
            if found is not None:
                return found
        try:
            by_number = self.by_number(text)
        except InvalidInput:
            by_number = None
        if by_number is not None:
            return by_number
        named = self.contacts.by_name(text)
        if len(named) == 1:
            return named[0]
        if named:
            raise InvalidInput(f"{len(named)} contacts are called '{text}'. Use their number instead.")
        raise NotFound(f"No contact is called '{text}' or has that number.")

    def field_defs(self) -> list[FieldDef]:
        return self.contacts.field_defs()

    async def define_field(self, name: str, kind: FieldKind) -> None:
        clean = check_field_name(name)
        await self.contacts.define_field(clean, kind, AuditEntry("contact.field", clean, {"kind": str(kind)}))
        self.bus.publish(Changes(contacts=True))

    def tags(self, prefix: str = "", limit: int = 1000) -> list[tuple[str, int]]:
        """Tags in use (starting with ``prefix``, any case) and how many contacts have each."""
        return self.contacts.tags(prefix, limit)

    def ids_with_tag(self, tag: str) -> list[int]:
        """Every contact with ``tag``, by id (a send to ``#tag``)."""
        ids: list[int] = []
        while True:
            page = self.search(ContactQuery(tag=tag, offset=len(ids), limit=1000), count=False)
            ids += [c.id for c in page.rows]
            if len(page.rows) < 1000:
                return ids

    def conversations_of(self, contact_id: int) -> list[ConversationRow]:
        return self.contacts.conversations_of(contact_id)

    async def add(self, draft: ContactDraft) -> Saved:
        """Add a contact; one whose number a contact already has merges into that contact.

        Raises:
            InvalidInput: no usable number, or a field value that does not fit its field.
        """
        new = check_draft(draft, self.contacts.field_defs(), self._region())
        saved = await self.contacts.add(new, AuditEntry("contact.add"))
        self.bus.publish(Changes(contacts=True))
        return saved

    async def edit(self, contact_id: int, draft: ContactDraft) -> None:
        """Replace a contact's details.

        Raises:
            NotFound: the contact was removed meanwhile.
            InvalidInput: a bad value, or a number that is another contact's.
        """
        new = check_draft(draft, self.contacts.field_defs(), self._region())
        await self.contacts.edit(contact_id, new, AuditEntry("contact.edit", str(contact_id)))
        self.bus.publish(Changes(contacts=True))

    async def remove(self, ids: Sequence[int]) -> Removed:
        """Remove contacts (their messages stay); :meth:`restore` undoes it."""
        removed = await self.contacts.remove(list(ids), AuditEntry("contact.remove"))
        self.bus.publish(Changes(contacts=True))
        return removed

    async def restore(self, removed: Removed) -> list[int]:
        ids = await self.contacts.restore(removed, AuditEntry("contact.restore"))
        self.bus.publish(Changes(contacts=True))
        return ids

    async def merge(self, keep_id: int, other_id: int) -> Contact:
        """``other`` becomes part of ``keep`` (numbers, tags, fields, groups); returns ``keep``."""
        if keep_id == other_id:
            raise InvalidInput("Choose two different contacts to merge.")
        await self.contacts.merge(keep_id, other_id, AuditEntry("contact.merge", str(keep_id)))
        self.bus.publish(Changes(contacts=True))
        return self.get(keep_id)

    async def erase(self, contact_id: int, confirm_name: str) -> Erased:
        """Erase everything about a person (a data-protection request): the contact, their
        messages and conversations. Only a one-way hash of an opted-out number stays.

        Raises:
            InvalidInput: ``confirm_name`` is not the contact's name (or number when unnamed).
        """
        contact = self.get(contact_id)
        expected = contact.name or contact.number
        if " ".join(confirm_name.split()).casefold() != expected.casefold():
            raise InvalidInput(f"To erase this person, type their name exactly: {expected}")
        erased = await self.contacts.erase(contact_id, AuditEntry("contact.erase"))
        self.bus.publish(Changes(everything=True))
        return erased

    def export(self, path: Path, fmt: str, group_id: int | None = None) -> int:
        """Write the address book (or one group) as csv, xlsx or vcf; returns how many contacts.

        The export is recorded first; a team workspace that keeps exports to its owner refuses
        it there, before any file is written (``NotAllowed``)."""
        from smsdesk.services import contact_files  # the file machinery, on first use

        what = "the address book" if group_id is None else f"group {group_id}"
        self.contacts.note_export(AuditEntry("contacts.export", what, {"format": fmt}))
        return contact_files.export(self, path, fmt, group_id)

    async def export_file(self, path: Path, fmt: str, group_id: int | None = None) -> int:
        """:meth:`export` in a worker thread: 100,000 contacts take seconds to write (an
        ``.xlsx`` more), and the window must not wait for them."""
        import asyncio

        return await asyncio.to_thread(self.export, path, fmt, group_id)

    async def import_file(
        self, path: Path, group_id: int | None = None, progress: contact_files.Progress | None = None
    ) -> contact_files.ContactImport:
        """Add or merge every contact of a spreadsheet or ``.vcf``; each row or card accounted for.

        ``progress(phase, done, total)`` comes from a worker thread (see :mod:`contact_files`)."""
        from smsdesk.services import contact_files

        return await contact_files.import_file(self, path, group_id, progress)
