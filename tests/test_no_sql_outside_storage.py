"""Storage owns every SQL statement: no SQL text and no ``sqlite3`` anywhere else in smsdesk.

Read with ``ast``: every string literal (f-strings included, docstrings excepted) of every
module outside ``smsdesk/storage`` and ``smsdesk/sandbox`` (a simulated provider with its own
little database) is checked for SQL, and every import for ``sqlite3``. A second backend can
then replace storage without a statement hiding in a service.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "smsdesk"
EXEMPT = ("smsdesk/storage/", "smsdesk/sandbox/")


# Upper case, as SQL is written here; prose ("Select a file", "update smsdesk") never matches.
SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\b(SAVEPOINT|RELEASE|ROLLBACK\s+TO)\s+\w+|\bPRAGMA\s+\w+|\b(CREATE|DROP|ALTER)\s+(TABLE|INDEX|TRIGGER)\b"
    r"|\bON\s+CONFLICT\b|\bWHERE\b.*(=|\bIN\b|\bIS\b)",
    re.DOTALL,
)


@dataclass(frozen=True)
class Finding:
    where: str  # "smsdesk/services/x.py:12"
    text: str


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal but docstrings; an f-string's holes read ``{}``."""
    docs = _docstrings(tree)
    inside_fstrings = {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in ast.walk(node)
    } - {id(node) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            out.append((node.lineno, str(text)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and id(node) not in inside_fstrings
        ):
            out.append((node.lineno, node.value))
    return out


def sql_in(source: str, rel: str) -> list[Finding]:
    tree = ast.parse(source)
    return [Finding(f"{rel}:{line}", " ".join(text.split())[:120]) for line, text in _texts(tree) if SQL.search(text)]


def sqlite3_imports(source: str, rel: str) -> list[Finding]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        found += [Finding(f"{rel}:{node.lineno}", n) for n in names if n.split(".")[0] == "sqlite3"]
    return found


def _modules() -> list[tuple[str, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if not rel.startswith(EXEMPT):
            out.append((rel, path.read_text(encoding="utf-8")))
    assert out, f"no modules found under {PACKAGE}"
    return out


def _report(found: list[Finding]) -> str:
    return "\n".join(f"  {f.where}: {f.text}" for f in found)


def test_no_sql_text_outside_storage() -> None:
    found = [f for rel, src in _modules() for f in sql_in(src, rel)]
    assert not found, "SQL belongs in smsdesk/storage (a repository method), not here:\n" + _report(found)


def test_nothing_outside_storage_imports_sqlite3() -> None:
    found = [f for rel, src in _modules() for f in sqlite3_imports(src, rel)]
    assert not found, "only smsdesk/storage may import sqlite3:\n" + _report(found)


def test_the_scan_sees_sql_in_every_shape_and_leaves_prose_and_docstrings_alone() -> None:
    """Guard the guard."""
    source = '''
"""Module docstring: SELECT id FROM messages WHERE id = ? is documentation."""
import sqlite3
from sqlite3 import Row
def f(conn, ids):
    """SAVEPOINT event, in a docstring: fine."""
    conn.execute("SAVEPOINT event")
    conn.execute(f"UPDATE messages SET status = ? WHERE id IN ({','.join('?' * len(ids))})")
    conn.execute("SELECT 1 FROM kv WHERE key = 'initialized'")
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
    return "Select a file to update smsdesk from, where you keep it."
'''
    found = [f.where for f in sql_in(source, "smsdesk/services/sneaky.py")]
    assert found == [
        "smsdesk/services/sneaky.py:7",
        "smsdesk/services/sneaky.py:8",
        "smsdesk/services/sneaky.py:9",
        "smsdesk/services/sneaky.py:11",
    ], found
    assert [f.where for f in sqlite3_imports(source, "m.py")] == ["m.py:3", "m.py:4"]
