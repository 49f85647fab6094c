"""The layer rule (README, "How it works"), checked by reading every module's imports with ``ast``.

``app / cli -> ui -> services -> providers | storage | config | webhook -> domain``; the
sandbox is a separate simulated server that imports nothing else from smsdesk. Imports are
collected everywhere in a module (function bodies and ``TYPE_CHECKING`` blocks included) and
relative imports are resolved, so a lazy or relative import cannot slip past.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "smsdesk"
MAX_LINES = 600

QT = {"PySide6", "qasync", "shiboken6"}
# The only places allowed to import Qt: the UI itself and the composition roots.
QT_ALLOWED = ("smsdesk.ui", "smsdesk.app", "smsdesk.cli", "smsdesk.__main__")
UI_FORBIDDEN = {"sqlite3", "httpx", "httpx_aiohttp", "aiohttp", "keyring", "secretstorage"}
DOMAIN_FORBIDDEN = {"httpx", "httpx_aiohttp", "sqlite3", "keyring", "aiohttp"} | QT

# Higher number = higher layer; a module may import its own layer or lower ones only.
RANK = {
    "smsdesk.domain": 0,
    "smsdesk.providers": 1,
    "smsdesk.storage": 1,
    "smsdesk.config": 1,
    "smsdesk.receiver": 1,
    "smsdesk.services": 2,
    "smsdesk.runtime": 3,
    "smsdesk.ui": 4,
    "smsdesk.app": 5,
    "smsdesk.cli": 5,
    "smsdesk.__main__": 5,
}


@dataclass(frozen=True)
class Import:
    module: str  # importing module, dotted ("smsdesk.ui.aio")
    target: str  # imported module, absolute and dotted ("PySide6.QtCore")
    where: str  # "smsdesk/ui/aio.py:12" for the failure message

    @property
    def top(self) -> str:
        return self.target.split(".")[0]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports_of(path: Path, root: Path | None = None) -> list[Import]:
    root = root or PACKAGE.parent
    module = _module_name(path, root)
    # The package a relative import is relative to: the module's own package.
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    rel = path.relative_to(root).as_posix()
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from smsdesk import ui` imports smsdesk.ui: keep the names too.
            targets = [stem] + [f"{stem}.{a.name}" for a in node.names if a.name != "*"]
        found += [Import(module, t, f"{rel}:{node.lineno}") for t in targets]
    return found


def _all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in _imports_of(path)]


def _within(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _report(bad: list[Import]) -> str:
    return "\n".join(f"  {imp.where}: imports {imp.target}" for imp in bad)


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    found = _all_imports()
    assert found, f"no imports found under {PACKAGE}: is the path right?"
    return found


def test_qt_is_imported_only_by_the_ui_and_the_composition_roots(imports: list[Import]) -> None:
    bad = [i for i in imports if i.top in QT and not _within(i.module, QT_ALLOWED)]
    assert not bad, "PySide6/qasync imported outside ui/, app.py, cli/, __main__.py:\n" + _report(bad)


def test_ui_never_touches_sql_http_or_keyring(imports: list[Import]) -> None:
    bad = [i for i in imports if _within(i.module, "smsdesk.ui") and i.top in UI_FORBIDDEN]
    assert not bad, "the UI must go through services for SQL, HTTP and secrets:\n" + _report(bad)


def test_ui_sees_services_not_the_runtime_or_storage(imports: list[Import]) -> None:
    """Views get typed services (``ui.context.UiServices``) from the composition root; what the
    process is made of, and how rows are stored, stay behind those services."""
    bad = [
        i
        for i in imports
        if _within(i.module, "smsdesk.ui") and _within(i.target, ("smsdesk.runtime", "smsdesk.storage"))
    ]
    assert not bad, "the UI must ask services, not the runtime or storage:\n" + _report(bad)


# What the services keep to themselves: their repositories and database, the runtime, the
# change watch (and its relay dict), the secret store and the accounts' wiring tables.
SERVICE_INSIDES = {"rt", "repo", "db", "watch", "secrets", "session_secrets", "public_base"}


def test_ui_calls_service_methods_not_their_insides() -> None:
    bad = []
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(PACKAGE.parent).as_posix()
        bad += [
            f"  {rel}:{node.lineno}: .{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in SERVICE_INSIDES
        ]
    assert not bad, "views ask services (add a query method to the service) instead of reaching in:\n" + "\n".join(bad)


def test_sandbox_imports_nothing_else_from_smsdesk(imports: list[Import]) -> None:
    bad = [
        i
        for i in imports
        if _within(i.module, "smsdesk.sandbox")
        and _within(i.target, "smsdesk")
        and not _within(i.target, "smsdesk.sandbox")
    ]
    assert not bad, "smsdesk/sandbox must stand alone (it is a fake provider):\n" + _report(bad)


def test_domain_is_pure(imports: list[Import]) -> None:
    bad = [
        i
        for i in imports
        if _within(i.module, "smsdesk.domain")
        and (
            i.top in DOMAIN_FORBIDDEN
            or (_within(i.target, "smsdesk") and not _within(i.target, "smsdesk.domain") and i.target != "smsdesk")
        )
    ]
    assert not bad, "smsdesk/domain must stay free of I/O, Qt and other layers:\n" + _report(bad)


def _rank(name: str) -> int | None:
    for prefix, rank in RANK.items():
        if _within(name, prefix):
            return rank
    return None


def test_no_layer_imports_a_higher_layer(imports: list[Import]) -> None:
    bad = []
    for imp in imports:
        mine, theirs = _rank(imp.module), _rank(imp.target)
        if mine is not None and theirs is not None and theirs > mine:
            bad.append(imp)
    assert not bad, (
        "layers point down only (app/cli -> ui -> runtime -> services -> "
        "providers|storage|config|webhook -> domain):\n" + _report(bad)
    )


def test_no_module_exceeds_the_size_limit() -> None:
    sizes = {
        path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    big = {name: n for name, n in sorted(sizes.items()) if n > MAX_LINES}
    assert not big, f"split these modules (limit {MAX_LINES} lines): {big}"


def test_the_checker_sees_lazy_relative_and_from_package_imports(tmp_path: Path) -> None:
    """Guard the guard: imports hidden in functions or written relatively are still seen."""
    module = tmp_path / "smsdesk" / "services" / "sneaky.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from __future__ import annotations\n"
        "from .. import ui\n"
        "def later():\n"
        "    import PySide6.QtCore\n"
        "    from ..storage.db import Database\n"
        "    from . import bus\n"
    )
    found = {i.target: i for i in _imports_of(module, tmp_path)}
    assert {"smsdesk.ui", "PySide6.QtCore", "smsdesk.storage.db", "smsdesk.services.bus"} <= set(found)
    assert found["PySide6.QtCore"].where == "smsdesk/services/sneaky.py:4"
    assert _rank(found["smsdesk.ui"].target) > _rank("smsdesk.services.sneaky")  # type: ignore[operator]
