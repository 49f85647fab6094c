"""Setting up a workspace and its people: the schema, the roles, logins.

Roles (created by :func:`create_workspace`, run with the owner's login):

- ``smsdesk_agent``: staff. Read and write conversations, messages, contacts, templates and
  the rest, but only read the provider accounts (their names, prices and limits); with
  ``workspace bulk-sends owners`` they may not start bulk sends either, and with ``workspace
  exports owners`` not export the address book (an export is recorded before its file is
  written, and staff may not record one);
- ``smsdesk_relay``: an always-on ``smsdesk serve``. Everything an agent can, and it is the
  role that sends, so it holds the provider keys (in its own keyring, never in the database);
  it may touch an account's row (``accounts add`` keeping its own copy of the keys) but not
  add or remove accounts;
- the owner (the login that created the workspace) runs migrations, manages accounts, prices
  and people. These limits are the database's grants, so a modified client cannot pass them.

Each person logs in as their own PostgreSQL role, member of ``smsdesk_agent``; what they do
is stamped by the database with ``current_user`` (``audit_log.actor``), which a modified
client cannot forge. Removing a person ends their sessions at once and stops new logins; the
role itself stays, so the history that names them keeps its meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from smsdesk.domain.errors import InvalidInput
from smsdesk.storage.db import utcnow
from smsdesk.storage.pg import schema
from smsdesk.storage.pg.database import PgConnection, migrate

AGENT, RELAY = "smsdesk_agent", "smsdesk_relay"
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True, slots=True)
class WorkspaceFacts:
    """What ``smsdesk workspace show`` says."""

    server: str  # PostgreSQL's version
    schema: int
    user: str
    people: list[str]
    relays: list[str]


#: What only the owner may do, as grants taken back from the group roles (also run by the
#: schema's migration 2 on a workspace made before these limits).
OWNER_ONLY = [
    f"REVOKE INSERT, UPDATE, DELETE ON accounts FROM {AGENT}",
    f"REVOKE INSERT, DELETE ON accounts FROM {RELAY}",
]


def limit_bulk_sends(conn: PgConnection, owners_only: bool) -> None:
    """Whether staff may start bulk sends (``bulk_runs``), or only the owner (and relays, which
    run the scheduled ones)."""
    verb = "REVOKE INSERT ON bulk_runs FROM {}" if owners_only else "GRANT INSERT ON bulk_runs TO {}"
    conn.raw.execute(sql.SQL(verb).format(sql.Identifier(AGENT)))


def limit_exports(conn: PgConnection, owners_only: bool) -> None:
    """Whether staff may export the address book (``address_book_exports``), or only the owner."""
    if owners_only:
        verb = "REVOKE INSERT ON address_book_exports FROM {}"
    else:
        verb = "GRANT INSERT ON address_book_exports TO {}"
    conn.raw.execute(sql.SQL(verb).format(sql.Identifier(AGENT)))


def _role_exists(conn: PgConnection, name: str) -> bool:
    return conn.raw.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is not None


def create_workspace(conn: PgConnection) -> int:
    """Bring the schema up to date, create the two group roles and their grants, and mark the
    workspace started (no sandbox account: a workspace uses real accounts). Returns the
    schema version it found (0: a new workspace). Safe to run again."""
    found = migrate(conn)
    raw = conn.raw
    with raw.transaction():
        for role in (AGENT, RELAY):
            if not _role_exists(conn, role):
                raw.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            raw.execute(
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
                    sql.Identifier(role)
                )
            )
            raw.execute(
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(sql.Identifier(role))
            )
        for statement in OWNER_ONLY:
            raw.execute(statement)
        raw.execute("INSERT INTO kv (key, value) VALUES ('initialized', %s) ON CONFLICT (key) DO NOTHING", (utcnow(),))
    return found


def check_name(name: str) -> str:
    """A person's login name: lower-case letters, digits, ``_ . -``, starting with a letter."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"{name!r} cannot be a login name: use lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter (for example ann or ann.lee)."
        )
    return name


def add_user(conn: PgConnection, name: str, password: str, relay: bool = False) -> None:
    """A login for one person (or a relay), member of the agent (or relay) role."""
    check_name(name)
    group = RELAY if relay else AGENT
    raw = conn.raw
    with raw.transaction():
        if _role_exists(conn, name):
            raw.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
        else:
            raw.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
        raw.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(name)))


def remove_user(conn: PgConnection, name: str) -> int:
    """Stop ``name``'s logins now: no new ones, and the open sessions end. Returns how many
    sessions were ended. The role stays (the history names it)."""
    check_name(name)
    raw = conn.raw
    if not _role_exists(conn, name):
        raise InvalidInput(f"Nobody called {name!r} has a login to this workspace.")
    with raw.transaction():
        raw.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(name)))
        for group in (AGENT, RELAY):
            raw.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), sql.Identifier(name)))
    ended = raw.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s", (name,)
    ).fetchone()
    return int(ended[0]) if ended else 0


def facts(conn: PgConnection) -> WorkspaceFacts:
    raw = conn.raw
    version = raw.execute("SHOW server_version").fetchone()
    found: Any = (0,)
    if raw.execute("SELECT to_regclass('schema_version')").fetchone() != (None,):
        found = raw.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    me = raw.execute("SELECT current_user").fetchone()

    def members(group: str) -> list[str]:
        rows = raw.execute(
            """SELECT r.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid
               JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = %s AND r.rolcanlogin ORDER BY 1""",
            (group,),
        ).fetchall()
        return [str(r[0]) for r in rows]

    return WorkspaceFacts(
        server=str(version[0]) if version else "?",
        schema=int(found[0]) if found else 0,
        user=str(me[0]) if me else "",
        people=members(AGENT),
        relays=members(RELAY),
    )


LATEST_SCHEMA = schema.LATEST_VERSION
