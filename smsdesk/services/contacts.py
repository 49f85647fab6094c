"""Contacts: name a number, and say who a number is wherever one is shown.

Same ``contacts`` table bulk import fills (number is +E.164). Views show numbers through
:meth:`ContactService.labels_for` (one query for a whole list) and
:meth:`ContactService.number_text`, never through storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smsdesk.config.settings import Settings
from smsdesk.domain import phone
from smsdesk.domain.events import Changes
from smsdesk.services.bus import EventBus
from smsdesk.storage.api import ContactStore
from smsdesk.storage.records import AuditEntry

MAX_NAME = 80


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
