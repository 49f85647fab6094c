"""A message typed in Compose and not sent, kept on this computer so nothing typed is lost.

When the window closes with something in Compose's To or message box, and when a send cannot
be written because the database does not answer (a team workspace's server away), what was
typed is kept in a small JSON file in the data folder, with the reason. The next start puts
it back in Compose and says so; once it is sent, or the boxes are emptied and the window
closed, the file goes. Qt-free; written whole or not at all, private to the login (``0600``).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from smsdesk.config.privacy import replace_private_text

log = logging.getLogger(__name__)


class Unsent(NamedTuple):
    to: str
    body: str
    reason: str  # why it was not sent ("" when the window simply closed)
    at: str  # when it was kept (ISO-8601, local time)


class UnsentMessage:
    """The one unsent Compose message of this data folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def keep(self, to: str, body: str, reason: str = "") -> None:
        """Keep what Compose holds (both boxes empty: forget it)."""
        if not to.strip() and not body.strip():
            self.forget()
            return
        data = {"to": to, "body": body, "reason": reason, "at": datetime.now().astimezone().isoformat()}
        try:
            replace_private_text(self.path, json.dumps(data, ensure_ascii=False, indent=1))
        except OSError as exc:
            log.warning("the unsent message could not be kept in %s: %s", self.path, exc)

    def get(self) -> Unsent | None:
        """The message kept, or None (none, or a file that does not read: logged)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Unsent(str(data["to"]), str(data["body"]), str(data.get("reason", "")), str(data.get("at", "")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the unsent message in %s could not be read: %s", self.path, exc)
            return None

    def forget(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("the unsent message in %s could not be removed: %s", self.path, exc)
