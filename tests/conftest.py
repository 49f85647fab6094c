"""Fixtures for the whole suite.

- Every test gets an isolated ``SMSDESK_HOME`` and an in-memory keyring (tests marked
  ``keyring_real`` keep whatever backend the environment has: CI runs them in a D-Bus session
  with gnome-keyring).
- ``runtime``: a started :class:`smsdesk.runtime.Runtime` (receiver + sandbox + dispatcher)
  on the test's asyncio loop, over real loopback HTTP and a real SQLite file.
- A test fails on any unexpected WARNING-or-worse log record from smsdesk (qutebrowser's
  rule); tests that expect one use the ``expect_warnings`` fixture.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
import pytest_asyncio

from tests.support.keyring_memory import MemoryKeyring

if TYPE_CHECKING:
    from tests.support.pg_cluster import PgCluster

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the PostgreSQL variant (of ``db`` or ``runtime``) of a test marked ``sqlite_only``."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_pg = "postgresql" in (params.get("db"), params.get("runtime"))
        (drop if on_pg and item.get_closest_marker("sqlite_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SMSDESK_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def memory_keyring(request: pytest.FixtureRequest) -> Iterator[MemoryKeyring | None]:
    if request.node.get_closest_marker("keyring_real"):
        yield None
        return
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


class _WarningCatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("smsdesk"):
            self.records.append(record)


@pytest.fixture
def expect_warnings() -> list[bool]:
    """Request this fixture in a test that provokes smsdesk warnings on purpose."""
    return [True]


@pytest.fixture(autouse=True)
def _fail_on_warnings(request: pytest.FixtureRequest) -> Iterator[None]:
    catcher = _WarningCatcher()
    root = logging.getLogger()
    root.addHandler(catcher)
    try:
        yield
    finally:
        root.removeHandler(catcher)
    if "expect_warnings" in request.fixturenames:
        return
    if catcher.records:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in catcher.records[:5])
        pytest.fail(f"unexpected smsdesk warnings:\n{lines}")


@pytest.fixture
def data_dir() -> Path:
    return DATA


#: The stores the ``runtime`` fixture runs each test on (``SMSDESK_TEST_STORES`` narrows it).
STORES = os.environ.get("SMSDESK_TEST_STORES", "sqlite,postgresql").split(",")


@pytest_asyncio.fixture(params=STORES)
async def runtime(request: pytest.FixtureRequest, _isolated_home: Path) -> AsyncIterator[Runtime]:  # noqa: F821
    """A started runtime with the sandbox (fast receipts, no random replies), on each store:
    the data folder's SQLite file, and a PostgreSQL workspace (``--database``)."""
    from smsdesk.runtime import Runtime

    database = None
    if request.param == "postgresql":  # the CLI commands a test runs use it too
        database = request.getfixturevalue("pg_workspace")
        request.getfixturevalue("monkeypatch").setenv("SMSDESK_DATABASE_URL", database)
    rt = Runtime.open(str(_isolated_home), database=database)
    rt.settings.extra["sandbox_reply_rate"] = 0.0
    rt.settings.extra["sandbox_stop_rate"] = 0.0
    await rt.start(sandbox=True)  # a workspace runs no sandbox of its own: the tests ask for one
    assert rt.sandbox is not None
    rt.sandbox.server.config.dispatch_delay = 0.05
    rt.sandbox.server.config.final_delay = 0.1
    try:
        yield rt
    finally:
        await rt.stop()
        rt.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server for the whole session, started on first use (tests/support/pg_cluster.py).

    Without server binaries the test is skipped, except under ``CI=true`` (an error there: a
    skipped store would pass unnoticed)."""
    from tests.support.pg_cluster import PgCluster, ServerMissing

    try:
        cluster = PgCluster.start()
    except ServerMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PgCluster) -> str:
    """A database migrated to smsdesk's latest schema once per session, cloned per test."""
    from smsdesk.storage.pg.database import PgDatabase
    from smsdesk.storage.pg.url import WorkspaceUrl

    name = pg_cluster.create_database()
    PgDatabase(WorkspaceUrl.parse(pg_cluster.url(name))).close()
    return name


@pytest.fixture
def pg_workspace(pg_cluster: PgCluster, pg_template: str) -> Iterator[str]:
    """A fresh database with smsdesk's schema (a clone of the template); its libpq URL."""
    name = pg_cluster.create_database(template=pg_template)
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def pg_database(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database on the session's server; its libpq URL (dropped afterwards)."""
    name = pg_cluster.create_database()
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_database(name)
