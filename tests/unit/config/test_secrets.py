"""SecretStore over keyring: the in-memory backend, no keyring at all, and session-only mode.

The in-memory backend comes from ``tests/conftest.py`` (autouse, registered through
``keyring.set_keyring``); "no keyring" is keyring's own ``fail.Keyring``, which is what a
machine without a Secret Service / D-Bus session gets. The CLI test runs the real
``python -m smsdesk`` in a subprocess with ``PYTHON_KEYRING_BACKEND`` pointing at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

from smsdesk.config.secrets import SERVICE, SecretStore, keyring_usable, secret_key
from smsdesk.domain.errors import SecretStoreUnavailable
from smsdesk.runtime import Runtime
from tests.support.keyring_memory import MemoryKeyring

REPO = Path(__file__).resolve().parents[3]
KEY = secret_key("Shop", "api_key")


@pytest.fixture
def no_keyring(memory_keyring: MemoryKeyring) -> Iterator[None]:
    """keyring's fail backend, as on a machine without any usable keyring."""
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(memory_keyring)


class LockedKeyring(MemoryKeyring):
    """A backend that exists but refuses, like a keyring the person did not unlock."""

    # keyring auto-discovers every KeyringBackend subclass (its chainer would then call this
    # one in other tests of the same process); only ever use it through set_keyring().
    viable = False

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]


# ---- with a keyring -----------------------------------------------------------------------


def test_secrets_go_to_the_keyring_under_the_smsdesk_service(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.available()
    store.set(KEY, "sk-123")
    assert memory_keyring.store == {(SERVICE, "account/Shop/api_key"): "sk-123"}
    assert SecretStore().get(KEY) == "sk-123"  # a new store reads it back from the keyring


def test_delete_removes_the_secret_and_tolerates_a_missing_one(
    memory_keyring: MemoryKeyring,
) -> None:
    store = SecretStore()
    store.set(KEY, "sk-123")
    store.delete(KEY)
    assert memory_keyring.store == {}
    assert store.get(KEY) is None
    store.delete(KEY)  # already gone: nothing to do, no warning


def test_an_unknown_secret_reads_as_none() -> None:
    assert SecretStore().get(secret_key("Nobody", "api_key")) is None


# ---- without a keyring --------------------------------------------------------------------


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_store_refuses_with_a_clear_message() -> None:
    store = SecretStore()
    assert not store.available()
    with pytest.raises(SecretStoreUnavailable) as set_err:
        store.set(KEY, "sk-123")
    message = str(set_err.value)
    assert "keyring" in message.lower() and "session" in message.lower()
    with pytest.raises(SecretStoreUnavailable):
        store.get(KEY)
    store.delete(KEY)  # nothing stored, nothing to delete: no error


def test_a_keyring_that_refuses_is_reported_not_crashed(memory_keyring: MemoryKeyring) -> None:
    keyring.set_keyring(LockedKeyring())
    try:
        with pytest.raises(SecretStoreUnavailable, match="refused to store"):
            SecretStore().set(KEY, "sk-123")
        with pytest.raises(SecretStoreUnavailable, match="refused to read"):
            SecretStore().get(KEY)
    finally:
        keyring.set_keyring(memory_keyring)


@pytest.mark.usefixtures("no_keyring")
def test_session_only_works_without_a_keyring() -> None:
    store = SecretStore(session_only=True)
    assert store.available()
    store.set(KEY, "sk-123")
    assert store.get(KEY) == "sk-123"
    store.delete(KEY)
    assert store.get(KEY) is None


def test_session_only_never_writes_to_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(session_only=True)
    store.set(KEY, "sk-123")
    assert store.get(KEY) == "sk-123"
    assert memory_keyring.store == {}
    assert SecretStore(session_only=True).get(KEY) is None  # gone with the session


# ---- through the account service ------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.usefixtures("no_keyring")
async def test_adding_an_account_without_a_keyring_fails_and_creates_nothing(
    tmp_path: Path,
) -> None:
    rt = Runtime.open(str(tmp_path / "home"))
    try:
        before = [a.name for a in rt.accounts.all()]
        with pytest.raises(SecretStoreUnavailable):
            await rt.accounts.add("Shop", "puresms", {"api_key": "sk-secret-1", "sender": "Shop"})
        assert [a.name for a in rt.accounts.all()] == before
    finally:
        rt.close()
    assert _files_containing(tmp_path, b"sk-secret-1") == []


@pytest.mark.asyncio
@pytest.mark.usefixtures("no_keyring")
async def test_session_only_runtime_keeps_the_key_in_memory_only(tmp_path: Path) -> None:
    rt = Runtime.open(str(tmp_path / "home"), session_secrets=True)
    try:
        account = await rt.accounts.add("Shop", "puresms", {"api_key": "sk-secret-2", "sender": "Shop"})
        assert rt.accounts.secret(account, "api_key") == "sk-secret-2"
    finally:
        rt.close()
    assert _files_containing(tmp_path, b"sk-secret-2") == []
    assert _files_containing(tmp_path, b"Shop")  # the scan does see what was written


# ---- the command line -----------------------------------------------------------------------


def _smsdesk(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSDESK_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "smsdesk", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


def test_cli_without_a_keyring_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = "sk-cli-never-on-disk"
    proc = _smsdesk(
        home,
        "accounts", "add", "--provider", "puresms", "--name", "P", "--sender", "Shop",
        "--secret-stdin", "api_key",
        stdin=secret + "\n",
    )  # fmt: skip
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "keyring" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr
    assert secret not in proc.stderr + proc.stdout
    listed = _smsdesk(home, "accounts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "P" not in [row["name"] for row in json.loads(listed.stdout)]
    assert _files_containing(tmp_path, secret.encode()) == []


# ---- plain-text "keyrings" are refused ---------------------------------------------------------
class PlaintextKeyring(KeyringBackend):
    """Like keyrings.alt's PlaintextKeyring: secrets in a plain file. Never use it for real."""

    priority = 5  # type: ignore[assignment]  # above the memory keyring: it would win a chain
    viable = False  # type: ignore[assignment]  # keyring discovers every subclass; only set_keyring() uses it

    path: Path

    def get_password(self, service: str, username: str) -> str | None:
        if not self.path.exists():
            return None
        return json.loads(self.path.read_text()).get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("not found")


@pytest.fixture
def plaintext(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[PlaintextKeyring]:
    backend = PlaintextKeyring()
    backend.path = tmp_path / "keyring_pass.cfg"
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(memory_keyring)


def test_a_plaintext_backend_is_not_a_usable_keyring(plaintext: PlaintextKeyring) -> None:
    assert not keyring_usable()
    store = SecretStore()
    assert not store.available()
    with pytest.raises(SecretStoreUnavailable) as err:
        store.set(KEY, "sk-plain-never")
    assert "PlaintextKeyring" in str(err.value) and "plain text file" in str(err.value)
    assert "session only" in str(err.value)  # and what to do instead
    with pytest.raises(SecretStoreUnavailable):
        store.get(KEY)
    assert not plaintext.path.exists()


@pytest.mark.asyncio
async def test_adding_an_account_with_only_a_plaintext_backend_writes_no_secret(
    tmp_path: Path, plaintext: PlaintextKeyring
) -> None:
    rt = Runtime.open(str(tmp_path / "home"))
    try:
        with pytest.raises(SecretStoreUnavailable, match="plain text"):
            await rt.accounts.add("Shop", "puresms", {"api_key": "sk-secret-3", "sender": "Shop"})
    finally:
        rt.close()
    assert _files_containing(tmp_path, b"sk-secret-3") == []


def test_behind_the_chainer_a_plaintext_member_is_skipped(
    plaintext: PlaintextKeyring, memory_keyring: MemoryKeyring
) -> None:
    class Chain(ChainerBackend):
        viable = False  # type: ignore[assignment]
        backends = [plaintext, memory_keyring]  # what keyring's chainer would hold, best first

    keyring.set_keyring(Chain())
    store = SecretStore()
    assert store.available()
    store.set(KEY, "sk-chained")
    assert memory_keyring.store == {(SERVICE, "account/Shop/api_key"): "sk-chained"}
    assert not plaintext.path.exists()
    assert SecretStore().get(KEY) == "sk-chained"
