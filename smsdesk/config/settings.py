"""Typed application settings, saved as TOML in the data directory (never secrets)."""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from smsdesk.config.privacy import write_private_text

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Settings:
    """Everything a person can set that is not per account and not secret."""

    default_region: str = "GB"
    receiver_host: str = "127.0.0.1"
    receiver_port: int = 0  # 0: pick a free port each start
    sandbox_port: int = 0
    demo_mode: bool = True  # run the built-in sandbox provider inside the app
    demo_notice_dismissed: bool = False  # the first-start "this is demo mode" notice was closed
    theme: str = "system"  # system | light | dark
    overdue_limit_minutes: int = 60
    confirm_send_threshold: int = 5  # Send asks first from this many recipients; 0: never asks
    tunnel_command: str = ""
    tunnel_kind: str = "none"  # none | ngrok | command
    backup_daily: bool = True  # one automatic backup a day (services/backup.py)
    backup_keep: int = 7  # automatic backups kept in the backup folder
    backup_folder: str = ""  # "": <data folder>/backups
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Settings:
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            log.warning("settings file %s unreadable (%s); using defaults", path, exc)
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        write_private_text(tmp, tomli_w.dumps(asdict(self)))  # 0600: the replace keeps the mode
        os.replace(tmp, path)
