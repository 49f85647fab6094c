"""Conversations at scale: 1,000,000 messages in 50,000 conversations.

``python bench/run.py conversations_scale [--messages N] [--conversations M] [--home DIR] [--regen]``

Generates the database once (``bench/_gen_conversations.py``; reused while its size
parameters match), then starts the real GUI offscreen in a fresh process
(``bench/_conversations_gui.py``) and reports, as JSON:

- ``start_to_list_s``: process start (interpreter, imports, DB open) to the conversation list
  populated and painted (target <= 1.5 s);
- ``open_big_thread_*_ms``: opening the 10,000-message thread, model + layout + paint (<= 100 ms);
- ``search_common_word_*_ms``: FTS5 search for a word in ~18 % of messages (<= 50 ms);
- ``peak_rss_mb``: the GUI process's peak resident memory (<= 300 MB).

Each figure is the median of several runs in the same process except ``*_first_*``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGETS = {
    "start_to_list_s": 1.5,
    "open_big_thread_median_ms": 100,
    "search_common_word_median_ms": 50,
    "peak_rss_mb": 300,
}


def main(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="conversations_scale")
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--conversations", type=int, default=50_000)
    p.add_argument("--big", type=int, default=10_000, help="messages in the one big thread")
    p.add_argument("--home", default=str(Path(tempfile.gettempdir()) / "smsdesk-bench-conv"))
    p.add_argument("--regen", action="store_true", help="generate the database again")
    p.add_argument("--runs", type=int, default=3, help="GUI start-ups to measure (median reported)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from _gen_conversations import generate

    home = Path(args.home)
    marker = home / "bench-params.json"
    params = {"messages": args.messages, "conversations": args.conversations, "big": args.big}
    result: dict[str, Any] = dict(params)
    if args.regen or not marker.exists() or json.loads(marker.read_text()) != params:
        if home.exists():
            import shutil

            shutil.rmtree(home)
        result.update(generate(home, args.messages, args.conversations, args.big))
        marker.write_text(json.dumps(params))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SMSDESK_HOME=str(home))
    runs: list[dict[str, float]] = []
    for _ in range(max(args.runs, 1)):
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, str(HERE / "_conversations_gui.py"), str(home), repr(t0)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise SystemExit(f"GUI child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    for key in runs[0]:
        values = sorted(r[key] for r in runs)
        result[key] = values[len(values) // 2]
    result["start_to_list_s_runs"] = [r["start_to_list_s"] for r in runs]
    result["meets_targets"] = {k: result[k] <= v for k, v in TARGETS.items()}
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), sort_keys=True))
