"""Secrets in the OS keyring (service ``smsdesk``), or for this session only, never on disk.

Keys are ``account/<account name>/<field>``. Without a usable backend,
:class:`SecretStore` raises :class:`SecretStoreUnavailable` unless the person accepted a
session-only store (the GUI offers it); the CLI then exits non-zero with the reason.
Each keyring call can be a ~30 ms D-Bus round trip, so values are cached per session.
"""

from __future__ import annotations

import logging
import threading

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


def keyring_usable() -> bool:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return False
    try:
        return float(getattr(backend, "priority", 1)) > 0
    except Exception:  # noqa: BLE001 - a backend whose priority check fails is not usable
        return False


class SecretStore:
    """Get and set secrets; ``session_only`` keeps them in memory for this process only."""

    def __init__(self, session_only: bool = False) -> None:
        self.session_only = session_only
        self._cache: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def available(self) -> bool:
        return self.session_only or keyring_usable()

    def _require(self) -> None:
        if not self.session_only and not keyring_usable():
            raise SecretStoreUnavailable(_NO_KEYRING)

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        if self.session_only:
            return None
        self._require()
        import keyring
        import keyring.errors

        try:
            value = keyring.get_password(SERVICE, key)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"The keyring refused to read a secret: {exc}") from exc
        with self._lock:
            self._cache[key] = value
        return value

    def set(self, key: str, value: str) -> None:
        if not self.session_only:
            self._require()
            import keyring
            import keyring.errors

            try:
                keyring.set_password(SERVICE, key, value)
            except keyring.errors.KeyringError as exc:
                raise SecretStoreUnavailable(f"The keyring refused to store a secret: {exc}") from exc
        with self._lock:
            self._cache[key] = value

    def delete(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)
        if self.session_only or not keyring_usable():
            return
        import keyring
        import keyring.errors

        try:
            keyring.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            log.warning("keyring could not delete a secret: %s", exc)
