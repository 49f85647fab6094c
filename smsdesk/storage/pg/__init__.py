"""The PostgreSQL store of a team workspace (psycopg 3, its synchronous API, no ORM).

- ``url``: the workspace's address, refused when it holds a password;
- ``schema``: numbered migrations and the ``schema_version`` table;
- ``dialect``: the repositories' SQLite statements rewritten for PostgreSQL;
- ``database``: :class:`~smsdesk.storage.pg.database.PgDatabase`, the same surface as the
  SQLite ``Database`` (a writer thread with group commit, a reader per thread);
- ``store``: :class:`~smsdesk.storage.pg.store.PostgresStore`, every repository over it.
"""
