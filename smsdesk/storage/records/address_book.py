"""Records of the address book: contacts, groups and saved message templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # annotations only
    from smsdesk.domain.contacts import Consent, Contact, ContactNumber

__all__ = ["Erased", "NewContact", "Removed", "Saved", "SavedTemplate", "ScheduleUse"]


# ---- contacts and groups ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewContact:
    """A checked contact to store: numbers are +E.164 (one ``for_sms``), field values are
    normalised to their field's kind and keyed by the defined field's name."""

    name: str = ""
    given_name: str = ""
    family_name: str = ""
    numbers: tuple[ContactNumber, ...] = ()
    tags: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    consent: Consent | None = None

    @property
    def sms(self) -> str:
        return next((n.number for n in self.numbers if n.for_sms), self.numbers[0].number if self.numbers else "")


class Saved(NamedTuple):
    """Where a contact went: a new one, or ``merged`` into the contact that had one of its numbers."""

    contact_id: int
    merged: bool


@dataclass(frozen=True, slots=True)
class Removed:
    """Contacts as they were just before they were removed, for undo (their messages stay)."""

    contacts: tuple[Contact, ...]
    memberships: tuple[tuple[int, int], ...] = ()  # (group id, contact id)

    @property
    def count(self) -> int:
        return len(self.contacts)


@dataclass(frozen=True, slots=True)
class Erased:
    """What erasing a person deleted."""

    numbers: int
    messages: int
    conversations: int
    kept_opt_out: bool  # a salted hash stays so the opted-out person is never texted again


class ScheduleUse(NamedTuple):
    """A scheduled send that takes a group's members at each run."""

    id: int
    body: str
    next_run_utc: str | None
    zone: str
    state: str
    location: str


# ---- saved message templates -----------------------------------------------------------------
class SavedTemplate(NamedTuple):
    """A message kept to reuse, with its merge fields written as ``{{field|fallback}}``."""

    id: int
    name: str
    category: str
    body: str
    created_at: str
    updated_at: str
