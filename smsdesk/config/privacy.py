"""The data folder is private to the person's login: messages, numbers and webhook tokens in it
are nobody else's business on a shared front-desk computer.

On POSIX, smsdesk's folders are ``0700`` and its files ``0600``, whatever the process umask
(every file is created with an explicit mode and set to it, as a umask may take too little or
too much). The database's ``-wal`` and ``-shm`` files need nothing of their own: SQLite gives
them the mode of the database file. On each start :func:`tighten` takes group and other
access away from what an older smsdesk (or a copy) left readable.

A folder the person chose (``--home`` or ``SMSDESK_HOME``: a USB stick, a shared folder) is
theirs: smsdesk makes its own files in it private and says, once, that the folder itself is
open, instead of changing it. On Windows, modes mean nothing: the default data folder is in the
person's profile (``%LOCALAPPDATA%``, which only they can open), and a chosen folder outside the
profile is reported the same way.

Imports only the standard library (config layer).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

POSIX = os.name == "posix"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO

# What smsdesk itself keeps in a data folder; in a folder the person chose, only these are
# made private (their other files there are left alone). Names starting "smsdesk" cover the
# database, its -wal/-shm/-journal and anything else smsdesk names after itself. The two
# JSON files hold message text: replies kept while a workspace was away (services/health.py)
# and Compose's unsent message (services/unsent.py).
OWN_NAMES = frozenset(
    {
        "settings.toml",
        "settings.tmp",
        "logs",
        "exports",
        "backups",
        "offline-drafts.json",
        "offline-drafts.tmp",
        "unsent-message.json",
        "unsent-message.tmp",
    }
)


def _is_own(name: str) -> bool:
    return name.startswith("smsdesk") or name in OWN_NAMES


def make_private_dir(path: Path, parents: bool = False) -> bool:
    """Create ``path`` as a private folder if it is missing; True when it was created here.

    Only the folder itself is made private, never the parents created on the way (those are
    the person's, like ``~/.local/share``).
    """
    if path.is_dir():
        return False
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:
        return False  # another smsdesk process made it a moment ago: tighten() looks at it
    if POSIX:
        _set_mode(path, PRIVATE_DIR)  # the umask may have taken bits off (or too many)
    return True


def _set_mode(target: Path | int, mode: int) -> None:
    """chmod (a path) or fchmod (a descriptor); a file system without modes (a stick formatted
    FAT, some network shares) refuses it, which must not stop smsdesk from starting."""
    try:
        if isinstance(target, int):
            os.fchmod(target, mode)
        else:
            os.chmod(target, mode)
    except OSError as exc:
        log.info("could not set the mode of %s to %03o: %s", target, mode, exc)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` that creates a missing file ``0600`` and leaves the file ``0600`` whatever the
    umask took (or did not take) off."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    if POSIX and stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE_FILE:
        _set_mode(fd, PRIVATE_FILE)
    return fd


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a private file (created ``0600``)."""
    fd = open_private(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def replace_private_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: into a private ``.tmp`` beside it
    (``0600``), then renamed over it (the rename keeps the mode)."""
    tmp = path.with_suffix(".tmp")
    write_private_text(tmp, text)
    os.replace(tmp, path)


@dataclass
class PrivacyReport:
    """What :func:`tighten` found: what it made private, and the chosen folder left open."""

    tightened: list[Path] = field(default_factory=list)
    open_folder: str = ""  # a sentence for the person, "" when the folder is private
    folder_key: str = ""  # which folder and mode open_folder is about (to say it once)


def _walk(home: Path, everything: bool) -> Iterator[Path]:
    """Folders and files to make private: everything in smsdesk's own folder, or only smsdesk's
    entries (and all inside them) in a folder the person chose. Symbolic links are not followed."""
    stack = [p for p in home.iterdir() if everything or _is_own(p.name)]
    while stack:
        path = stack.pop()
        if path.is_symlink():
            continue
        yield path
        if path.is_dir():
            stack.extend(path.iterdir())


def _tighten_one(path: Path, report: PrivacyReport) -> None:
    try:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & _OPEN_BITS:
            os.chmod(path, mode & ~_OPEN_BITS)
            report.tightened.append(path)
    except OSError as exc:  # a stick formatted FAT takes no modes; a file gone meanwhile
        log.info("could not make %s private: %s", path, exc)


def _chosen_folder_problem(home: Path) -> tuple[str, str]:
    if POSIX:
        mode = stat.S_IMODE(home.stat().st_mode)
        if not mode & _OPEN_BITS:
            return "", ""
        return (
            f"The data folder {home} can be opened by other accounts on this computer (permissions "
            f"{mode:03o}). smsdesk made its own files in it private but leaves the folder as it is, since "
            f"you chose it. To keep others out, use a folder only you can open (chmod 700 {home}) or "
            "smsdesk's default data folder.",
            f"{home}:{mode:03o}",
        )
    try:
        home.relative_to(Path.home())
        return "", ""
    except ValueError:
        return (
            f"The data folder {home} is outside your user profile, where other accounts on this "
            "computer may be able to open it. Use a folder inside your profile, or smsdesk's default "
            "data folder.",
            f"{home}:outside-profile",
        )


def tighten(home: Path, chosen: bool) -> PrivacyReport:
    """Make the data folder private (see the module docstring); returns what was done.

    Args:
        home: the data folder (it exists).
        chosen: the person chose it (``--home``, ``SMSDESK_HOME``) and smsdesk did not create it
            just now: the folder itself and their other files in it are left alone.
    """
    report = PrivacyReport()
    if POSIX:
        if not chosen:
            _tighten_one(home, report)
        for path in _walk(home, everything=not chosen):
            _tighten_one(path, report)
    if chosen:
        report.open_folder, report.folder_key = _chosen_folder_problem(home)
    if report.tightened:
        shown = ", ".join(p.name for p in report.tightened[:4]) + (" and more" if len(report.tightened) > 4 else "")
        log.info(
            "made the data folder private to this login: %d files and folders in %s could be read by other "
            "accounts on this computer (%s)",
            len(report.tightened),
            home,
            shown,
        )
    return report
