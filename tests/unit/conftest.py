"""A fresh database per test, on each store: a real SQLite file (the app's writer thread and
migrations), and a real PostgreSQL database cloned from a migrated template
(``tests/conftest.py``). A test that holds only on SQLite asks for ``sqlite_db`` instead, or is
marked ``sqlite_only``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smsdesk.storage.db import Database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "smsdesk.sqlite3")
    try:
        yield database
    finally:
        database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        database: Any = Database(tmp_path / "smsdesk.sqlite3")
    else:
        from smsdesk.storage.pg.database import PgDatabase
        from smsdesk.storage.pg.url import WorkspaceUrl

        database = PgDatabase(WorkspaceUrl.parse(request.getfixturevalue("pg_workspace")))
    try:
        yield database
    finally:
        database.close()
