"""Contacts: name a number. Same ``contacts`` table bulk import fills (number is +E.164)."""

from __future__ import annotations

from collections.abc import Callable

from smsdesk.domain import phone
from smsdesk.domain.events import Changes
from smsdesk.services.bus import EventBus
from smsdesk.storage import conversations as conv_store
from smsdesk.storage.accounts import audit
from smsdesk.storage.db import Database

MAX_NAME = 80


class ContactService:
    def __init__(self, db: Database, bus: EventBus, default_region: Callable[[], str]) -> None:
        self.db = db
        self.bus = bus
        self._region = default_region

    def name_of(self, number: str) -> str:
        row = self.db.query_one("SELECT name FROM contacts WHERE number = ?", (number,))
        return str(row["name"]) if row else ""

    async def set_name(self, raw_number: str, name: str) -> str:
        """Give a number a name (an empty name clears it); returns the canonical number.

        Raises:
            InvalidNumber: the number is not usable.
        """
        number = phone.parse(raw_number, self._region()).e164
        clean = " ".join(name.split())[:MAX_NAME]

        def write(conn: object) -> None:
            conv_store.set_contact_name(conn, number, clean)  # type: ignore[arg-type]
            audit(conn, "contact.name", number, name=clean)  # type: ignore[arg-type]

        await self.db.write(write)
        self.bus.publish(Changes(contacts=True))
        return number
