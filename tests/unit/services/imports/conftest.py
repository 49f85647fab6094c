"""Shared pieces: the sample files and an .xlsx made with openpyxl."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.services.imports.mapping import guess
from smsdesk.services.imports.readers import Table, read_file
from smsdesk.services.imports.validate import Report, validate

DATA = Path(__file__).resolve().parents[3] / "data"
SAMPLES = sorted((DATA / "csv").iterdir()) + sorted((DATA / "import").iterdir())


@pytest.fixture
def xlsx_file(tmp_path: Path) -> Path:
    """A workbook as Excel leaves it: numbers stored as numbers (zero lost, big floats)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Contacts from the shop"])  # a title line above the header
    ws.append([])
    ws.append(["Name", "Mobile", "Visits"])
    ws.append(["Ada", 7400123471, 3])  # lost leading zero, stored as an int
    ws.append(["Bea", 447400123472.0, 1])  # stored as a float
    ws.append(["Cy", "07400 123473", 2])  # typed as text
    ws.append(["Di", None, 0])  # no number
    path = tmp_path / "shop.xlsx"
    wb.save(path)
    return path


def assert_promise(path: Path, country: str = "GB") -> tuple[Table, Report]:
    """Read, guess and validate ``path``: rows = accepted + rejected, every reject with a reason.

    Returns ``(table, report)`` for further checks.
    """
    table = read_file(path, country=country)
    report = validate(table, guess(table, country))
    assert report.rows == len(table.rows) == report.accepted + report.rejected
    assert all(r.reason and r.detail for r in report.rejected_items)
    return table, report
