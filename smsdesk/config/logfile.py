"""The app's log file, private like every file in the data folder.

Its own module because ``logging.handlers`` (with ``socket`` and ``pickle``) is 8 ms of
imports: the window attaches the log file right after its first paint.
"""

from __future__ import annotations

import io
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import cast

from smsdesk.config.privacy import open_private


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose current and rotated files are all private (``0600``)."""

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | (os.O_APPEND if "a" in self.mode else os.O_TRUNC)
        stream = os.fdopen(
            open_private(Path(self.baseFilename), flags), self.mode, encoding=self.encoding, errors=self.errors
        )
        return cast(io.TextIOWrapper, stream)  # text mode, as FileHandler's own
