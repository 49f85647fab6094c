"""Finding contacts: search as you type, filters, smart groups' rules, sorted pages.

Search text comes normalised by the contacts service (which knows the default country):

- ``+4479`` (a ``+`` and digits): numbers starting so, a range scan of ``contact_numbers``'
  primary key (what the person typed, national or international, as the start of +E.164);
- ``7911123`` (digits only): numbers containing them: the trigram index for 3 digits and
  more, else a scan of the numbers;
- anything else: words. Each word of 3 characters or more must occur in the name, a number,
  a custom field value or a tag (``contact_fts``, a trigram index: any part of a word
  matches, in any case); shorter words alone match the start of the name or family name
  through their indexes.

A smart group's rule (:class:`~smsdesk.domain.contacts.GroupFilter`) becomes one SQL
condition evaluated when asked, so its members are current. Custom fields are read with
``json_extract`` (a PostgreSQL store uses ``fields::jsonb ->> name``). Dates are compared
as ``YYYY-MM-DD`` text; yearly dates ("birthday is today") by their ``MM-DD``.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from typing import Any

from smsdesk.domain.contacts import (
    AsOf,
    ContactQuery,
    ContactSort,
    DateWithin,
    FieldContains,
    FieldEquals,
    GroupFilter,
    HasConsent,
    HasTag,
    IsOptedOut,
    RepliedWithin,
)
from smsdesk.domain.errors import NotFound

_TOP = "\U0010ffff"  # sorts after every character: "al" <= name < "al" + _TOP is "starts with al"
_WORD = re.compile(r"\w+", re.UNICODE)


class Where:
    """SQL conditions on ``contacts k`` and their parameters, built up in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, *params: Any) -> None:
        self.parts.append(sql)
        self.params += params

    @property
    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.parts) if self.parts else ""


def _path(name: str) -> str:
    # Field names never hold quotes or backslashes (domain.contacts.check_field_name).
    return '$."' + name + '"'


def _iso(moment: Any) -> str:
    return str(moment.isoformat(timespec="milliseconds"))


def add_filter(where: Where, flt: GroupFilter, asof: AsOf) -> None:
    """Add ``flt``'s conditions (all must hold) to ``where``."""
    for c in flt.conditions:
        match c:
            case HasTag(tag):
                where.add("k.id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)", tag)
            case FieldEquals(name, value) if not value:
                where.add("COALESCE(json_extract(k.fields, ?), '') = ''", _path(name))
            case FieldEquals(name, value):
                where.add("json_extract(k.fields, ?) = ? COLLATE NOCASE", _path(name), value)
            case FieldContains(name, value):
                where.add("instr(lower(json_extract(k.fields, ?)), lower(?)) > 0", _path(name), value)
            case DateWithin(name, start, end, False):
                first, last = asof.today + timedelta(days=start), asof.today + timedelta(days=end)
                where.add("json_extract(k.fields, ?) BETWEEN ? AND ?", _path(name), first.isoformat(), last.isoformat())
            case DateWithin(name, start, end, True):
                _yearly(where, name, start, end, asof)
            case RepliedWithin(days):
                since = _iso(asof.now - timedelta(days=days))
                # From the conversations active since then (their index), then their replies.
                where.add(
                    """k.id IN (SELECT n.contact_id FROM conversations c JOIN contact_numbers n ON n.number = c.remote
                       WHERE c.last_at >= ? AND EXISTS (SELECT 1 FROM messages m WHERE m.account_id = c.account_id
                         AND m.remote = c.remote AND m.direction = 'in' AND m.created_at >= ?))""",
                    since,
                    since,
                )
            case IsOptedOut(yes):
                where.add(f"k.number {'IN' if yes else 'NOT IN'} (SELECT number FROM optouts)")
            case HasConsent(yes):
                where.add(f"k.consent_at IS {'NOT NULL' if yes else 'NULL'}")


def _yearly(where: Where, name: str, start: int, end: int, asof: AsOf) -> None:
    value = "substr(json_extract(k.fields, ?), 6, 5)"
    if end - start >= 365:
        where.add("COALESCE(json_extract(k.fields, ?), '') != ''", _path(name))
        return
    first = (asof.today + timedelta(days=start)).strftime("%m-%d")
    last = (asof.today + timedelta(days=end)).strftime("%m-%d")
    if first <= last:
        where.add(f"{value} BETWEEN ? AND ?", _path(name), first, last)
    else:  # across the new year: late December or early January
        where.add(f"({value} >= ? OR {value} <= ?)", _path(name), first, _path(name), last)


def group_filter(conn: sqlite3.Connection, group_id: int) -> GroupFilter | None:
    """A group's rule (None for a plain list).

    Raises:
        NotFound: no such group.
    """
    row = conn.execute("SELECT filter FROM contact_groups WHERE id = ?", (group_id,)).fetchone()
    if row is None:
        raise NotFound(f"No group with id {group_id}.")
    return GroupFilter.from_json(row[0]) if row[0] else None


def add_group(where: Where, conn: sqlite3.Connection, group_id: int, asof: AsOf) -> None:
    flt = group_filter(conn, group_id)
    if flt is None:
        where.add("k.id IN (SELECT contact_id FROM contact_group_members WHERE group_id = ?)", group_id)
    else:
        add_filter(where, flt, asof)


def add_text(where: Where, text: str) -> None:
    """Search text as the module docstring says."""
    text = text.strip()
    if not text:
        return
    if text.startswith("+") and text[1:].isdigit():
        where.add(
            "k.id IN (SELECT contact_id FROM contact_numbers WHERE number >= ? AND number < ?)", text, text + _TOP
        )
        return
    if text.isdigit():
        if len(text) >= 3:
            where.add("k.id IN (SELECT rowid FROM contact_fts WHERE contact_fts MATCH ?)", f'numbers : "{text}"')
        else:
            where.add("k.id IN (SELECT contact_id FROM contact_numbers WHERE instr(number, ?) > 0)", text)
        return
    words = _WORD.findall(text)
    long = [w for w in words if len(w) >= 3]
    if long:
        where.add("k.id IN (SELECT rowid FROM contact_fts WHERE contact_fts MATCH ?)", " ".join(f'"{w}"' for w in long))
    elif words:
        start = " ".join(words)
        where.add(
            "(k.name >= ? COLLATE NOCASE AND k.name < ? COLLATE NOCASE"
            " OR k.family_name >= ? COLLATE NOCASE AND k.family_name < ? COLLATE NOCASE)",
            start,
            start + _TOP,
            start,
            start + _TOP,
        )
    else:
        where.add("0")  # only punctuation: nothing can match


_ORDER = {
    ContactSort.NAME: "k.name COLLATE NOCASE {d}, k.id {d}",
    ContactSort.NUMBER: "k.number {d}",
    ContactSort.CREATED: "k.id {d}",
    ContactSort.UPDATED: "k.updated_at {d}, k.id {d}",
}


def where_for(conn: sqlite3.Connection, q: ContactQuery, asof: AsOf) -> Where:
    where = Where()
    add_text(where, q.text)
    if q.group_id is not None:
        add_group(where, conn, q.group_id, asof)
    if q.tag:
        where.add("k.id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)", q.tag)
    if q.opted_out is not None:
        where.add(f"k.number {'IN' if q.opted_out else 'NOT IN'} (SELECT number FROM optouts)")
    return where


def page_ids(conn: sqlite3.Connection, q: ContactQuery, asof: AsOf, count: bool = True) -> tuple[list[int], int]:
    """The ids of one page, in order, and how many match in all (-1 when not ``count``)."""
    where = where_for(conn, q, asof)
    order = _ORDER[q.sort].format(d="DESC" if q.descending else "ASC")
    rows = conn.execute(
        f"SELECT k.id FROM contacts k{where.sql} ORDER BY {order} LIMIT ? OFFSET ?",
        (*where.params, max(q.limit, 0), max(q.offset, 0)),
    ).fetchall()
    total = -1
    if count:
        total = int(conn.execute(f"SELECT count(*) FROM contacts k{where.sql}", where.params).fetchone()[0])
    return [int(r[0]) for r in rows], total


def matching_ids(conn: sqlite3.Connection, flt: GroupFilter, asof: AsOf) -> list[int]:
    """Every contact a rule matches, by id."""
    where = Where()
    add_filter(where, flt, asof)
    return [int(r[0]) for r in conn.execute(f"SELECT k.id FROM contacts k{where.sql} ORDER BY k.id", where.params)]


def group_size(conn: sqlite3.Connection, group_id: int, flt: GroupFilter | None, asof: AsOf) -> int:
    if flt is None:
        row = conn.execute("SELECT count(*) FROM contact_group_members WHERE group_id = ?", (group_id,)).fetchone()
        return int(row[0])
    where = Where()
    add_filter(where, flt, asof)
    return int(conn.execute(f"SELECT count(*) FROM contacts k{where.sql}", where.params).fetchone()[0])
