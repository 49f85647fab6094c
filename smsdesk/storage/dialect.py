"""Which SQL a write job's connection speaks, for the few statements spelled per store.

Most statements run on both stores as written (``storage/pg/dialect.py`` rewrites SQLite's
spelling for PostgreSQL). A repository branches on :func:`is_postgres` only where the
meaning differs: full-text search, ids handed out ahead of an insert, pragmas.
"""

from __future__ import annotations

from typing import Any

#: PostgreSQL: the advisory lock that makes message, transition and webhook log ids become
#: visible in id order (``storage/pg/changes.py``; the schema's ``change_order`` trigger).
CHANGE_ORDER_LOCK = 0x736D7365


def is_postgres(conn_or_db: Any) -> bool:
    """True for a PostgreSQL connection or database handle, False for SQLite's."""
    return getattr(conn_or_db, "dialect", "sqlite") == "postgresql"
