"""Shared pieces: the sample files and an .xlsx made with openpyxl."""

from __future__ import annotations

from pathlib import Path

import pytest

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
