"""Which column is the phone, which the name, and which merge field each column fills.

The phone column is the one that holds phone numbers: among columns named like one (plain
words in several languages, the headers of Google Contacts and Outlook CSV exports), the one
with the most values that parse as mobile numbers in the chosen country; without such a
column (or a header), the column with the most such values. A date or an order number is
never a phone number however many digits it has. Every column is also a merge field under its
own name (``First Name`` -> ``{{first_name}}``); a person may map any column to any field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.template import field_key
from smsdesk.services.imports.cells import TEXT, is_phone, is_phone_shaped, kind
from smsdesk.services.imports.readers import Table
from smsdesk.services.imports.words import (
    FIRST_NAME_WORDS,
    GOOGLE_PHONE,
    NAME_WORDS,
    PHONE_WORDS,
    norm,
)

PHONE = "phone"
NAME = "name"

_SAMPLE = 200


@dataclass(slots=True)
class ColumnMapping:
    """Where each field comes from.

    Attributes:
        phone: the phone column's index (None until chosen).
        fields: merge-field key -> column index; always includes every column under its own
            name, plus ``name`` / ``first_name`` aliases when guessed.
        country: ISO region for numbers written without a country code.
        first_word: field keys that take only the first word of their column (``first_name``
            guessed from a full-name column: "Chloé Martin" -> "Chloé").
    """

    phone: int | None
    fields: dict[str, int] = field(default_factory=dict)
    country: str = "GB"
    first_word: set[str] = field(default_factory=set)

    @property
    def name(self) -> int | None:
        return self.fields.get(NAME)

    def values(self, row: list[str]) -> dict[str, str]:
        """The merge values of one row, keyed by field key."""
        values = {k: row[i] for k, i in self.fields.items() if i < len(row)}
        for k in self.first_word:
            if k in values:
                words = values[k].split()
                values[k] = words[0] if words else ""
        return values


def _find(headers: list[str], words: tuple[str, ...]) -> int | None:
    normed = [norm(h) for h in headers]
    for w in words:
        if w in normed:
            return normed.index(w)
    return None


def _named_phone_columns(table: Table) -> list[int]:
    """Columns named like a phone column, best name first.

    Google exports pair "Phone N - Type" with "Phone N - Value": the ones typed Mobile first.
    """
    normed = [norm(h) for h in table.headers]
    google: list[tuple[int, int]] = []
    for i, h in enumerate(normed):
        m = GOOGLE_PHONE.match(h)
        if m is None:
            continue
        # "Phone 1 - Type" in older exports, "Phone 1 - Label" in newer ones.
        tcol = next(
            (normed.index(t) for t in (f"phone {m.group(1)} - type", f"phone {m.group(1)} - label") if t in normed),
            None,
        )
        hits = sum(1 for r in table.rows[:_SAMPLE] if "mobile" in r[tcol].lower()) if tcol is not None else 0
        google.append((-hits, i))
    named = [i for _, i in sorted(google)]
    for w in PHONE_WORDS:
        named += [i for i, h in enumerate(normed) if h == w and i not in named]
    return named


def _phone_count(table: Table, column: int, region: str | None) -> int:
    return sum(1 for r in table.rows[:_SAMPLE] if is_phone(r[column], region))


def choose_phone(table: Table, country: str | None) -> int | None:
    """The column that holds the phone numbers (None when no column does).

    Names decide between columns that hold numbers, never for a column that holds none (a
    Google export's empty "Phone 1 - Value" beside a filled "phone"); without a named column
    that holds numbers, the column with the most of them, if at least half its rows have one.
    When nothing parses (numbers of another country than the chosen one, say), a named
    column, else the column of phone-shaped values (never dates): the check then says why each
    row fails and the person can change the country.
    """
    region = (country or "").upper() or None
    counts = [_phone_count(table, j, region) for j in range(len(table.headers))]
    named = _named_phone_columns(table) if table.has_header else []
    if named:
        best = max(named, key=lambda j: (counts[j], -named.index(j)))
        if counts[best]:
            return best
    if counts:
        best = max(range(len(counts)), key=lambda j: (counts[j], -j))
        filled = sum(1 for r in table.rows[:_SAMPLE] if r[best].strip())
        if counts[best] and counts[best] * 2 >= filled:
            return best
    if named:
        return named[0]
    shaped = [sum(1 for r in table.rows[:_SAMPLE] if is_phone_shaped(r[j])) for j in range(len(table.headers))]
    if shaped:
        best = max(range(len(shaped)), key=lambda j: (shaped[j], -j))
        if shaped[best] * 2 >= min(len(table.rows), _SAMPLE) > 0:
            return best
    return None


def guess(table: Table, country: str = "GB") -> ColumnMapping:
    """The mapping a person would most likely choose for ``table``."""
    phone = choose_phone(table, country)
    fields: dict[str, int] = {}
    for i, h in enumerate(table.headers):
        key = field_key(h)
        if key and key not in fields:
            fields[key] = i
    if phone is not None:
        fields[PHONE] = phone
    name = _find(table.headers, NAME_WORDS) if table.has_header else None
    if name is None and phone is not None:
        # No named column: the first mostly-text column other than the phone.
        sample = table.rows[:50]
        for j in range(len(table.headers)):
            if j != phone and sample and sum(1 for r in sample if kind(r[j], country) == TEXT) * 2 >= len(sample):
                name = j
                break
    if name is not None:
        fields[NAME] = name
    first = _find(table.headers, FIRST_NAME_WORDS) if table.has_header else None
    if first is not None:
        fields.setdefault("first_name", first)
    first_word: set[str] = set()
    if first is None and name is not None and "first_name" not in fields:
        fields["first_name"] = name
        first_word.add("first_name")
    return ColumnMapping(phone, fields, (country or "GB").upper(), first_word)


def column_index(table: Table, column: str) -> int:
    """A column by header (case-insensitive), by 1-based number, or by letter (A, B, ...)."""
    normed = [norm(h) for h in table.headers]
    want = norm(column)
    if want in normed:
        return normed.index(want)
    keys = [field_key(h) for h in table.headers]
    if field_key(column) in keys:
        return keys.index(field_key(column))
    if column.isdigit() and 1 <= int(column) <= len(table.headers):
        return int(column) - 1
    if column.isalpha() and len(column) == 1 and ord(column.upper()) - 65 < len(table.headers):
        return ord(column.upper()) - 65
    raise InvalidInput(f"No column '{column}'. Columns: {', '.join(table.headers)}.")


def apply_overrides(mapping: ColumnMapping, table: Table, pairs: list[str]) -> ColumnMapping:
    """Apply ``COLUMN=FIELD`` choices (the CLI's ``--map``) on top of the guesses."""
    for pair in pairs:
        if "=" not in pair:
            raise InvalidInput(f"--map '{pair}' must be COLUMN=FIELD, e.g. 'Mobile=phone'.")
        column, fld = (s.strip() for s in pair.rsplit("=", 1))
        idx = column_index(table, column)
        key = field_key(fld)
        if not key:
            raise InvalidInput(f"--map '{pair}' names no field.")
        mapping.fields[key] = idx
        mapping.first_word.discard(key)
        if key == PHONE:
            mapping.phone = idx
    return mapping
