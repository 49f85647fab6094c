"""The data directory: ``--home DIR`` > ``SMSDESK_HOME`` > the platform's user data dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_HOME = "SMSDESK_HOME"


@dataclass(frozen=True, slots=True)
class Paths:
    home: Path

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
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        return self


def resolve(home: str | os.PathLike[str] | None = None) -> Paths:
    """The data directory for this run (created on first use by :meth:`Paths.ensure`)."""
    if home:
        return Paths(Path(home).expanduser().resolve())
    env = os.environ.get(ENV_HOME)
    if env:
        return Paths(Path(env).expanduser().resolve())
    return Paths(Path(platformdirs.user_data_dir("smsdesk", appauthor=False)))
