"""A throwaway PostgreSQL server for the test session (tests only).

The tests start their own server instead of needing one installed and running: ``initdb`` into
a fresh temporary folder, ``pg_ctl start`` on a free loopback port with its Unix socket in that
folder, ``fsync=off`` (a test server never survives a power cut, so durability costs only
time), and at the end ``pg_ctl stop -m immediate`` and the folder removed.

``initdb`` and ``pg_ctl`` refuse to run as root. As root the folder is made with ``mkdtemp``
(pytest's own temporary folder is private to root, so the ``postgres`` account could not reach
it) and handed to ``postgres``, and both commands run through ``runuser -u postgres``.

Each test gets its own database cloned from a template (``CREATE DATABASE ... TEMPLATE``,
about 50 ms) rather than a transaction rolled back at the end: ``NOTIFY`` is delivered only at
commit, and the live-update tests need real commits.

The server binaries are found in ``SMSDESK_PG_BINDIR``, then ``pg_config --bindir``, then the
newest ``/usr/lib/postgresql/*/bin`` (Debian's layout). Without them the PostgreSQL tests are
skipped, except under ``CI=true``, where a missing server is an error (like the real-keyring
rule): ``packaging/bootstrap.sh test`` installs it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"


class ServerMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``.

    Raises:
        ServerMissing: none was found (the message says how to install one).
    """
    candidates: list[Path] = []
    if os.environ.get("SMSDESK_PG_BINDIR"):
        candidates.append(Path(os.environ["SMSDESK_PG_BINDIR"]))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True)
    candidates += debian
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise ServerMissing(
        "No PostgreSQL server found (initdb and pg_ctl). Install it (Debian/Ubuntu: apt-get install "
        "postgresql, or run 'bash packaging/bootstrap.sh test', which does) or set SMSDESK_PG_BINDIR."
    )


def _major(name: str) -> int:
    try:
        return int(name.split(".")[0])
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    """One running server. Build with :meth:`start`; :meth:`stop` removes everything."""

    bindir: Path
    root: Path
    port: int
    as_postgres: bool
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, bindir: Path | None = None) -> PgCluster:
        bindir = bindir or find_bindir()
        as_postgres = os.geteuid() == 0
        root = Path(tempfile.mkdtemp(prefix="smsdesk-pg-"))
        if as_postgres:
            shutil.chown(root, user=SUPERUSER, group=SUPERUSER)
        cluster = cls(bindir, root, _free_port(), as_postgres)
        try:
            cluster._run(
                "initdb", "-D", str(root / "data"), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
            options = " ".join(
                [
                    f"-k {root}",
                    f"-p {cluster.port}",
                    "-c listen_addresses=127.0.0.1",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            cluster._run(
                "pg_ctl", "-D", str(root / "data"), "-w", "-l", str(root / "server.log"), "-o", options, "start"
            )
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """A libpq URL over TCP on loopback (no password: the test server trusts local logins)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run ``sql`` as the superuser outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # test-only SQL, built from known names

    def allow_connections(self, database: str, allow: bool) -> None:
        """Refuse (or allow again) every connection to ``database``, ending the open ones: as a
        server restart or a network cut looks from a desktop."""
        self.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            self.execute(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
                " AND pid <> pg_backend_pid()"
            )

    def create_database(self, template: str | None = None) -> str:
        """A fresh database (a clone of ``template`` when given); returns its name."""
        name = f"t_{os.getpid()}_{next(self._names)}"
        clause = f" TEMPLATE {template}" if template else ""
        self.execute(f'CREATE DATABASE "{name}"{clause}')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            # Already gone? The folder is removed all the same.
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def drop_people(url: str, *names: str) -> None:
    """Drop the logins a test added to the server at ``url`` (roles belong to the whole server:
    left behind, they would join every later test's workspace)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
