"""Secrets against a real Secret Service (gnome-keyring in a private D-Bus session).

Skipped unless ``SMSDESK_REAL_KEYRING=1``: ``bash packaging/bootstrap.sh test`` (and so CI)
sets it after starting ``gnome-keyring-daemon --unlock`` inside ``dbus-run-session`` with a
throwaway HOME, so nothing here touches a person's real keyring. The ``keyring_real`` marker
makes ``tests/conftest.py`` leave the environment's backend in place instead of the in-memory one.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.backends import SecretService, chainer

from smsdesk.config.secrets import SERVICE, SecretStore, secret_key

pytestmark = [
    pytest.mark.keyring_real,
    pytest.mark.skipif(
        os.environ.get("SMSDESK_REAL_KEYRING") != "1",
        reason="needs a real Secret Service: run `bash packaging/bootstrap.sh test` "
        "(or set SMSDESK_REAL_KEYRING=1 inside a D-Bus session with an unlocked keyring)",
    ),
]


def _secret_service_backend() -> keyring.backend.KeyringBackend:
    backend = keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend):  # several viable backends: first one wins
        backend = backend.backends[0]
    return backend


@pytest.fixture
def real_backend() -> keyring.backend.KeyringBackend:
    backend = _secret_service_backend()
    assert isinstance(backend, SecretService.Keyring), (
        f"expected the Secret Service backend, got {backend!r}: is gnome-keyring running and "
        "unlocked in this D-Bus session?"
    )
    return backend


def test_secret_store_round_trip_through_the_secret_service(real_backend) -> None:
    key = secret_key(f"real-{uuid.uuid4().hex[:8]}", "api_key")
    value = f"sk-{uuid.uuid4().hex}"
    store = SecretStore()
    assert store.available()
    store.set(key, value)
    try:
        # A fresh store has no cache, so this read really goes over D-Bus.
        assert SecretStore().get(key) == value
        assert real_backend.get_password(SERVICE, key) == value
    finally:
        store.delete(key)
    assert SecretStore().get(key) is None
    assert real_backend.get_password(SERVICE, key) is None


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]


@pytest.mark.asyncio
async def test_provider_api_key_goes_to_the_keyring_and_nowhere_else(
    runtime, real_backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name = f"Shop {uuid.uuid4().hex[:6]}"
    api_key = f"live-{uuid.uuid4().hex}"
    account = await runtime.accounts.add(name, "puresms", {"api_key": api_key, "sender": "Shop"})
    try:
        assert real_backend.get_password(SERVICE, secret_key(name, "api_key")) == api_key
        assert account.sender == "Shop"
        assert runtime.accounts.secret(account, "api_key") == api_key

        # Not in the database (main file, WAL, journal), settings.toml, logs or anything else.
        needle = api_key.encode()
        db, settings = runtime.paths.database, runtime.paths.settings
        assert db.exists() and settings.exists()
        runtime.save_settings()
        assert needle not in db.read_bytes()
        assert needle not in settings.read_bytes()
        assert _files_containing(runtime.paths.home, needle) == []
        # Guard the scan itself: the account's name is in the database files, so it finds it.
        assert _files_containing(runtime.paths.home, name.encode())
        assert api_key not in caplog.text
    finally:
        await runtime.accounts.remove(account)
    assert real_backend.get_password(SERVICE, secret_key(name, "api_key")) is None
