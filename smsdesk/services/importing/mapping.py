"""Which column is the phone, which the name, and which merge field each column fills.

Guesses come from header names first (plain words in several languages, and the headers of
Google Contacts and Outlook CSV exports), then from content (the column whose values look
most like phone numbers). Every column is also a merge field under its own name
(``First Name`` -> ``{{first_name}}``); a person may map any column to any field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.template import field_key
from smsdesk.services.importing.readers import Table, looks_like_data

PHONE = "phone"
NAME = "name"

# Best first. Outlook: "Mobile Phone", "Primary Phone", "Business Phone", "Home Phone".
# Google: "Phone 1 - Value" beside "Phone 1 - Type" (the type decides which is mobile).
_PHONE_WORDS = (
    "mobile", "mobile phone", "mobile number", "cell", "cell phone", "cellphone", "mobil", "handy",
    "mobilnummer", "portable", "móvil", "movil", "celular", "gsm", "msisdn", "sms",
    "phone", "phone number", "telephone", "tel", "telefon", "telefono", "téléphone", "number",
    "primary phone", "business phone", "home phone", "other phone", "contact number",
)
_NAME_WORDS = (
    "name", "full name", "display name", "contact name", "contact", "customer", "client",
    "first name", "given name", "firstname", "forename", "vorname", "prénom", "prenom", "nombre",
    "first",
)
_FIRST_NAME_WORDS = ("first name", "given name", "firstname", "forename", "vorname", "prénom", "prenom", "first")
_GOOGLE_PHONE = re.compile(r"^phone (\d+) - value$")


def _norm(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lower().replace("_", " "))


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
    normed = [_norm(h) for h in headers]
    for w in words:
        if w in normed:
            return normed.index(w)
    return None


def _google_mobile(table: Table) -> int | None:
    """Google exports pair "Phone N - Type" with "Phone N - Value"; prefer the Mobile one."""
    normed = [_norm(h) for h in table.headers]
    values = [(i, m.group(1)) for i, h in enumerate(normed) if (m := _GOOGLE_PHONE.match(h))]
    if not values:
        return None
    best, best_hits = values[0][0], -1
    for idx, n in values:
        tcol = normed.index(f"phone {n} - type") if f"phone {n} - type" in normed else None
        hits = 0
        if tcol is not None:
            hits = sum(1 for r in table.rows[:200] if "mobile" in r[tcol].lower())
        if hits > best_hits:
            best, best_hits = idx, hits
    return best


def _by_content(table: Table) -> int | None:
    sample = table.rows[:200]
    if not sample:
        return None
    scores = [sum(1 for r in sample if looks_like_data([r[j]])) for j in range(len(table.headers))]
    best = max(range(len(scores)), key=lambda j: scores[j])
    return best if scores[best] * 2 >= len(sample) else None


def guess(table: Table, country: str = "GB") -> ColumnMapping:
    """The mapping a person would most likely choose for ``table``."""
    phone = _google_mobile(table)
    if phone is None and table.has_header:
        phone = _find(table.headers, _PHONE_WORDS)
        ambiguous = phone is not None and _norm(table.headers[phone]) in ("number", "sms", "contact number")
        if ambiguous and table.rows and not any(looks_like_data([r[phone]]) for r in table.rows[:50]):  # type: ignore[index]
            phone = None  # a "Number" column of order numbers, say
    if phone is None:
        phone = _by_content(table)
    fields: dict[str, int] = {}
    for i, h in enumerate(table.headers):
        key = field_key(h)
        if key and key not in fields:
            fields[key] = i
    if phone is not None:
        fields[PHONE] = phone
    name = _find(table.headers, _NAME_WORDS) if table.has_header else None
    if name is None and phone is not None:
        # No named column: the first mostly-text column other than the phone.
        for j in range(len(table.headers)):
            if j != phone and table.rows and sum(1 for r in table.rows[:50] if r[j].strip() and not looks_like_data([r[j]])) * 2 >= min(len(table.rows), 50):
                name = j
                break
    if name is not None:
        fields[NAME] = name
    first = _find(table.headers, _FIRST_NAME_WORDS) if table.has_header else None
    if first is not None:
        fields.setdefault("first_name", first)
    first_word: set[str] = set()
    if first is None and name is not None and "first_name" not in fields:
        fields["first_name"] = name
        first_word.add("first_name")
    return ColumnMapping(phone, fields, (country or "GB").upper(), first_word)


def column_index(table: Table, column: str) -> int:
    """A column by header (case-insensitive), by 1-based number, or by letter (A, B, ...)."""
    normed = [_norm(h) for h in table.headers]
    want = _norm(column)
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
