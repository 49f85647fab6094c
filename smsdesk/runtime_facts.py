"""What the runtime reports about itself: what opening the data folder found, and where
this process's receiver and sandbox run (plain values for the window and the commands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smsdesk.config.privacy import PrivacyReport
    from smsdesk.services.backup import RestoreResult


@dataclass(frozen=True, slots=True)
class StartupReport:
    """What opening the data folder found, for a notice in the window.

    Attributes:
        privacy: what was made private (and whether a folder the person chose is open to others).
        restored: a restore staged in Settings -> Data and done at this start, or None.
        restore_error: why a staged restore still waits, or "".
    """

    privacy: PrivacyReport
    restored: RestoreResult | None = None
    restore_error: str = ""


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    """Where this process's receiver and sandbox run, or why they do not (a snapshot)."""

    receiver_url: str = ""
    receiver_error: str = ""
    sandbox_url: str = ""
    sandbox_error: str = ""
