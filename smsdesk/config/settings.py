"""Typed application settings, saved as TOML in the data directory (never secrets)."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from smsdesk.config.privacy import PrivacyReport, replace_private_text

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Settings:
    """Everything a person can set that is not per account and not secret."""

    default_region: str = "GB"
    receiver_host: str = "127.0.0.1"
    receiver_port: int = 0  # 0: pick a free port each start
    sandbox_port: int = 0
    demo_mode: bool = True  # run the built-in sandbox provider inside the app
    # A team workspace this desktop joined (``smsdesk workspace join``): its postgresql:// URL,
    # never with a password (that is in the keyring). "": this data folder's own SQLite file.
    workspace: str = ""
    demo_notice_dismissed: bool = False  # the first-start "this is demo mode" notice was closed
    theme: str = "system"  # system | light | dark
    overdue_limit_minutes: int = 60
    confirm_send_threshold: int = 5  # Send asks first from this many recipients; 0: never asks
    tunnel_command: str = ""
    tunnel_kind: str = "none"  # none | ngrok | command
    backup_daily: bool = True  # one automatic backup a day (services/backup.py)
    backup_keep: int = 7  # automatic backups kept in the backup folder
    backup_folder: str = ""  # "": <data folder>/backups
    # The business, for HELP and out-of-hours automatic replies (services/autoreplies.py):
    # its name, IANA time zone ("": this computer's), opening hours Monday first ("" = closed)
    # and holidays (ISO dates, closed all day).
    business_name: str = ""
    business_zone: str = ""
    business_hours: list[str] = field(default_factory=lambda: ["09:00-17:00"] * 5 + ["", ""])
    holidays: list[str] = field(default_factory=list)
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
        replace_private_text(path, tomli_w.dumps(asdict(self)))


class SettingsFile:
    """The settings of this process and the file they live in.

    ``settings`` is this process's copy (the window edits it, then calls :meth:`save`).
    :meth:`keep` writes one value into the file *as it is on disk now*: another process on the
    same data folder (``smsdesk serve`` beside the window), or the person, may have changed the
    rest since this process read it.
    """

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        self.path = path
        self.settings = settings if settings is not None else Settings.load(path)

    def save(self) -> None:
        self.settings.save(self.path)

    def keep(self, name: str, value: Any) -> None:
        """Set ``name`` here and in the file; never over an unreadable file (left for a person)."""
        setattr(self.settings, name, value)
        try:
            if self.path.exists():
                tomllib.loads(self.path.read_text(encoding="utf-8"))  # unreadable: leave it alone
            fresh = Settings.load(self.path)
            setattr(fresh, name, value)
            fresh.save(self.path)
        except (OSError, ValueError) as exc:
            log.warning("could not keep %s in %s: %s", name, self.path, exc)

    def ensure_receiver_port(self, pick: Callable[[], int] | None = None) -> bool:
        """Give the receiver a port to keep on the first start (a stable port keeps webhook URLs,
        and tunnels pointing at them, valid across runs): ``pick``'s, else one free now on this
        computer; True when it was picked now."""
        if self.settings.receiver_port:
            return False
        self.settings.receiver_port = (pick or _free_port)()
        return True

    def warn_open_folder_once(self, report: PrivacyReport) -> bool:
        """Warn that a data folder the person chose is open to other logins, once per folder and
        mode (remembered in the settings); True when the settings changed and need saving."""
        said = str(self.settings.extra.get("open_folder_warned", ""))
        if report.folder_key == said:
            return False
        if report.open_folder:
            log.warning(report.open_folder)
            self.settings.extra["open_folder_warned"] = report.folder_key
        else:
            self.settings.extra.pop("open_folder_warned", None)  # private now: say it again if that changes
        return True


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
