"""Run one benchmark: ``python bench/run.py NAME [options]``.

Loads ``bench/NAME.py`` and calls its ``main(argv)``. A benchmark returns a dict (printed here
as one JSON object on the last line) or prints its own JSON last line and returns None.
Benchmarks measure; tests never assert timings.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(
        p.stem for p in HERE.glob("*.py") if p.stem not in ("run", "__init__") and not p.stem.startswith("_")
    )
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("benchmarks:", ", ".join(names))
        return 0 if argv else 2
    name = argv[0]
    path = HERE / f"{name}.py"
    if not path.exists():
        print(f"no benchmark '{name}'; known: {', '.join(names)}", file=sys.stderr)
        return 2
    if str(HERE.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(argv[1:])
    if isinstance(result, dict):
        print(json.dumps(result, sort_keys=True))
        return 0
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
