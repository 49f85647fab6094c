"""Secrets in the OS keyring (service ``smsdesk``), or for this session only, never on disk.

Keys are ``account/<account name>/<field>``. Without a usable backend,
:class:`SecretStore` raises :class:`SecretStoreUnavailable` unless the person accepted a
session-only store (the GUI offers it); the CLI then exits non-zero with the reason.
Each keyring call can be a ~30 ms D-Bus round trip, so values are cached per session.
A backend that keeps secrets in a plain text file (keyrings.alt's ``PlaintextKeyring``) does
not count as a keyring: with only such a backend the store is unavailable, and behind
keyring's chainer smsdesk talks to the best member that is not one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from smsdesk.domain.errors import SecretStoreUnavailable

log = logging.getLogger(__name__)
SERVICE = "smsdesk"

# keyring is imported by the functions that call it: importing it costs ~50 ms, and the GUI
# reads no secret before its window shows (secrets are read when an adapter first needs one).

_NO_KEYRING = (
    "No usable system keyring was found, so API keys cannot be stored safely. "
    "Install and unlock a keyring (GNOME Keyring, KWallet, macOS Keychain, Windows Credential "
    "Manager) and try again; the desktop app can also keep a key for this session only."
)


def secret_key(account: str, field: str) -> str:
    return f"account/{account}/{field}"


def _is_plaintext(backend: Any) -> bool:
    """A backend that keeps secrets in a plain file (keyrings.alt's ``PlaintextKeyring`` and
    kin): not a keyring in any sense that matters here."""
    return any("plaintext" in cls.__name__.lower() for cls in type(backend).__mro__)


def _priority(backend: Any) -> float:
    try:
        return float(getattr(backend, "priority", 1))
    except Exception:  # noqa: BLE001 - a backend whose priority check fails is not usable
        return -1.0


def secure_backend() -> tuple[Any | None, str]:
    """The keyring backend secrets may go to, or (None, why not).

    keyring's chainer is looked through: smsdesk talks to its best member that is neither the
    ``fail`` backend nor a plain-text file, so a secret can never fall through to one.
    """
    import keyring
    from keyring.backends import chainer, fail

    chosen = keyring.get_keyring()
    members = list(chosen.backends) if isinstance(chosen, chainer.ChainerBackend) else [chosen]
    plaintext = [m for m in members if _is_plaintext(m)]
    for member in members:
        if isinstance(member, fail.Keyring) or member in plaintext or _priority(member) <= 0:
            continue
        return member, ""
    if plaintext:
        name = type(plaintext[0]).__name__
        return None, (
            f"The only keyring available ({name}) keeps secrets in a plain text file, so smsdesk "
            "will not use it. Install and unlock a real keyring (GNOME Keyring, KWallet, macOS "
            "Keychain, Windows Credential Manager), or remove keyrings.alt / unset "
            "PYTHON_KEYRING_BACKEND, and try again; the desktop app can also keep a key for this "
            "session only."
        )
    return None, _NO_KEYRING


def keyring_usable() -> bool:
    return secure_backend()[0] is not None


def _backend() -> Any:
    backend, why = secure_backend()
    if backend is None:
        raise SecretStoreUnavailable(why)
    return backend


class SecretStore:
    """Get and set secrets; ``session_only`` keeps them in memory for this process only."""

    def __init__(self, session_only: bool = False) -> None:
        self.session_only = session_only
        self._cache: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def available(self) -> bool:
        return self.session_only or keyring_usable()

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        if self.session_only:
            return None
        backend = _backend()
        import keyring.errors

        try:
            value = backend.get_password(SERVICE, key)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"The keyring refused to read a secret: {exc}") from exc
        with self._lock:
            self._cache[key] = value
        return value if value is None else str(value)

    def set(self, key: str, value: str) -> None:
        if not self.session_only:
            backend = _backend()
            import keyring.errors

            try:
                backend.set_password(SERVICE, key, value)
            except keyring.errors.KeyringError as exc:
                raise SecretStoreUnavailable(f"The keyring refused to store a secret: {exc}") from exc
        with self._lock:
            self._cache[key] = value

    def delete(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)
        if self.session_only:
            return
        backend, _why = secure_backend()
        if backend is None:
            return
        import keyring.errors

        try:
            backend.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            log.warning("keyring could not delete a secret: %s", exc)
