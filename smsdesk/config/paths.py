"""The data directory: ``--home DIR`` > ``SMSDESK_HOME`` > the platform's user data dir.

The platform's folder comes from platformdirs: ``~/.local/share/smsdesk`` on Linux,
``~/Library/Application Support/smsdesk`` on macOS, and ``%LOCALAPPDATA%\\smsdesk`` on Windows,
inside the person's profile (never a machine-wide folder such as ProgramData). It is kept
private to the login (:mod:`smsdesk.config.privacy`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from smsdesk.config.privacy import PrivacyReport, make_private_dir, tighten

ENV_HOME = "SMSDESK_HOME"
# A backup chosen in Settings -> Data waits here, beside the database, for the next start.
STAGED_RESTORE = "restore-pending.sqlite3"


@dataclass(frozen=True, slots=True)
class Paths:
    home: Path
    chosen: bool = False  # the person named it (--home, SMSDESK_HOME): the folder is theirs

    @property
    def database(self) -> Path:
        return self.home / "smsdesk.sqlite3"

    @property
    def settings(self) -> Path:
        return self.home / "settings.toml"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def exports(self) -> Path:
        return self.home / "exports"

    def ensure(self) -> Paths:
        """Create the folder if missing and make it private (:meth:`prepare`)."""
        self.prepare()
        return self

    def prepare(self) -> PrivacyReport:
        """Create the folder (private) if missing and make what is in it private; what was done."""
        created = make_private_dir(self.home, parents=True)
        make_private_dir(self.logs)
        return tighten(self.home, chosen=self.chosen and not created)


def resolve(home: str | os.PathLike[str] | None = None) -> Paths:
    """The data directory for this run (created on first use by :meth:`Paths.ensure`)."""
    if home:
        return Paths(Path(home).expanduser().resolve(), chosen=True)
    env = os.environ.get(ENV_HOME)
    if env:
        return Paths(Path(env).expanduser().resolve(), chosen=True)
    return Paths(Path(platformdirs.user_data_dir("smsdesk", appauthor=False)))
