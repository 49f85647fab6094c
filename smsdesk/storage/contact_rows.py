"""Whole contacts read from their rows: the contact, its numbers, tags and opt-out state.

A page of contacts costs three queries per 500 (contacts joined with the opt-out list,
their numbers, their tags), whatever the page size, on any connection (a reader, or the
writer inside a transaction that is about to change them).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from smsdesk.domain.contacts import Consent, Contact, ContactNumber
from smsdesk.domain.optout import how_opted_out
from smsdesk.storage import erasure

CHUNK = 500

_SELECT = """
SELECT k.id, k.name, k.given_name, k.family_name, k.number, k.fields, k.notes, k.consent_at, k.consent_how,
       k.created_at, k.updated_at, o.source AS opt_source, o.created_at AS opt_at
FROM contacts k LEFT JOIN optouts o ON o.number = k.number
"""


def marks(n: int) -> str:
    return ",".join("?" * n)


def fields_of(text: str | None) -> dict[str, str]:
    """A contact's custom fields from their JSON text (anything unreadable counts as none)."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def load(conn: sqlite3.Connection, ids: Iterable[int]) -> list[Contact]:
    """The contacts of ``ids`` that exist, in the order asked."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    rows: dict[int, sqlite3.Row] = {}
    numbers: dict[int, list[tuple[str, str]]] = {}
    tags: dict[int, list[str]] = {}
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        q = marks(len(chunk))
        for r in conn.execute(_SELECT + f" WHERE k.id IN ({q})", chunk):
            rows[int(r["id"])] = r
        for r in conn.execute(
            f"SELECT contact_id, number, label FROM contact_numbers WHERE contact_id IN ({q})"
            " ORDER BY contact_id, position, number",
            chunk,
        ):
            numbers.setdefault(int(r[0]), []).append((str(r[1]), str(r[2])))
        for r in conn.execute(
            f"SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ({q}) ORDER BY contact_id, tag", chunk
        ):
            tags.setdefault(int(r[0]), []).append(str(r[1]))
    erased = erasure.erased_among(conn, [str(r["number"]) for r in rows.values() if r["opt_source"] is None])
    return [_contact(rows[cid], numbers.get(cid, []), tags.get(cid, []), erased) for cid in wanted if cid in rows]


def load_one(conn: sqlite3.Connection, contact_id: int) -> Contact | None:
    found = load(conn, [contact_id])
    return found[0] if found else None


def _contact(row: sqlite3.Row, numbers: list[tuple[str, str]], tags: list[str], erased: set[str]) -> Contact:
    sms = str(row["number"])
    own = [ContactNumber(sms, next((lab for n, lab in numbers if n == sms), ""), True)]
    own += [ContactNumber(n, lab, False) for n, lab in numbers if n != sms]
    opted: str | None = None
    if row["opt_source"] is not None:
        opted = how_opted_out(row["opt_source"], row["opt_at"])
    elif sms in erased:
        opted = erasure.HOW
    consent = Consent(str(row["consent_at"]), str(row["consent_how"] or "")) if row["consent_at"] else None
    return Contact(
        id=int(row["id"]),
        name=str(row["name"]),
        given_name=str(row["given_name"]),
        family_name=str(row["family_name"]),
        numbers=tuple(own),
        tags=tuple(tags),
        fields=fields_of(row["fields"]),
        notes=str(row["notes"]),
        consent=consent,
        opted_out=opted,
        created_at=str(row["created_at"]),
        updated_at=str(row["updated_at"]),
    )


def owners(conn: sqlite3.Connection, numbers: Sequence[str]) -> dict[str, int]:
    """``{number: contact id}`` for those of ``numbers`` that belong to a contact."""
    out: dict[str, int] = {}
    wanted = list(dict.fromkeys(numbers))
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        for r in conn.execute(
            f"SELECT number, contact_id FROM contact_numbers WHERE number IN ({marks(len(chunk))})", chunk
        ):
            out[str(r[0])] = int(r[1])
    return out
