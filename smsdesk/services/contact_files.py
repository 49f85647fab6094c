"""The address book to and from files: export as CSV, ``.xlsx`` or vCard; import a
spreadsheet or a ``.vcf`` (into a group when asked), every row or card accounted for.

Numbers go into ``.xlsx`` as text cells so a spreadsheet keeps their ``+``. Spreadsheet
columns are mapped as the bulk import guesses them (name, number); every other column is kept
as a text custom field under its header.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.domain.contacts import Consent, Contact, ContactDraft, DraftNumber, FieldDef, FieldKind
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.events import Changes
from smsdesk.services.contact_drafts import as_of, check_draft
from smsdesk.services.imports import mapping, readers, vcard
from smsdesk.services.imports.encodings import decode
from smsdesk.storage.records import AuditEntry, NewContact

if TYPE_CHECKING:
    from smsdesk.services.contacts import ContactService

log = logging.getLogger(__name__)
FORMATS = ("csv", "xlsx", "vcf")
PARALLEL_CARDS = 5000  # from this many cards a .vcf is read by worker processes
Progress = Callable[[str, int, int], None]  # (phase in words, done, total)
_FIXED = ("name", "given_name", "family_name", "number", "other_numbers", "tags", "notes", "consent_at", "consent_how")


@dataclass(frozen=True, slots=True)
class SkippedRow:
    position: int  # row number (after the header) or card number in the file
    reason: str


@dataclass(slots=True)
class ContactImport:
    """What an import did: ``added`` + ``merged`` + ``len(skipped)`` is every row or card."""

    added: int = 0
    merged: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    group_id: int | None = None


def _rows(contacts: Iterator[Contact], defs: list[FieldDef]) -> Iterator[list[str]]:
    for c in contacts:
        others = [n.number for n in c.numbers if n.number != c.number]
        yield [
            c.name,
            c.given_name,
            c.family_name,
            c.number,
            " ".join(others),
            ", ".join(c.tags),
            c.notes,
            c.consent.at if c.consent else "",
            c.consent.how if c.consent else "",
            *(c.fields.get(d.name, "") for d in defs),
        ]


def _vcard_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")


def _vcard(c: Contact) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{_vcard_text(c.shown_name)}"]
    lines.append(f"N:{_vcard_text(c.family_name)};{_vcard_text(c.given_name)};;;")
    for n in c.numbers:
        kinds = ["CELL" if not n.label else _vcard_text(n.label).upper()] + (["PREF"] if n.for_sms else [])
        lines.append(f"TEL;TYPE={','.join(kinds)}:{n.number}")
    if c.tags:
        lines.append("CATEGORIES:" + ",".join(_vcard_text(t) for t in c.tags))
    if c.notes:
        lines.append(f"NOTE:{_vcard_text(c.notes)}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def export(contacts: ContactService, path: Path, fmt: str, group_id: int | None = None) -> int:
    """Write the address book (or one group) to ``path``; returns how many contacts.

    Raises:
        InvalidInput: an unknown format, or the file cannot be written (with the reason).
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"Export as csv, xlsx or vcf, not '{fmt}'.")
    defs = contacts.field_defs()
    header = [*_FIXED, *(d.name for d in defs)]
    stream = contacts.contacts.stream(group_id, as_of())
    count = 0
    try:
        if fmt == "csv":
            # utf-8-sig: Excel opens the file with its accents intact.
            with path.open("w", newline="", encoding="utf-8-sig") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                for row in _rows(stream, defs):
                    w.writerow(row)
                    count += 1
        elif fmt == "xlsx":
            import openpyxl

            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet("Contacts")
            ws.append(header)
            for row in _rows(stream, defs):
                # Plain str cells are stored as text: "+447911123456" keeps its "+".
                ws.append(row)
                count += 1
            wb.save(path)
        else:
            with path.open("w", newline="", encoding="utf-8") as fh:
                for c in stream:
                    fh.write(_vcard(c))
                    count += 1
    except OSError as exc:
        raise InvalidInput(f"Could not write {path}: {exc.strerror or exc}. Choose another place.") from exc
    return count


def _card_draft(card: vcard.Card) -> ContactDraft:
    pref = next((i for i, p in enumerate(card.phones) if p.preferred), None)
    numbers = tuple(
        DraftNumber(p.raw, next((t for t in p.types if t not in ("PREF", "VOICE")), "")) for p in card.phones
    )
    return ContactDraft(
        name=card.name,
        given_name=card.given_name,
        family_name=card.family_name,
        numbers=numbers,
        sms=pref,
        tags=card.categories,
        notes=card.note,
    )


def _read(
    path: Path, region: str, known_defs: list[FieldDef], progress: Progress | None, data: bytes
) -> tuple[list[tuple[int, ContactDraft]], list[SkippedRow], list[FieldDef]]:
    """The file's rows or cards as drafts (off the event loop: a big file takes seconds)."""
    drafts: list[tuple[int, ContactDraft]] = []
    skipped: list[SkippedRow] = []
    new_fields: list[FieldDef] = []
    if vcard.looks_like_vcard(data):
        total = data.upper().count(b"BEGIN:VCARD")
        cards = vcard.read_vcards(data, region, (lambda n: progress("Reading cards", n, total)) if progress else None)
        skipped.extend(SkippedRow(s.position, s.reason) for s in cards.skipped)
        drafts = [(c.position, _card_draft(c)) for c in cards.cards]
        return drafts, skipped, new_fields
    table = readers.read_file(path, country=region)
    guessed = mapping.guess(table, region or "GB")
    if guessed.phone is None:
        raise InvalidInput(f"{path.name} has no column of phone numbers. Add one and import it again.")
    # Columns this module's export writes are read back as what they were.
    ours = {h: i for i, h in enumerate(table.headers) if h in _FIXED} if table.has_header else {}
    skip = {guessed.phone, guessed.name, *ours.values()}
    extra = [(i, h) for i, h in enumerate(table.headers) if i not in skip]
    known = {d.name.casefold() for d in known_defs}
    new_fields = [FieldDef(h, FieldKind.TEXT) for _i, h in extra if h.casefold() not in known]
    for pos, row in zip(table.row_numbers, table.rows, strict=False):

        def cell(key: str, row: list[str] = row) -> str:
            return row[ours[key]].strip() if key in ours else ""

        name = row[guessed.name] if guessed.name is not None else ""
        fields = {h: row[i] for i, h in extra if row[i].strip()}
        numbers = (DraftNumber(row[guessed.phone]), *(DraftNumber(n) for n in cell("other_numbers").split()))
        consent = Consent(cell("consent_at"), cell("consent_how")) if cell("consent_at") else None
        draft = ContactDraft(
            name=name,
            given_name=cell("given_name"),
            family_name=cell("family_name"),
            numbers=numbers,
            sms=0,
            tags=tuple(t.strip() for t in cell("tags").split(",") if t.strip()),
            fields=fields,
            notes=cell("notes"),
            consent=consent,
        )
        drafts.append((pos, draft))
    return drafts, skipped, new_fields


def _check_cards(
    text: str, encoding: str, first: int, region: str, defs: list[FieldDef]
) -> tuple[list[NewContact], list[SkippedRow], int]:
    """Read and check one piece of a ``.vcf`` (in a worker process): the cards kept, those
    skipped with their reason, and how many cards were read (the broken ones not counted)."""
    cards = vcard.read_text(text, encoding, first)
    skipped = [SkippedRow(s.position, s.reason) for s in cards.skipped]
    checked: list[NewContact] = []
    for c in cards.cards:
        try:
            checked.append(check_draft(_card_draft(c), defs, region))
        except InvalidInput as exc:
            skipped.append(SkippedRow(c.position, str(exc)))
    return checked, skipped, len(cards.cards)


def _prepare_cards(
    data: bytes, region: str, known: list[FieldDef], progress: Progress | None, workers: int
) -> tuple[list[NewContact], list[SkippedRow], list[FieldDef], int]:
    """A big ``.vcf`` read and checked in pieces by ``workers`` processes, kept in file order
    (a later card with an earlier one's number merges into it, as when read in one go).

    Reading a card (vobject) and checking its numbers is pure Python: threads would take
    turns on one core, processes use them all. Spawned, never forked (the app has threads).
    """
    decoded = decode(data, region)
    pieces = vcard.chunks(decoded.text, workers * 4)  # small pieces: progress moves, cores stay busy
    total = data.upper().count(b"BEGIN:VCARD")
    checked: list[NewContact] = []
    skipped: list[SkippedRow] = []
    cards = 0  # read, as the one-go path counts them
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_check_cards, text, decoded.encoding, first, region, known) for first, text in pieces]
        for future in futures:  # in file order; the others keep working meanwhile
            kept, left, n = future.result()
            checked += kept
            skipped += left
            cards += n
            if progress is not None:
                done = len(checked) + len(skipped)
                progress("Reading cards", done, max(total, done))
    return checked, skipped, [], cards


def _prepare(
    path: Path, region: str, known: list[FieldDef], progress: Progress | None, workers: int | None = None
) -> tuple[list[NewContact], list[SkippedRow], list[FieldDef], int]:
    """Read and check every row or card (in a worker thread: 100,000 cards take seconds).

    A ``.vcf`` of :data:`PARALLEL_CARDS` cards or more is read by worker processes, one per
    core (``workers``, at most 4); if they cannot start, it is read here as a smaller one is.
    """
    if not path.is_file():
        raise InvalidInput(f"No file at {path}.")
    data = path.read_bytes()
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if workers > 1 and vcard.looks_like_vcard(data) and data.upper().count(b"BEGIN:VCARD") >= PARALLEL_CARDS:
        try:
            return _prepare_cards(data, region, known, progress, workers)
        except (BrokenProcessPool, OSError) as exc:
            log.warning("reading %s in worker processes failed (%s); reading it here", path.name, exc)
    drafts, skipped, new_fields = _read(path, region, known, progress, data)
    defs = [*known, *new_fields]
    checked: list[NewContact] = []
    for i, (pos, draft) in enumerate(drafts, start=1):
        try:
            checked.append(check_draft(draft, defs, region))
        except InvalidInput as exc:
            skipped.append(SkippedRow(pos, str(exc)))
        if progress is not None and i % 2000 == 0:
            progress("Checking numbers", i, len(drafts))
    return checked, skipped, new_fields, len(drafts)


async def import_file(
    contacts: ContactService, path: Path, group_id: int | None = None, progress: Progress | None = None
) -> ContactImport:
    """Add (or merge) every contact in a spreadsheet or ``.vcf`` file, into ``group_id`` when given.

    ``progress(phase, done, total)`` is called from a worker thread as the file is read and
    checked, then once before saving ("Saving", 0, n).

    Raises:
        InvalidInput: the file cannot be read at all (missing, empty, not a table or cards).
    """
    region = contacts.region()
    result = ContactImport(group_id=group_id)
    known = contacts.field_defs()
    checked, skipped, new_fields, rows = await asyncio.to_thread(_prepare, path, region, known, progress)
    result.skipped.extend(skipped)
    if progress is not None:
        progress("Saving", 0, len(checked))
    saved = await contacts.contacts.add_many(
        checked, group_id, new_fields, AuditEntry("contact.import", path.name, {"rows": rows})
    )
    result.added = sum(1 for s in saved if not s.merged)
    result.merged = sum(1 for s in saved if s.merged)
    result.skipped.sort(key=lambda s: s.position)
    contacts.bus.publish(Changes(contacts=True))
    return result
