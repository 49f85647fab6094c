"""Provider knowledge lives in ``smsdesk/providers/`` (and the sandbox's wire formats in
``smsdesk/sandbox/``): nothing else names a provider by its id.

A service or view that asks ``if account.provider == "channel"`` has to be found and edited
for every new provider; one that asks the spec (``spec.envelope``, ``spec.builtin_sandbox``,
``spec.numeric_sender_only``, ``spec.sandbox``) does not. This test reads the source with
``ast`` and fails, naming file:line, on any string constant that is a provider id: compared
with ``==``/``!=``/``in`` (a provider test) or anywhere else (a table keyed by provider).
"""

from __future__ import annotations

import ast
from pathlib import Path

from smsdesk.providers import registry

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "smsdesk"
OWNERS = ("providers", "sandbox")  # smsdesk/<these>/ may name providers: they are the providers

# (file, id, text on that line): the same word, but not a provider check.
ALLOWED = {
    ("smsdesk/cli/sandbox_cmd.py", "sandbox", 'add_parser("sandbox"'): (
        "the CLI subcommand `smsdesk sandbox` (runs the simulated server), a command name scripts use"
    ),
    ("smsdesk/services/reception.py", "sandbox", 'SANDBOX = "sandbox"'): (
        "a value of the Route enum (how an account receives), not a provider id"
    ),
}


def _ids() -> frozenset[str]:
    return frozenset(spec.id for spec in registry.specs())


def _strings(node: ast.AST) -> list[ast.Constant]:
    """String constants of a comparison operand: the constant itself, or a tuple/list/set's."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [n for n in items if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def findings(path: Path, source: str, ids: frozenset[str]) -> list[str]:
    """``file:line: why`` for every provider id named in ``source`` and not allowed."""
    rel = path.relative_to(ROOT).as_posix() if path.is_absolute() else path.as_posix()
    lines = source.splitlines()
    tree = ast.parse(source, filename=rel)
    compared: set[int] = set()
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and all(
            isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
        ):
            for operand in (node.left, *node.comparators):
                for const in _strings(operand):
                    if const.value in ids:
                        compared.add(id(const))
                        out.append(f"{rel}:{const.lineno}: compares with provider id {const.value!r}")
        elif isinstance(node, ast.MatchValue):
            for const in _strings(node.value):
                if const.value in ids:
                    compared.add(id(const))
                    out.append(f"{rel}:{const.lineno}: matches provider id {const.value!r}")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or node.value not in ids:
            continue
        if id(node) in compared:
            continue
        line = lines[node.lineno - 1]
        if any(f == rel and v == node.value and text in line for f, v, text in ALLOWED):
            continue
        out.append(f"{rel}:{node.lineno}: names provider id {node.value!r}")
    return sorted(out, key=lambda f: (f.split(":")[0], int(f.split(":")[1]), f))


def scan() -> list[str]:
    ids = _ids()
    out: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in OWNERS:
            continue
        out += findings(path, path.read_text(encoding="utf-8"), ids)
    return out


def test_no_provider_id_outside_providers_and_sandbox() -> None:
    bad = scan()
    assert not bad, (
        "Provider knowledge belongs in the provider's spec (smsdesk/providers/spec.py), not in a "
        "check of its id; declare the fact on ProviderSpec and read it here instead:\n  " + "\n  ".join(bad)
    )


def test_every_allowance_is_still_needed() -> None:
    """An allowance whose line is gone would quietly allow a new use of the word there."""
    for file, value, text in ALLOWED:
        source = (ROOT / file).read_text(encoding="utf-8")
        assert any(text in line for line in source.splitlines()), f"{file}: no line with {text!r} any more"
        assert value in _ids()


def test_the_guard_sees_checks_tables_and_matches() -> None:
    """The guard itself: each kind of provider check is found; the allowed uses are not."""
    ids = frozenset({"puresms", "sandbox"})
    source = (
        'if account.provider == "puresms":\n    pass\n'
        'ok = provider_id in ("x", "sandbox")\n'
        'PATHS = {"puresms": "/"}\n'
        "match p:\n    case 'sandbox':\n        pass\n"
        'SANDBOX = "sandbox"\n'
    )
    got = findings(Path("smsdesk/services/reception.py"), source, ids)
    assert got == [
        "smsdesk/services/reception.py:1: compares with provider id 'puresms'",
        "smsdesk/services/reception.py:3: compares with provider id 'sandbox'",
        "smsdesk/services/reception.py:4: names provider id 'puresms'",
        "smsdesk/services/reception.py:6: matches provider id 'sandbox'",
    ]
