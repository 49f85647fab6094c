"""``smsdesk import`` as a person runs it: real subprocesses, the --dry-run --json contract, sends.

The Sandbox account (made on first start) needs no secret, so these run anywhere; keyring is
pinned to its ``fail`` backend so a person's real keyring is never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
TEMPLATE = "Hi {{first_name|there}}, see you {{appointment}}"


def smsdesk(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SMSDESK_HOME"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "smsdesk", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_dry_run_json_contract(tmp_path: Path) -> None:
    out = smsdesk(
        tmp_path / "h",
        "import",
        str(DATA / "csv/contacts_utf8.csv"),
        "--account",
        "Sandbox",
        "--template",
        TEMPLATE,
        "--dry-run",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # stdout is exactly one JSON object
    assert (report["rows"], report["accepted"], report["rejected"]) == (7, 5, 2)
    assert report["by_reason"] == {"duplicate": 1, "invalid_number": 1}
    assert [i["row"] for i in report["items"]] == list(range(1, 8))
    first, dup, bad = report["items"][0], report["items"][5], report["items"][6]
    assert first == {"row": 1, "status": "accepted", "number": "+447911123456", "segments": 1, "encoding": "GSM-7"}
    assert (dup["status"], dup["reason"], dup["number"]) == ("rejected", "duplicate", "+447911123457")
    assert (bad["status"], bad["reason"], bad["number"]) == ("rejected", "invalid_number", None)
    # Nothing was stored or sent by a dry run.
    again = smsdesk(tmp_path / "h", "messages", "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == []


def test_dry_run_without_template_has_no_segments_and_map_overrides(tmp_path: Path) -> None:
    out = smsdesk(
        tmp_path / "h",
        "import",
        str(DATA / "csv/excel_unicode_text.txt"),
        "--account",
        "Sandbox",
        "--country",
        "KE",
        "--map",
        "First=name",
        "--map",
        "Mobile=phone",
        "--dry-run",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["accepted"] == 2
    assert all("segments" not in i for i in report["items"])
    assert [i["number"] for i in report["items"]] == ["+254712345678", "+254722123456"]


@pytest.mark.parametrize(
    "args,words",
    [
        (["import", "nope.csv", "--account", "Sandbox", "--dry-run"], "No file"),
        (["import", "{data}/csv/contacts_utf8.csv", "--account", "Nobody", "--dry-run"], "No account named"),
        (
            ["import", "{data}/csv/contacts_utf8.csv", "--account", "Sandbox", "--map", "Mobile=phone", "--dry-run"],
            "No column 'Mobile'",
        ),
        (["import", "{data}/csv/contacts_utf8.csv", "--account", "Sandbox"], "--template"),
        (
            ["import", "{data}/csv/contacts_utf8.csv", "--account", "Sandbox", "--template", "Hi {{nickname}}"],
            "{{nickname}}",
        ),
    ],
)
def test_bad_input_exits_2_with_a_reason(tmp_path: Path, args: list[str], words: str) -> None:
    out = smsdesk(tmp_path / "h", *[a.replace("{data}", str(DATA)) for a in args])
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert words in out.stderr and out.stdout == ""


def test_send_then_rejects_file_and_schedule(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    out = smsdesk(
        tmp_path / "h",
        "import",
        str(DATA / "csv/contacts_utf8.csv"),
        "--account",
        "Sandbox",
        "--template",
        TEMPLATE,
        "--rejects",
        str(rejects),
        "--group",
        "Clinic",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["state"] == "done" and summary["sent"] + summary["delivered"] == 5
    assert summary["rows"] == summary["accepted"] + summary["rejected"] == 7
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "name,phone,appointment,row,reason,detail" and len(lines) == 3
    sent = json.loads(smsdesk(tmp_path / "h", "messages", "--json").stdout)
    assert sorted(m["text"] for m in sent)[0] == "Hi Alice, see you Mon 10:00"

    later = smsdesk(
        tmp_path / "h",
        "import",
        str(DATA / "csv/semicolon_cp1252.csv"),
        "--account",
        "Sandbox",
        "--template",
        "Hallo {{name}}",
        "--at",
        "2099-01-01T09:00:00+00:00",
        "--json",
    )
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["state"] == "scheduled"
    twice = smsdesk(
        tmp_path / "h",
        "import",
        str(DATA / "csv/semicolon_cp1252.csv"),
        "--account",
        "Sandbox",
        "--template",
        "Hallo {{name}}",
        "--json",
    )
    assert twice.returncode == 2 and "already being sent" in twice.stderr


def test_a_time_in_the_past_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    # It used to send at once while printing "Scheduled for ...", from a command with no dispatcher.
    out = smsdesk(
        tmp_path / "h",
        "import",
        str(DATA / "csv/contacts_utf8.csv"),
        "--account",
        "Sandbox",
        "--template",
        TEMPLATE,
        "--at",
        "2020-01-01T09:00:00+00:00",
        "--json",
    )
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "in the past" in out.stderr and "Scheduled" not in out.stderr and out.stdout == ""
    stored = smsdesk(tmp_path / "h", "messages", "--json")
    assert stored.returncode == 0 and json.loads(stored.stdout) == []
    queue = smsdesk(tmp_path / "h", "queue", "--json", "--all")
    assert queue.returncode == 0 and json.loads(queue.stdout) == []
