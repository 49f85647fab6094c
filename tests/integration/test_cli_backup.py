"""``smsdesk backup`` / ``smsdesk restore`` as a person runs them: real processes, exit codes, words.

The child processes have no keyring (keyring's ``fail`` backend), as on a new computer whose
keyring holds none of the keys: restore then lists the accounts whose keys must be entered.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from smsdesk.runtime import Runtime
from smsdesk.storage.migrations import LATEST_VERSION
from tests.support import serve_proc


def smsdesk(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SMSDESK_HOME"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "smsdesk", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        check=False,
    )


def test_backup_and_restore_exit_codes_and_words(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rt = Runtime.open(str(home))
    try:
        asyncio.run(
            rt.accounts.add("Mob", "mobivate", {"base_url": "http://127.0.0.1:9", "sender": "Shop", "api_key": "k"})
        )
    finally:
        rt.close()

    made = smsdesk(home, "backup")
    assert made.returncode == 0, made.stderr
    assert "Backed up 0 messages and 2 accounts (Mob, Sandbox)" in made.stderr
    [first] = (home / "backups").iterdir()
    assert f"to {first}" in made.stderr and stat.S_IMODE(first.stat().st_mode) == 0o600

    named = tmp_path / "monday.sqlite3"
    as_json = smsdesk(home, "backup", str(named), "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["path"] == str(named)
    again = smsdesk(home, "backup", str(named))
    assert again.returncode == 2
    assert (
        again.stderr.strip() == f"smsdesk: error: {named} already exists. Give a new file name (nothing was written)."
    )

    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(named.read_bytes()[:3000])
    bad = smsdesk(home, "restore", str(damaged))
    assert bad.returncode == 2 and "Nothing was changed" in bad.stderr and str(damaged) in bad.stderr
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(named.read_bytes())
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    conn.close()
    too_new = smsdesk(home, "restore", str(newer))
    assert too_new.returncode == 2 and "was made by a newer smsdesk" in too_new.stderr

    proc, lines = serve_proc.start_serve(home, "--no-sandbox")
    try:
        assert lines and lines[-1].startswith("Serving;"), lines
        busy = smsdesk(home, "restore", str(named))
    finally:
        proc.terminate()
        proc.wait(20)
    assert busy.returncode == 1
    assert f"smsdesk serve (process {proc.pid} on this computer) has the database open" in busy.stderr
    assert not (home / "replaced").exists()

    done = smsdesk(home, "restore", str(named))
    assert done.returncode == 0, done.stderr
    assert "Restored 0 messages and 2 accounts (Mob, Sandbox)" in done.stderr and f"from {named}." in done.stderr
    [aside] = (home / "replaced").iterdir()
    assert f"The data it replaced is kept at {aside}." in done.stderr
    assert (
        "Enter them again in the smsdesk window (Settings -> Accounts) for:\n  Mob (Mobivate): API key" in done.stderr
    )

    listed = smsdesk(home, "restore", str(first), "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout)["keys_to_enter"] == [
        {"account": "Mob", "provider": "Mobivate", "fields": ["API key"]}
    ]
