"""A workspace's address: a ``postgresql://`` URL that never carries a password.

A password in a URL leaks wherever the URL goes: the process list (``ps`` shows argv), an
environment dump, a support screenshot of Settings. So a URL with a password is refused; the
password comes from the keyring (given once with ``--password-stdin`` or
``SMSDESK_SECRET_DATABASE_PASSWORD``).

TLS: libpq's default (``sslmode=prefer``) uses TLS whenever the server offers it. Given a CA
certificate (``sslrootcert`` in the URL), the connection insists on TLS and checks the
server's name against the certificate (``sslmode=verify-full``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from smsdesk.domain.errors import InvalidInput

SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class WorkspaceUrl:
    """A checked workspace URL (see :meth:`parse`)."""

    text: str  # as given, minus nothing: it holds no password
    user: str
    host: str
    port: int
    database: str

    @classmethod
    def parse(cls, text: str) -> WorkspaceUrl:
        """Check ``text`` is a usable workspace address.

        Raises:
            InvalidInput: not a ``postgresql://`` URL, or it holds a password (said how to
                give the password instead).
        """
        text = text.strip()
        parts = urlsplit(text)
        if parts.scheme not in SCHEMES:
            raise InvalidInput(f"{text!r} is not a workspace address. It looks like postgresql://user@server/database.")
        query = dict(parse_qsl(parts.query))
        if parts.password is not None or "password" in query:
            raise InvalidInput(
                "The workspace address must not contain the password (other programs on this computer "
                "can read addresses). Leave it out, and give the password with --password-stdin or "
                "SMSDESK_SECRET_DATABASE_PASSWORD: it is kept in the system keyring."
            )
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise InvalidInput(
                f"{text!r} names no database. Add it after the server: postgresql://user@server/smsdesk."
            )
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise InvalidInput(f"{text!r} has a port that is not a number.") from exc
        host = parts.hostname or query.get("host", "")
        return cls(text, unquote(parts.username or ""), host, port, database)

    def conninfo(self) -> str:
        """The address for libpq, with ``sslmode=verify-full`` when a CA certificate is given."""
        parts = urlsplit(self.text)
        query = dict(parse_qsl(parts.query))
        if "sslrootcert" in query and "sslmode" not in query:
            query["sslmode"] = "verify-full"
        return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))

    def display(self) -> str:
        """Short words for where the workspace is: ``smsdesk on db.example.com:5432``."""
        where = self.host or "this computer"
        return f"{self.database} on {where}:{self.port}"

    def keyring_key(self) -> str:
        """Which password this is in the keyring (one per user, server and database)."""
        return f"database:{self.user}@{self.host}:{self.port}/{self.database}"

    @staticmethod
    def refused(exc: BaseException) -> bool:
        """True when the server answered and refused the login (see :meth:`explain`)."""
        lowered = str(exc).lower()
        return (
            "password authentication failed" in lowered
            or "no password supplied" in lowered
            or "not permitted to log in" in lowered
            or "does not exist" in lowered  # the database, or the login's role
        )

    def explain(self, exc: BaseException) -> str:
        """Plain words for a failure to connect, and what to do about it."""
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        lowered = detail.lower()
        if "password authentication failed" in lowered or "no password supplied" in lowered:
            return (
                f"The workspace {self.display()} refused the login of {self.user or 'this user'}: wrong or "
                "missing password. Give it again with 'smsdesk workspace join URL --password-stdin'."
            )
        if "not permitted to log in" in lowered:
            return (
                f"The workspace {self.display()} refused the login: {self.user} may no longer log in. "
                "Ask the workspace's owner."
            )
        if "does not exist" in lowered and "database" in lowered:
            return f"The workspace {self.display()} does not exist. Create it with 'smsdesk workspace create'."
        return (
            f"The workspace {self.display()} is unreachable ({detail}). Check the network and that the "
            "database server is running; smsdesk keeps retrying."
        )
