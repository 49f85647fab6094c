"""SQLite storage: one file, WAL, ``synchronous=FULL``, one writer thread, numbered migrations.

Owns every SQL statement in smsdesk. Imports ``domain`` only (and the stdlib).
SQL stays portable where it costs nothing (a shared PostgreSQL store is planned).
"""

from smsdesk.storage.db import Database, utcnow

__all__ = ["Database", "utcnow"]
