"""Secrets against a real Secret Service (gnome-keyring in a private D-Bus session).

Skipped unless ``SMSDESK_REAL_KEYRING=1``: ``bash packaging/bootstrap.sh test`` (and so CI)
sets it after starting ``gnome-keyring-daemon --unlock`` inside ``dbus-run-session`` with a
throwaway HOME, so nothing here touches a person's real keyring. The ``keyring_real`` marker
makes ``tests/conftest.py`` leave the environment's backend in place instead of the in-memory one.
The last test checks that in CI (``CI=true``) the bootstrap refuses to run the suite when it
cannot start that Secret Service, instead of letting these tests skip unnoticed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest
from keyring.backends import SecretService, chainer

from smsdesk.config.secrets import SERVICE, SecretStore, secret_key

REPO = Path(__file__).resolve().parents[2]
needs_real_keyring = pytest.mark.skipif(
    os.environ.get("SMSDESK_REAL_KEYRING") != "1",
    reason="needs a real Secret Service: run `bash packaging/bootstrap.sh test` "
    "(or set SMSDESK_REAL_KEYRING=1 inside a D-Bus session with an unlocked keyring)",
)


def _detected_backend() -> keyring.backend.KeyringBackend:
    """The backend keyring's own detection picks for the app, as in a process without tests.

    keyring discovers every ``KeyringBackend`` subclass, including the test doubles defined in
    this test run, and would chain them behind the real one; leave those out.
    """
    found = [
        b
        for b in keyring.backend.get_all_keyring()
        if not isinstance(b, chainer.ChainerBackend) and not type(b).__module__.startswith("tests.") and b.priority > 0
    ]
    assert found, "keyring found no usable backend at all"
    return max(found, key=keyring.backend.by_priority)


@pytest.fixture
def real_backend() -> Iterator[keyring.backend.KeyringBackend]:
    backend = _detected_backend()
    assert isinstance(backend, SecretService.Keyring), (
        f"expected the Secret Service backend, got {backend!r}: is gnome-keyring running and "
        "unlocked in this D-Bus session?"
    )
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.mark.keyring_real
@needs_real_keyring
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


def _rows_containing(runtime: Any, text: str) -> list[str]:
    """The workspace tables with a row whose text holds ``text``."""
    tables = [
        r[0]
        for r in runtime.store.db.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        )
    ]
    return [
        t
        for t in tables
        if runtime.store.db.query_one(f"SELECT count(*) FROM {t} x WHERE x::text LIKE ?", (f"%{text}%",))[0]
    ]


@pytest.mark.keyring_real
@needs_real_keyring
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

        # Not in the database (main file, WAL, journal; or any row of a workspace), settings.toml,
        # logs or anything else.
        needle = api_key.encode()
        settings = runtime.paths.settings
        runtime.save_settings()
        assert settings.exists() and needle not in settings.read_bytes()
        assert _files_containing(runtime.paths.home, needle) == []
        if runtime.workspace_name:
            assert _rows_containing(runtime, api_key) == []
            assert "accounts" in _rows_containing(runtime, name)  # guard the scan itself
        else:
            db = runtime.paths.database
            assert db.exists() and needle not in db.read_bytes()
            # Guard the scan itself: the account's name is in the database files, so it finds it.
            assert _files_containing(runtime.paths.home, name.encode())
        assert api_key not in caplog.text
    finally:
        await runtime.accounts.remove(account)
    assert real_backend.get_password(SERVICE, secret_key(name, "api_key")) is None


# ---- the bootstrap must not let these tests skip silently in CI ------------------------------------
def _path_without_dbus(tmp_path: Path) -> str:
    """A PATH with only the tools ``bootstrap.sh test`` needs before it looks for D-Bus."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "mktemp", "mkdir", "rm"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def _bootstrap_test(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    script = (
        f'source "{REPO}/packaging/bootstrap.sh"; '
        "prepare() { :; }; guards() { :; }; "  # the venv and system packages are not what is tested here
        f'VENV="{tmp_path}/no-venv"; PATH="{_path_without_dbus(tmp_path)}"; cmd_test -k nothing'
    )
    env = {"CI": ci, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_bootstrap_in_ci_fails_when_it_cannot_start_a_secret_service(tmp_path: Path) -> None:
    proc = _bootstrap_test(tmp_path, ci="true")
    assert proc.returncode == 1, proc.stderr
    assert "ERROR" in proc.stderr and "dbus-run-session" in proc.stderr and "gnome-keyring-daemon" in proc.stderr
    assert "apt-get install" in proc.stderr  # and what to do about it


def test_bootstrap_outside_ci_only_warns(tmp_path: Path) -> None:
    proc = _bootstrap_test(tmp_path, ci="")
    assert "WARNING: dbus-run-session or gnome-keyring-daemon is missing" in proc.stderr
    assert "ERROR" not in proc.stderr  # it went on to pytest (absent from this fake venv)
