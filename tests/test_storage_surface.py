"""The storage surface a second backend implements is the only storage a service sees.

Outside ``smsdesk/storage`` a module imports only ``storage.api`` (the repository protocols)
and ``storage.records`` (the values crossing them); ``runtime.py`` and ``workspace.py`` alone
also build the stores. Every protocol of the aggregate ``Store`` is provided by ``SqliteStore``
and by ``PostgresStore`` with the same methods, each a coroutine exactly where the protocol says one write transaction.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from smsdesk.storage import api
from smsdesk.storage.sqlite_store import SqliteStore

PACKAGE = Path(__file__).resolve().parent.parent / "smsdesk"
SURFACE = {
    "smsdesk.storage.api",
    "smsdesk.storage.address_book_api",
    "smsdesk.storage.report_api",
    "smsdesk.storage.schedule_api",
    "smsdesk.storage.team_api",
    "smsdesk.storage.records",
    "smsdesk.storage.report_records",
}
COMPOSITION_ROOT = {
    "smsdesk/runtime.py": {"smsdesk.storage.sqlite_store"},
    "smsdesk/workspace.py": {
        "smsdesk.storage.pg",
        "smsdesk.storage.pg.admin",
        "smsdesk.storage.pg.copy",
        "smsdesk.storage.pg.database",
        "smsdesk.storage.pg.store",
        "smsdesk.storage.pg.url",
    },
}


def _storage_imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from smsdesk.storage import messages` imports smsdesk.storage.messages
            targets = [
                f"{node.module}.{a.name}" if node.module == "smsdesk.storage" else node.module for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "smsdesk.storage" or target.startswith("smsdesk.storage."):
                yield node.lineno, target


def _outside_storage() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if not rel.startswith("smsdesk/storage/"):
            found += [(rel, line, target) for line, target in _storage_imports(path)]
    return found


def test_outside_storage_only_the_api_and_its_records_are_imported() -> None:
    bad = [
        f"  {rel}:{line}: imports {target}"
        for rel, line, target in _outside_storage()
        if target not in SURFACE | COMPOSITION_ROOT.get(rel, set())
    ]
    assert not bad, (
        "outside smsdesk/storage, import smsdesk.storage.api / .records only (runtime.py and "
        "workspace.py also build the stores):\n" + "\n".join(bad)
    )


def test_the_surface_itself_imports_only_records_and_the_domain() -> None:
    records = sorted(f"records/{p.name}" for p in (PACKAGE / "storage" / "records").glob("*.py"))
    surface = ("api.py", "address_book_api.py", "report_api.py", "schedule_api.py", "team_api.py")
    for name in (*surface, *records, "report_records.py"):
        path = PACKAGE / "storage" / name
        smsdesk = {t for _line, t in _storage_imports(path)} | {
            n.module
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("smsdesk.")
        }
        allowed = {
            "smsdesk.storage.records",
            *(f"smsdesk.storage.records.{p[len('records/') : -3]}" for p in records),
            "smsdesk.storage.report_records",
            "smsdesk.storage.address_book_api",
            "smsdesk.storage.report_api",
            "smsdesk.storage.schedule_api",
            "smsdesk.storage.team_api",
        } | {m for m in smsdesk if m.startswith("smsdesk.domain")}
        assert smsdesk <= allowed, f"storage/{name} may import records and domain only: {smsdesk - allowed}"


def _members(proto: type) -> dict[str, Any]:
    """A protocol's own methods (what a backend implements)."""
    return {
        name: value for name, value in vars(proto).items() if not name.startswith("_") and inspect.isfunction(value)
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteStore]:
    opened = SqliteStore.open(tmp_path_factory.mktemp("surface") / "smsdesk.sqlite3")
    try:
        yield opened
    finally:
        opened.close()


def _problems(impls: dict[str, Any], protocols: dict[str, Any]) -> list[str]:
    problems = []
    for attr, proto in protocols.items():
        impl = impls.get(attr)
        if impl is None:
            problems.append(f"the store has no {attr} ({proto.__name__})")
            continue
        wanted = _members(proto)
        for name, method in wanted.items():
            got = getattr(impl, name, None)
            if got is None:
                problems.append(f"{type(impl).__name__}.{name} is missing ({proto.__name__})")
            elif inspect.iscoroutinefunction(method) != inspect.iscoroutinefunction(got):
                kind = "a coroutine (one write transaction)" if inspect.iscoroutinefunction(method) else "plain"
                problems.append(f"{type(impl).__name__}.{name} should be {kind}, as {proto.__name__} says")
        # A public method the protocol does not name is out of every service's reach: either
        # part of the surface (name it in the protocol) or dead.
        extra = sorted(
            n for n in dir(type(impl)) if not n.startswith("_") and callable(getattr(impl, n)) and n not in wanted
        )
        if extra:
            problems.append(f"{type(impl).__name__} has methods {proto.__name__} does not name: {extra}")
    return problems


def _protocols() -> dict[str, Any]:
    return {
        name: get_type_hints(member.fget)["return"]
        for name, member in vars(api.Store).items()
        if isinstance(member, property)
    }


def test_the_sqlite_store_provides_every_repository_as_its_protocol_says(store: SqliteStore) -> None:
    protocols = _protocols()
    assert len(protocols) >= 15
    problems = _problems({attr: getattr(store, attr, None) for attr in protocols}, protocols)
    assert not problems, "\n".join(problems)


def test_the_postgresql_store_provides_every_repository_as_its_protocol_says(pg_workspace: str) -> None:
    from smsdesk.storage.pg.store import PostgresStore
    from smsdesk.storage.pg.url import WorkspaceUrl

    pg = PostgresStore.open(WorkspaceUrl.parse(pg_workspace))
    try:
        protocols = _protocols()
        problems = _problems({attr: getattr(pg, attr, None) for attr in protocols}, protocols)
        assert not problems, "\n".join(problems)
    finally:
        pg.close()


def test_the_surface_check_notices_a_missing_a_misshapen_and_an_unnamed_method() -> None:
    """Guard the guard."""

    class Notes:
        def note(self, key: str) -> str | None:
            return None

        def swap_note(self, key: str, old: str | None, new: str) -> bool:  # not a transaction
            return True

        def vacuum(self) -> None:
            pass

    problems = _problems({"backup": Notes()}, {"backup": api.BackupStore})
    assert "Notes.write_backup is missing (BackupStore)" in problems
    assert "Notes.swap_note should be a coroutine (one write transaction), as BackupStore says" in problems
    assert "Notes has methods BackupStore does not name: ['vacuum']" in problems
    assert _problems({}, {"review": api.ReviewStore}) == ["the store has no review (ReviewStore)"]
