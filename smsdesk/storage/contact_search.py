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
from smsdesk.storage.dialect import is_postgres

BROAD = 1000  # more matches than this: read a page by walking the name index (page_ids)
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


def add_text(where: Where, text: str, broad: bool = False, postgres: bool = False) -> None:
    """Search text as the module docstring says.

    ``postgres``: the store has no ``contact_fts``; its trigram indexes serve ``LIKE``.

    ``broad``: the text matches many contacts, and the page is read by walking the name
    index: a number prefix is then checked per contact (an index lookup each) instead of
    listing every matching number first (all 100,000 for "07").
    """
    text = text.strip()
    if not text:
        return
    if text.startswith("+") and text[1:].isdigit():
        if broad:
            where.add(
                "EXISTS (SELECT 1 FROM contact_numbers n WHERE n.contact_id = k.id AND n.number >= ? AND n.number < ?)",
                text,
                text + _TOP,
            )
            return
        where.add(
            "k.id IN (SELECT contact_id FROM contact_numbers WHERE number >= ? AND number < ?)", text, text + _TOP
        )
        return
    if text.isdigit():
        if postgres:
            where.add("k.id IN (SELECT contact_id FROM contact_numbers WHERE number LIKE ?)", f"%{text}%")
        elif len(text) >= 3:
            where.add("k.id IN (SELECT rowid FROM contact_fts WHERE contact_fts MATCH ?)", f'numbers : "{text}"')
        else:
            where.add("k.id IN (SELECT contact_id FROM contact_numbers WHERE instr(number, ?) > 0)", text)
        return
    words = _WORD.findall(text)
    long = [w for w in words if len(w) >= 3]
    if long and postgres:
        for w in long:  # in the name, a number, a custom field's value or a tag, in any case
            like = "%" + w.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.add(
                "(lower(k.name) LIKE ? OR lower(k.fields) LIKE ?"
                " OR k.id IN (SELECT contact_id FROM contact_numbers WHERE number LIKE ?)"
                " OR k.id IN (SELECT contact_id FROM contact_tags WHERE lower(tag) LIKE ?))",
                like, like, like, like,
            )  # fmt: skip
    elif long:
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


def where_for(conn: sqlite3.Connection, q: ContactQuery, asof: AsOf, broad: bool = False) -> Where:
    where = Where()
    add_text(where, q.text, broad, is_postgres(conn))
    if q.group_id is not None:
        add_group(where, conn, q.group_id, asof)
    if q.tag:
        where.add("k.id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)", q.tag)
    if q.opted_out is not None:
        where.add(f"k.number {'IN' if q.opted_out else 'NOT IN'} (SELECT number FROM optouts)")
    return where


def page_ids(
    conn: sqlite3.Connection, q: ContactQuery, asof: AsOf, count: bool = True, quick: bool = False
) -> tuple[list[int], int, bool]:
    """The ids of one page, in order, how many match (-1 when not ``count``), and whether
    that is only a lower bound (``quick``: at most :data:`BROAD` + 1 are counted).

    A search sorted by name first counts its matches up to :data:`BROAD` (a few ms). Few
    matches are read and sorted; many are read by walking the name index until the page is
    full: sorting 25,000 matches to show 100 costs 15-40 ms at 100,000 contacts, the walk 3.
    """
    where = where_for(conn, q, asof)
    order = _ORDER[q.sort].format(d="DESC" if q.descending else "ASC")
    source = "contacts k"
    probe = -1
    text = q.text.strip()
    by_number = text.startswith("+") and text[1:].isdigit()
    # Only a list of matching ids (words, digits) or a number range gains from the walk; a
    # name prefix is already read in name order through its own index.
    walkable = by_number or (text.isdigit() and len(text) >= 3) or any(len(w) >= 3 for w in _WORD.findall(text))
    if walkable and q.sort == ContactSort.NAME:
        if by_number:  # counting the numbers' range alone is an index scan, however broad
            probe_sql = (
                "SELECT count(*) FROM (SELECT 1 FROM contact_numbers WHERE number >= ? AND number < ? LIMIT ?) probe"
            )
            probe = int(conn.execute(probe_sql, (text, text + _TOP, BROAD + 1)).fetchone()[0])
        else:
            probe_sql = f"SELECT count(*) FROM (SELECT 1 FROM contacts k{where.sql} LIMIT ?) probe"
            probe = int(conn.execute(probe_sql, (*where.params, BROAD + 1)).fetchone()[0])
        if probe > BROAD:
            where = where_for(conn, q, asof, broad=True)
            source = "contacts k" if is_postgres(conn) else "contacts k INDEXED BY contacts_name"
        elif by_number and len(where.parts) > 1:
            probe = -1  # other filters narrow it further: counted below
    rows = conn.execute(
        f"SELECT k.id FROM {source}{where.sql} ORDER BY {order} LIMIT ? OFFSET ?",
        (*where.params, max(q.limit, 0), max(q.offset, 0)),
    ).fetchall()
    total, at_least = -1, False
    if count:
        if 0 <= probe <= BROAD:
            total = probe  # counted in full already
        elif quick and probe > BROAD and len(where.parts) == 1:
            total, at_least = probe, True
        elif quick:  # a capped count: "more than 1,000" is all a person needs while typing
            capped_sql = f"SELECT count(*) FROM (SELECT 1 FROM contacts k{where.sql} LIMIT ?) probe"
            total = int(conn.execute(capped_sql, (*where.params, BROAD + 1)).fetchone()[0])
            at_least = total > BROAD
        else:
            total = int(conn.execute(f"SELECT count(*) FROM contacts k{where.sql}", where.params).fetchone()[0])
    return [int(r[0]) for r in rows], total, at_least


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
