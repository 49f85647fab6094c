"""What is left of an erased person: salted hashes of the numbers that had opted out.

"Erase everything about this person" (a data-protection request) deletes the contact, their
messages and conversations. A person who had opted out must still never be texted again, so
each of their numbers that was on the opt-out list is kept as ``SHA-256(salt + number)``
in ``erased_numbers``: it says "this number opted out" to whoever already has the number,
and gives nobody the number. The salt is random per database (kv ``erase_salt``), so the
hashes cannot be matched against a table of hashed phone numbers made elsewhere.

Every opt-out check reads :func:`erased_among` besides the ``optouts`` table. Until the
first erase there is no salt and the check costs one primary-key probe.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

SALT_KEY = "erase_salt"
HOW = "opted out before their details were erased"
_CHUNK = 500


def _salt(conn: sqlite3.Connection) -> bytes | None:
    row = conn.execute("SELECT value FROM kv WHERE key = ?", (SALT_KEY,)).fetchone()
    return bytes.fromhex(row[0]) if row else None


def ensure_salt(conn: sqlite3.Connection) -> bytes:
    """The database's salt, made on first use (writer connection)."""
    salt = _salt(conn)
    if salt is None:
        import secrets  # the first erase only (hmac and hashlib: 3 ms the first paint does without)

        salt = secrets.token_bytes(16)
        conn.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (SALT_KEY, salt.hex()))
    return salt


def digest(salt: bytes, number: str) -> str:
    import hashlib  # only once someone was erased

    return hashlib.sha256(salt + number.encode("utf-8")).hexdigest()


def keep(conn: sqlite3.Connection, numbers: Iterable[str], now: str) -> int:
    """Keep the hashes of ``numbers`` (opted out, about to be erased); returns how many are new."""
    wanted = sorted(set(numbers))
    if not wanted:
        return 0
    salt = ensure_salt(conn)
    cur = conn.executemany(
        "INSERT INTO erased_numbers (hash, opted_out, erased_at) VALUES (?, 1, ?) ON CONFLICT (hash) DO NOTHING",
        [(digest(salt, n), now) for n in wanted],
    )
    return cur.rowcount


def forget(conn: sqlite3.Connection, number: str) -> bool:
    """The number opted back in (START, or taken off the list by hand): drop its hash."""
    salt = _salt(conn)
    if salt is None:
        return False
    return conn.execute("DELETE FROM erased_numbers WHERE hash = ?", (digest(salt, number),)).rowcount == 1


def any_erased(conn: sqlite3.Connection) -> bool:
    """Whether anyone who had opted out was erased (a primary-key probe)."""
    return conn.execute("SELECT 1 FROM erased_numbers LIMIT 1").fetchone() is not None


def erased_among(conn: sqlite3.Connection, numbers: Iterable[str]) -> set[str]:
    """Those of ``numbers`` (+E.164) that belonged to an erased person who had opted out."""
    salt = _salt(conn)
    if salt is None:
        return set()
    if not any_erased(conn):
        return set()
    by_hash = {digest(salt, n): n for n in set(numbers) if n}
    hashes = list(by_hash)
    found: set[str] = set()
    for i in range(0, len(hashes), _CHUNK):
        chunk = hashes[i : i + _CHUNK]
        rows = conn.execute(
            f"SELECT hash FROM erased_numbers WHERE opted_out = 1 AND hash IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall()
        found |= {by_hash[r[0]] for r in rows}
    return found


class ErasedLookup:
    """Membership in the erased opt-outs for many single look-ups (an import's validation):
    the salt and the hashes are read once."""

    __slots__ = ("_hashes", "_salt")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._salt = _salt(conn)
        rows = conn.execute("SELECT hash FROM erased_numbers WHERE opted_out = 1").fetchall() if self._salt else []
        self._hashes = frozenset(r[0] for r in rows)

    def __contains__(self, number: object) -> bool:
        if not self._hashes or self._salt is None or not isinstance(number, str):
            return False
        return digest(self._salt, number) in self._hashes

    def __bool__(self) -> bool:
        return bool(self._hashes)
