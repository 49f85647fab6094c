"""``smsdesk review`` as a person runs it: the batches, the warning, exit codes, clean --json.

The batch is a PureSMS account's interrupted bulk send (PureSMS cannot be asked whether a
message went out). The sender is a real subprocess with its key in an in-memory keyring
(tests/support/bulk_runner.py); the provider is the standalone sandbox, so the messages a
person sends again really reach a provider.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smsdesk.config.secrets import secret_key
from smsdesk.runtime import Runtime
from tests.support import interrupted, sandbox_proc

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "support" / "bulk_runner.py"
KEY = "review-key"


def smsdesk(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SMSDESK_HOME": str(home),
        "SMSDESK_TEST_SECRETS": json.dumps({secret_key("Pure", "api_key"): KEY}),
    }
    return subprocess.run(
        [sys.executable, str(RUNNER), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def sandbox() -> Iterator[str]:
    with sandbox_proc.standalone_sandbox(KEY, "send_receipts=false") as url:
        yield url


def _interrupted_run(home: Path, url: str, n: int) -> int:
    """A PureSMS bulk run of ``n`` whose one batch request was cut off by a kill (``needs_review``)."""
    rt = Runtime.open(str(home))
    try:
        account = asyncio.run(rt.accounts.add("Pure", "puresms", {"base_url": url, "sender": "Shop", "api_key": KEY}))
        return interrupted.bulk_run(rt.store.db, account.id, n, n)
    finally:
        rt.close()


def test_review_lists_warns_and_sends_a_batch_again(tmp_path: Path, sandbox: str) -> None:
    home = tmp_path / "home"
    empty = smsdesk(home, "review")
    assert empty.returncode == 0 and "Nothing waits for review" in empty.stderr

    run_id = _interrupted_run(home, sandbox, 5)
    key = f"run-{run_id}"
    listed = smsdesk(home, "review")
    assert listed.returncode == 0, listed.stderr
    assert f"{key}  Bulk send {run_id} (customers.csv) from Pure: 5 messages" in listed.stdout
    assert "PureSMS cannot be asked" in listed.stdout
    assert f"smsdesk review send-again {key} --yes" in listed.stdout
    as_json = smsdesk(home, "review", "--json")
    [batch] = json.loads(as_json.stdout)
    assert batch["key"] == key and batch["count"] == 5 and batch["settle"] == "" and batch["checking"] is False

    unknown = smsdesk(home, "review", "mark-sent", "run-99")
    assert unknown.returncode == 2 and "No messages wait for review in batch 'run-99'" in unknown.stderr

    refused = smsdesk(home, "review", "send-again", key)
    assert refused.returncode == 2
    assert "any of these 5 people will get the message twice" in refused.stderr and "--yes" in refused.stderr
    assert httpx.get(sandbox + "/_sandbox/messages", timeout=5).json() == []  # nothing sent

    again = smsdesk(home, "review", "send-again", key, "--yes")
    assert again.returncode == 0, again.stderr
    assert "Outcome: 5 sent." in again.stderr
    assert len(httpx.get(sandbox + "/_sandbox/messages", timeout=5).json()) == 5
    assert "Nothing waits for review" in smsdesk(home, "review").stderr


def test_review_mark_sent_settles_the_batch(tmp_path: Path, sandbox: str) -> None:
    home = tmp_path / "home"
    run_id = _interrupted_run(home, sandbox, 3)
    done = smsdesk(home, "review", "mark-sent", f"run-{run_id}", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"batch": f"run-{run_id}", "marked_sent": 3}
    assert json.loads(smsdesk(home, "review", "--json").stdout) == []
    assert httpx.get(sandbox + "/_sandbox/messages", timeout=5).json() == []  # marking sends nothing
