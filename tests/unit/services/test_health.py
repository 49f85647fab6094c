"""Replies kept on this computer while the database is out of reach, and the banner's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smsdesk.services.health import OfflineDrafts, StoreHealth


def test_offline_drafts_survive_a_restart_and_go_when_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "offline-drafts.json"
    drafts = OfflineDrafts(path)
    drafts.keep(7, "Can we make it 8pm? 🙂", "unreachable")
    drafts.keep(9, "On my way", "unreachable")
    again = OfflineDrafts(path)  # a restart reads the same file
    assert again.all() == {7: "Can we make it 8pm? 🙂", 9: "On my way"} and again.get(7) == "Can we make it 8pm? 🙂"
    again.forget(7)
    again.keep(9, "   ", "")  # an emptied reply is forgotten too
    assert again.all() == {} and not path.exists()


def test_a_damaged_file_loses_nothing_else_and_says_so(tmp_path: Path, expect_warnings: Any) -> None:
    path = tmp_path / "offline-drafts.json"
    path.write_text("{not json", encoding="utf-8")
    drafts = OfflineDrafts(path)
    assert drafts.all() == {} and drafts.get(1) is None
    drafts.keep(1, "Hello", "unreachable")
    assert OfflineDrafts(path).get(1) == "Hello"


def test_the_banner_says_since_when_and_goes_when_back(tmp_path: Path, expect_warnings: Any) -> None:
    health = StoreHealth("Workspace smsdesk on db:5432", OfflineDrafts(tmp_path / "d.json"))
    assert health.ok and health.words() == ""
    assert health.lost("connection refused") is True
    assert health.lost("connection refused") is False  # said once
    assert health.words().startswith("Workspace smsdesk on db:5432 unreachable since ")
    assert "retrying" in health.words() and not health.ok
    assert health.back() is True and health.back() is False and health.words() == ""
