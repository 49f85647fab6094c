"""A fresh database file per test (real SQLite, the app's writer thread and migrations)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smsdesk.storage.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "smsdesk.sqlite3")
    try:
        yield database
    finally:
        database.close()
