"""The statements of the SQLite repositories, spoken to PostgreSQL.

The repositories write portable SQL with SQLite's spelling. Rather than keep a second copy of
every statement, the PostgreSQL connection rewrites each one once (cached) with these rules:

- placeholders: ``?`` becomes ``%s`` and ``:name`` becomes ``%(name)s`` (a literal ``%``
  is doubled); text inside quotes is never touched;
- ``INSERT OR IGNORE INTO`` becomes ``INSERT INTO ... ON CONFLICT DO NOTHING``;
- ``a IS b`` / ``a IS NOT b`` between values become ``IS NOT DISTINCT FROM`` /
  ``IS DISTINCT FROM`` (``IS [NOT] NULL`` stays);
- a unary ``+`` before a column (SQLite's way to keep an index out of a plan) is dropped;
- ``CROSS JOIN t ON ...`` (SQLite's way to fix the join order) is a plain ``JOIN``;
- ``COLLATE NOCASE`` is dropped: the PostgreSQL schema declares those columns ``citext``,
  which compares without case everywhere;
- an ``INSERT`` into a table with an ``id`` key gains ``RETURNING id``, so the cursor's
  ``lastrowid`` means what it means on SQLite.

What cannot be rewritten this way (full-text search, ``rowid``, pragmas, ids picked by
``max(id) + 1``) is a branch in the repository itself, chosen with :func:`is_postgres`.
SQLite's scalar functions the statements use (``instr``, ``json_extract``, ``julianday``,
``total``) exist in the PostgreSQL schema as small SQL functions (``pg/schema.py``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

#: Tables whose key is an integer ``id`` (an ``INSERT`` into one returns it as ``lastrowid``).
ID_TABLES = frozenset(
    {
        "accounts", "contacts", "contact_groups", "messages", "message_transitions", "conversations",
        "pending_receipts", "webhook_events", "webhook_log", "audit_log", "schedules", "schedule_runs",
        "bulk_runs", "templates", "autoreply_rules", "change_log", "conversation_activity",
        "relay_requests",
    }
)  # fmt: skip

_TOKENS = re.compile(
    r"""
    (?P<quoted>'(?:[^']|'')*'|"(?:[^"]|"")*")   # a string literal or a quoted name: kept as is
    | (?P<named>(?<!:):[A-Za-z_][A-Za-z0-9_]*)   # :name (not the second colon of ::type)
    | (?P<qmark>\?)
    | (?P<percent>%)
    """,
    re.VERBOSE,
)
_INSERT_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_NOCASE = re.compile(r"\s+COLLATE\s+NOCASE\b", re.IGNORECASE)
_IS_NOT = re.compile(r"\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
_IS = re.compile(r"\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
_UNARY_PLUS = re.compile(r"(?<=[\s(,=])\+(?=[A-Za-z_])")
_CROSS_JOIN_ON = re.compile(r"\bCROSS\s+JOIN\s+(\w+(?:\s+(?!ON\b)\w+)?)\s+ON\b", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_ON_CONFLICT = re.compile(r"\bON\s+CONFLICT\b", re.IGNORECASE)


def _placeholders(sql: str) -> str:
    def swap(match: re.Match[str]) -> str:
        if match.group("quoted"):
            return match.group(0)
        if match.group("named"):
            return f"%({match.group('named')[1:]})s"
        if match.group("qmark"):
            return "%s"
        return "%%"

    return _TOKENS.sub(swap, sql)


def _outside_quotes(sql: str, fn: Any) -> str:
    """Apply ``fn`` to the parts of ``sql`` outside string literals."""
    parts = re.split(r"('(?:[^']|'')*')", sql)
    return "".join(part if i % 2 else fn(part) for i, part in enumerate(parts))


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, bool]:
    """PostgreSQL's text for one SQLite statement, and whether it returns the inserted id."""
    ignore = bool(_INSERT_OR_IGNORE.search(sql))

    def words(part: str) -> str:
        part = _INSERT_OR_IGNORE.sub("INSERT INTO", part)
        part = _NOCASE.sub("", part)
        part = _UNARY_PLUS.sub("", part)
        part = _CROSS_JOIN_ON.sub(r"JOIN \1 ON", part)
        part = _IS_NOT.sub("IS DISTINCT FROM ", part)
        return _IS.sub("IS NOT DISTINCT FROM ", part)

    text = _outside_quotes(sql, words).rstrip().rstrip(";")
    if ignore and not _ON_CONFLICT.search(text):
        text = _add_before_returning(text, " ON CONFLICT DO NOTHING")
    returns_id = False
    insert = _INSERT_INTO.match(text)
    if insert and insert.group(1).lower() in ID_TABLES and not _RETURNING.search(text):
        text += " RETURNING id"
        returns_id = True
    return _placeholders(text), returns_id


def _add_before_returning(text: str, clause: str) -> str:
    found = _RETURNING.search(text)
    if found is None:
        return text + clause
    return text[: found.start()].rstrip() + clause + " " + text[found.start() :]


class Row(tuple[Any, ...]):
    """A result row read by position or by column name, as ``sqlite3.Row`` is."""

    __slots__ = ()
    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@functools.lru_cache(maxsize=1024)
def row_class(names: tuple[str, ...]) -> type[Row]:
    """A :class:`Row` subclass that knows one result's column names (one per distinct shape)."""
    return type("Row", (Row,), {"__slots__": (), "_names": {n: i for i, n in enumerate(names)}})
