"""Storage: every SQL statement of smsdesk, behind a surface a second backend can implement.

What it owns: the database (SQLite: one file, WAL, ``synchronous=FULL``, one writer thread
with group commit, per-thread readers, numbered migrations) and every statement run on it.

What services see: :mod:`smsdesk.storage.api` (one ``Protocol`` per repository and the
aggregate ``Store``; its docstring says what a second backend, such as a PostgreSQL team
workspace, must honour) and :mod:`smsdesk.storage.records` (the values crossing it). Nothing
else here may be imported outside storage except by the composition root (``runtime.py``),
which builds :class:`smsdesk.storage.sqlite_store.SqliteStore`; tests check both rules.

Inside: module functions taking the writer's connection are the SQLite statement layer; each
repository method is one use case, one transaction (savepoints only in here).

Imports ``domain`` only (and the stdlib): never services, providers, config or Qt.
"""

from smsdesk.storage.db import Database, utcnow

__all__ = ["Database", "utcnow"]
