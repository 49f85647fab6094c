"""The repository stands on its own: no comment, docstring or document points at a design
file or folder outside it (a newcomer has only the repository). What the code relies on is
written where the code is: module docstrings and the README's "How it works"."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Built from parts so this file does not match itself.
OUTSIDE = tuple(
    name + suffix
    for name, suffix in (
        ("ARCHITECTURE", ".md"),
        ("PROVIDERS", ".md"),
        ("SMS_RULES", ".md"),
        ("provider", "-docs/"),
        ("../sha", "red/"),
        ("/work/sha", "red"),
    )
)
TEXT = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".sh", ".qss", ".svg", ".json", ".csv", ".spec", ""}


def _files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        files = [ROOT / line for line in out]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist)
        files = [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    return [p for p in files if p.suffix in TEXT and p.is_file()]


def references(text: str) -> list[str]:
    return [needle for needle in OUTSIDE if needle in text]


def test_nothing_points_outside_the_repository() -> None:
    found = []
    for path in _files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            for needle in references(line):
                found.append(f"  {path.relative_to(ROOT)}:{lineno}: {needle}")
    assert not found, "say it here instead of pointing outside the repository:\n" + "\n".join(found)


def test_the_guard_sees_a_reference() -> None:
    assert references("Facts: " + "PROVIDERS" + ".md section 2") == ["PROVIDERS" + ".md"]
    assert references("see ../sha" + "red/data/x.csv") == ["../sha" + "red/"]
    assert references("see the README") == []
