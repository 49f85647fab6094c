"""A spreadsheet read by the Bulk wizard, saved into the address book and a group, sending nothing.

The wizard has already read the file and matched its columns (:class:`ColumnMapping`): one
column is the phone number, one may be the name, one the first name. Every other column the
person kept becomes a custom field on each contact, of the kind they chose for it (text,
number or date; a field the address book already has keeps its kind). Each row is checked
like a contact typed by hand; a row that fails is skipped with its reason, so the result
accounts for every row: ``added + merged + len(skipped)``. A number already in the address
book merges into that contact; two rows with one number become one contact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from smsdesk.domain.contacts import ContactDraft, DraftNumber, FieldDef, FieldKind
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.domain.events import Changes
from smsdesk.services.contact_drafts import check_draft
from smsdesk.services.contact_files import ContactImport, SkippedRow
from smsdesk.services.contacts import ContactService
from smsdesk.services.groups import GroupService
from smsdesk.services.imports.mapping import NAME, ColumnMapping
from smsdesk.services.imports.readers import Table
from smsdesk.storage.records import AuditEntry, NewContact

FIRST_NAME = "first_name"


def drafts(table: Table, mapping: ColumnMapping, kinds: Mapping[int, FieldKind]) -> list[tuple[int, ContactDraft]]:
    """One draft per row: (row number in the file, draft). ``kinds``: the columns kept as
    custom fields (by index) and their kind."""
    phone_col, name_col, given_col = _roles(mapping)
    kept = _kept(table, mapping, kinds)
    out: list[tuple[int, ContactDraft]] = []
    for pos, row in zip(table.row_numbers, table.rows, strict=False):
        out.append(
            (
                pos,
                ContactDraft(
                    name=row[name_col] if name_col is not None else "",
                    given_name=row[given_col] if given_col is not None else "",
                    numbers=(DraftNumber(row[phone_col]),),
                    sms=0,
                    fields={header: row[i] for i, header in kept if row[i].strip()},
                ),
            )
        )
    return out


def _roles(mapping: ColumnMapping) -> tuple[int, int | None, int | None]:
    """The columns of the number, the name and the first name (None: not in the file)."""
    if mapping.phone is None:
        raise InvalidInput("Choose the column that holds the phone numbers.")
    given = mapping.fields.get(FIRST_NAME) if FIRST_NAME not in mapping.first_word else None
    return mapping.phone, mapping.fields.get(NAME), given


def _kept(table: Table, mapping: ColumnMapping, kinds: Mapping[int, FieldKind]) -> list[tuple[int, str]]:
    """(index, header) of each column kept as a custom field."""
    roles = _roles(mapping)
    return [(i, table.headers[i]) for i in sorted(kinds) if i not in roles]


def _check(
    rows: list[tuple[int, ContactDraft]], defs: list[FieldDef], region: str
) -> tuple[list[NewContact], list[SkippedRow]]:
    checked: list[NewContact] = []
    skipped: list[SkippedRow] = []
    for pos, draft in rows:
        try:
            checked.append(check_draft(draft, defs, region))
        except InvalidInput as exc:
            skipped.append(SkippedRow(pos, str(exc)))
    return checked, skipped


async def save_table(
    contacts: ContactService,
    groups: GroupService,
    table: Table,
    mapping: ColumnMapping,
    kinds: Mapping[int, FieldKind],
    group_name: str,
    source: str,
) -> ContactImport:
    """Add (or merge) every row of ``table`` as a contact in the group ``group_name`` (made
    when no group has that name; a smart group cannot take members by hand).

    Raises:
        InvalidInput: no phone column, no group name, or the group is a smart one; nothing saved.
    """
    name = " ".join(group_name.split())
    if not name:
        raise InvalidInput("Give the group a name, so you can find these contacts again.")
    rows = drafts(table, mapping, kinds)
    known = contacts.field_defs()
    have = {d.name.casefold() for d in known}
    new_fields = [FieldDef(h, kinds[i]) for i, h in _kept(table, mapping, kinds) if h.casefold() not in have]
    checked, skipped = await asyncio.to_thread(_check, rows, [*known, *new_fields], mapping.country)
    try:
        group = groups.by_name(name)
    except NotFound:
        group_id = await groups.create(name)
    else:
        if group.smart:
            raise InvalidInput(f"'{group.name}' is a smart group: its members follow its rule. Choose another name.")
        group_id = group.id
    saved = await contacts.contacts.add_many(
        checked, group_id, new_fields, AuditEntry("contact.import", source, {"rows": len(rows), "group": name})
    )
    contacts.bus.publish(Changes(contacts=True))
    return ContactImport(
        added=sum(1 for s in saved if not s.merged),
        merged=sum(1 for s in saved if s.merged),
        skipped=skipped,
        group_id=group_id,
    )
