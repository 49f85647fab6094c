"""Who a To box means: numbers, contacts by name, and groups, as a person types them.

A To box holds parts separated by commas. A part with digits is a number (checked by the
send service as today); a part without digits is a contact's name (``Ann Lee``); a part
starting with ``@`` is a group (``@Saturday team``) and one starting with ``#`` everyone with
that tag (``#vip``). :func:`read` turns the parts into numbers, groups and tags, with a plain
reason for each part that names nobody, and :func:`suggest` offers completions for the part
being typed (groups and tags by name with their size, contacts by name or number).

A send that includes a group or a tag goes through the bulk path (personalised, opt-outs and
duplicates removed with their reasons, previewed, confirmed): :func:`bulk_recipients` gives
that path its recipients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from smsdesk.domain.contacts import Contact, ContactNumber, ContactQuery
from smsdesk.domain.errors import InvalidInput
from smsdesk.services.contacts import ContactService
from smsdesk.services.groups import GroupRecipient, GroupService

GROUP_MARK = "@"
TAG_MARK = "#"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One completion: ``shown`` in the list, ``insert`` into the To box."""

    shown: str
    insert: str


@dataclass(slots=True)
class Read:
    """The parts of a To box, understood.

    Attributes:
        numbers: each part that is a number as typed, and each named contact's number for
            texts (+E.164), in order.
        groups: (id, name, size) of each group named.
        tags: (tag, how many contacts have it) of each tag named.
        contact_ids: the contacts named, for a group send's merge fields.
        errors: a reason for each part that names nobody.
    """

    numbers: list[str] = field(default_factory=list)
    groups: list[tuple[int, str, int]] = field(default_factory=list)
    tags: list[tuple[str, int]] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def is_name(part: str) -> bool:
    """A part without a single digit is a name, never a number."""
    return bool(part.strip()) and not any(ch.isdigit() for ch in part)


def read(parts: Sequence[str], contacts: ContactService, groups: GroupService) -> Read:
    """Understand each part of a To box (see the module docstring)."""
    out = Read()
    for raw in parts:
        part = raw.strip()
        if not part:
            continue
        if part.startswith(GROUP_MARK):
            name = part[len(GROUP_MARK) :].strip()
            try:
                group = groups.by_name(name)
            except InvalidInput:
                out.errors.append(f"There is no group called '{name}'.")
                continue
            out.groups.append((group.id, group.name, group.size))
        elif part.startswith(TAG_MARK):
            wanted = part[len(TAG_MARK) :].strip()
            found = next(((t, n) for t, n in contacts.tags(wanted) if t.casefold() == wanted.casefold()), None)
            if found is None:
                out.errors.append(f"No contact has the tag '{wanted}'.")
                continue
            out.tags.append(found)
        elif is_name(part):
            try:
                contact = contacts.find(part)
            except InvalidInput as exc:
                out.errors.append(str(exc) if "contacts are called" in str(exc) else f"No contact is called '{part}'.")
                continue
            if not contact.number:
                out.errors.append(f"{contact.shown_name} has no number for texts.")
                continue
            out.numbers.append(contact.number)
            out.contact_ids.append(contact.id)
        else:
            out.numbers.append(part)
    return out


def suggest(text: str, contacts: ContactService, groups: GroupService, limit: int = 8) -> list[Suggestion]:
    """Completions for the part being typed: groups first (they are few), then contacts."""
    text = text.strip()
    if not text:
        return []
    marked = text[:1] in (GROUP_MARK, TAG_MARK)
    wanted = text[1:].strip() if marked else text
    found: list[Suggestion] = []
    if wanted and not text.startswith(TAG_MARK):
        for g in groups.find(wanted, limit):
            found.append(Suggestion(f"Group: {g.name} ({_people(g.size)})", f"{GROUP_MARK}{g.name}"))
    if wanted and not text.startswith(GROUP_MARK):
        tags = contacts.tags(wanted, limit - len(found))
        found += [Suggestion(f"Tag: {t} ({_people(n)})", f"{TAG_MARK}{t}") for t, n in tags]
    if marked or len(found) >= limit:
        return found[:limit]
    page = contacts.search(ContactQuery(text=text, limit=limit - len(found)), count=False)
    named = [c for c in page.rows if c.number]
    shown = contacts.number_texts(c.number for c in named)
    for c in named:
        number = shown.get(c.number, c.number)
        if c.shown_name and len(contacts.contacts.by_name(c.shown_name, 2)) == 1:
            found.append(Suggestion(f"{c.shown_name} · {number}", c.shown_name))
        else:  # no name, or a name two contacts share: the number says who
            found.append(Suggestion(f"{c.shown_name or number} · {number}", number))
    return found


def describe(part: str, contacts: ContactService, groups: GroupService) -> tuple[str, str]:
    """How one part reads on its own: (words to show, why it names nobody or ""). A number
    shows as typed (the send service checks it)."""
    found = read([part], contacts, groups)
    if found.errors:
        return part.strip(), found.errors[0]
    if found.groups:
        _gid, name, size = found.groups[0]
        return f"{GROUP_MARK}{name} · {_people(size)}", ""
    if found.tags:
        tag, n = found.tags[0]
        return f"{TAG_MARK}{tag} · {_people(n)}", ""
    return part.strip(), ""


def _people(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


def bulk_recipients(parsed: Read, contacts: ContactService, groups: GroupService) -> list[GroupRecipient]:
    """Everyone a send to ``parsed`` reaches, with their merge values, for the bulk path.

    Groups' members and the named contacts come from :meth:`GroupService.resolve` (opted-out
    people and duplicates are left out there); a typed number that is nobody's contact comes
    with no merge values. The bulk path checks every number again.
    """
    tagged = [cid for tag, _n in parsed.tags for cid in contacts.ids_with_tag(tag)]
    resolved = groups.resolve([g[0] for g in parsed.groups], [*tagged, *parsed.contact_ids])
    recipients = list(resolved.recipients)
    known = {r.number for r in recipients} | {left.contact.number for left in resolved.removed}
    named = {*parsed.contact_ids, *tagged}
    for raw in parsed.numbers:
        try:
            contact = contacts.by_number(raw)
        except InvalidInput:
            contact = None
        if contact is not None and (contact.id in named or contact.number in known):
            continue
        if contact is not None:
            recipients.append(GroupRecipient(contact, contact.number, contact.merge_values()))
            known.add(contact.number)
            continue
        stranger = Contact(0, "", numbers=(ContactNumber(raw, for_sms=True),))
        recipients.append(GroupRecipient(stranger, raw, {}))
    return recipients
