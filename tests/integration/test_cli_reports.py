"""``smsdesk report`` and ``smsdesk export messages`` as a person runs them (real subprocesses)."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pypdf
import pytest

from tests.integration.test_cli import as_json, smsdesk


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two delivered messages to two people, sent through the sandbox."""
    home = tmp_path_factory.mktemp("reports") / "cli-home"
    for number in ("07911123456", "07911123457"):
        sent = smsdesk(home, "send", "--account", "Sandbox", "--to", number, "--text", "Your table is ready", "--wait")
        assert sent.returncode == 0, sent.stderr
    return home


def test_report_prints_the_figures_and_json(home: Path) -> None:
    shown = smsdesk(home, "report", "--period", "7d")
    assert shown.returncode == 0, shown.stderr
    assert "Messages sent" in shown.stdout and "cost unknown" in shown.stdout
    data = as_json(smsdesk(home, "report", "--json"))
    h = data["headline"]
    assert (h["sent"], h["delivered"], h["failed"], h["delivered_rate"]) == (2, 2, 0, 1.0)
    assert h["cost_text"] == "cost unknown" and h["cost_unknown_parts"] == 2  # never 0
    assert data["period"]["kind"] == "30d" and len(data["buckets"]) == 30


def test_report_files_read_back(home: Path, tmp_path: Path) -> None:
    out = smsdesk(home, "report", "--csv", str(tmp_path / "r.csv"))
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader((tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert ["Messages sent", "2"] in rows and ["Delivered", "2"] in rows
    assert smsdesk(home, "report", "--pdf", str(tmp_path / "r.pdf")).returncode == 0
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(tmp_path / "r.pdf").pages).split())
    assert "Messages sent 2" in text and "Delivered 2" in text
    assert smsdesk(home, "report", "--xlsx", str(tmp_path / "r.xlsx")).returncode == 0
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert ("Messages sent", 2) in [tuple(r) for r in sheet.iter_rows(values_only=True)]


def test_export_messages_filters_and_keeps_the_plus(home: Path, tmp_path: Path) -> None:
    one = smsdesk(home, "export", "messages", "--contact", "07911 123456", "--csv", str(tmp_path / "one.csv"))
    assert one.returncode == 0, one.stderr
    assert "Wrote 1 message to" in one.stderr
    [row] = list(csv.DictReader((tmp_path / "one.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert (row["Number"], row["Direction"], row["Status"]) == ("+447911123456", "sent", "delivered")
    none = smsdesk(home, "export", "messages", "--direction", "in", "--csv", str(tmp_path / "in.csv"))
    assert "Wrote 0 messages" in none.stderr
    book = smsdesk(home, "export", "messages", "--status", "delivered", "--xlsx", str(tmp_path / "all.xlsx"))
    assert "Wrote 2 messages" in book.stderr
    rows = list(openpyxl.load_workbook(tmp_path / "all.xlsx").worksheets[0].iter_rows(values_only=True))
    assert rows[0][3:5] == ("Number", "Number as dialled")
    assert {r[3] for r in rows[1:]} == {"+447911123456", "+447911123457"}  # text: Excel keeps the +
    assert {r[4] for r in rows[1:]} == {"07911 123456", "07911 123457"}


def test_bad_input_says_what_to_do_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    missing = smsdesk(home, "report", "--csv", str(tmp_path / "nowhere" / "r.csv"))
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    backwards = smsdesk(home, "report", "--from", "2026-03-05", "--to", "2026-03-01")
    assert backwards.returncode == 2 and "before it starts" in backwards.stderr
    wrong = smsdesk(home, "export", "messages", "--csv", str(tmp_path / "m.pdf"))
    assert wrong.returncode == 2 and "--csv needs a file name ending in .csv" in wrong.stderr
    assert list(tmp_path.iterdir()) == []


def test_accounts_edit_sets_prices_and_a_limit_and_refuses_a_bad_table(home: Path) -> None:
    ok = smsdesk(
        home, "accounts", "edit", "Sandbox", "--set", "price_per_segment=0.04", "--set", "currency=gbp",
        "--set", "prices_by_country=ke=0.8", "--set", "monthly_limit=0.03",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    [acct] = [a for a in as_json(smsdesk(home, "accounts", "list", "--json")) if a["name"] == "Sandbox"]
    assert (acct["settings"]["prices_by_country"], acct["settings"]["monthly_limit"]) == ("KE=0.8", "0.03")
    assert acct["sender"] == "smsdesk"  # untouched
    bad = smsdesk(home, "accounts", "edit", "Sandbox", "--set", "prices_by_country=KE 0.8")
    assert bad.returncode == 2 and "'KE 0.8' is not a country and a price" in bad.stderr
    over = smsdesk(home, "send", "--account", "Sandbox", "--to", "07911123458", "--text", "Hi", "--wait")
    assert over.returncode == 2 and "over its monthly limit of £0.03" in over.stderr and "--over-limit" in over.stderr
    sent = smsdesk(
        home, "send", "--account", "Sandbox", "--to", "07911123458", "--text", "Hi", "--over-limit", "--wait"
    )
    assert sent.returncode == 0, sent.stderr
    edit = smsdesk(home, "accounts", "edit", "Sandbox", "--set", "monthly_limit=")  # no limit again
    assert edit.returncode == 0, edit.stderr
