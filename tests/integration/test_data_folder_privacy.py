"""The data folder is private to the login: other accounts on a shared computer cannot read the
messages, numbers and webhook tokens in it (POSIX modes, checked on the real files)."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsdesk.config.logfile import PrivateRotatingFileHandler
from smsdesk.config.paths import ENV_HOME
from smsdesk.runtime import Runtime
from smsdesk.services.send import Draft
from tests.support.wait import until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

TIGHTENED = "made the data folder private"


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def modes(home: Path) -> dict[str, str]:
    """Every folder and file under ``home`` (and itself, as "."), with its mode in octal."""
    return {str(p.relative_to(home)): f"{stat.S_IMODE(p.lstat().st_mode):03o}" for p in [home, *home.rglob("*")]}


def private(found: dict[str, str], home: Path) -> dict[str, str]:
    return {name: ("700" if (home / name).is_dir() else "600") for name in found}


@pytest.fixture
def platform_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """smsdesk's own data folder (no --home, no SMSDESK_HOME), under tmp_path."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the platform folder is moved through XDG_DATA_HOME (Linux)")
    monkeypatch.delenv(ENV_HOME, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return tmp_path / "xdg-data" / "smsdesk"


def _log_lines(handler: logging.Handler, n: int) -> None:
    logger = logging.getLogger("smsdesk.test.privacy")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for i in range(n):
            logger.info("line %d of a log that rotates", i)
    finally:
        logger.removeHandler(handler)
        handler.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("mask", [0o000, 0o022], ids=["umask 000", "umask 022"])
async def test_a_new_data_folder_and_everything_in_it_are_private_whatever_the_umask(
    platform_home: Path, mask: int
) -> None:
    with umask(mask):
        rt = Runtime.open()
        try:
            await rt.start(receiver=False, sandbox=True, tunnel=False, polling=False)
            sent = await rt.sending.send(Draft(rt.accounts.by_name("Sandbox").id, ["+447911123456"], "hello"))
            await until(lambda: (m := rt.sending.messages.get(sent[0].id)) and m.status.value != "queued")
            rt.save_settings()
            # The window's log file, rotated (the rotated copies are new files too).
            _log_lines(PrivateRotatingFileHandler(rt.paths.logs / "smsdesk.log", maxBytes=300, backupCount=2), 20)
            found = modes(platform_home)  # while the database is open: its -wal and -shm exist
        finally:
            await rt.stop()
            rt.close()
    assert {
        "smsdesk.sqlite3",
        "smsdesk.sqlite3-wal",
        "smsdesk.sqlite3-shm",
        "settings.toml",
        "logs",
        "logs/smsdesk.log",
        "logs/smsdesk.log.1",
    } <= set(found)
    assert found == private(found, platform_home)


def test_an_open_data_folder_is_made_private_on_start_and_said_once(
    platform_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Runtime.open().close()
    # As an older smsdesk (or a copy from another computer) left it, with something of the
    # person's own inside.
    (platform_home / "notes").mkdir()
    (platform_home / "notes" / "todo.txt").write_text("call the supplier")
    for path in [platform_home, *platform_home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    caplog.set_level(logging.INFO, logger="smsdesk")
    Runtime.open().close()
    found = modes(platform_home)
    assert found == private(found, platform_home)
    said = [r.getMessage() for r in caplog.records if TIGHTENED in r.getMessage()]
    assert len(said) == 1 and str(platform_home) in said[0]
    caplog.clear()
    Runtime.open().close()
    assert not [r for r in caplog.records if TIGHTENED in r.getMessage()]  # nothing more to say


def test_a_chosen_folder_is_left_as_it_is_its_smsdesk_files_made_private_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, expect_warnings: list[bool]
) -> None:
    stick = tmp_path / "usb-stick"  # --home on a stick or a shared folder the person made
    stick.mkdir()
    stick.chmod(0o755)
    (stick / "photo.jpg").write_bytes(b"\xff\xd8")
    (stick / "photo.jpg").chmod(0o644)
    caplog.set_level(logging.INFO, logger="smsdesk")
    with umask(0o022):
        rt = Runtime.open(str(stick))
        try:
            rt.save_settings()
            found = modes(stick)
        finally:
            rt.close()
    ours = {name: mode for name, mode in found.items() if name not in (".", "photo.jpg")}
    assert {"smsdesk.sqlite3", "settings.toml", "logs"} <= set(ours)
    assert ours == private(ours, stick)
    assert (found["."], found["photo.jpg"]) == ("755", "644")  # the person's, untouched
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and str(stick) in warned[0] and "other accounts" in warned[0]
    caplog.clear()
    Runtime.open(str(stick)).close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # once
    # A folder that does not exist yet is smsdesk's to make: private, nothing to warn about.
    Runtime.open(str(tmp_path / "new-home")).close()
    assert modes(tmp_path / "new-home")["."] == "700"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_replies_and_a_message_kept_on_this_computer_are_private_in_a_chosen_folder(
    tmp_path: Path, expect_warnings: list[bool]
) -> None:
    """The two files that hold typed text (replies kept while a workspace was away, Compose's
    unsent message) are the login's alone, even in an open folder the person chose; an older
    copy left readable is made private at the next start."""
    from smsdesk.services.unsent import UnsentMessage

    stick = tmp_path / "usb-stick"
    stick.mkdir()
    stick.chmod(0o755)
    with umask(0o022):
        rt = Runtime.open(str(stick))
        try:
            rt.health.drafts.keep(7, "Can we make it 8pm?", "the workspace does not answer")
            UnsentMessage(stick / "unsent-message.json").keep("07911 123456", "Your table is ready")
        finally:
            rt.close()
    found = modes(stick)
    assert (found["offline-drafts.json"], found["unsent-message.json"]) == ("600", "600")
    for name in ("offline-drafts.json", "unsent-message.json"):
        (stick / name).chmod(0o644)  # as the previous version wrote them
    Runtime.open(str(stick)).close()
    found = modes(stick)
    assert (found["offline-drafts.json"], found["unsent-message.json"]) == ("600", "600")
