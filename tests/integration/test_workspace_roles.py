"""Who may do what in a team workspace, enforced by the database's grants: accounts are the
owner's, a relay may keep its own copy of an account's keys, and bulk sends can be limited to
the owner. A refusal is said in plain words with a non-zero exit code."""

from __future__ import annotations

import io
from typing import Any

import psycopg
import pytest

from smsdesk.cli import main as cli_main
from tests.support.pg_cluster import drop_people


def _as(owner: str, user: str) -> str:
    return owner.replace("postgresql://postgres@", f"postgresql://{user}@")


def test_accounts_are_the_owners_and_bulk_sends_can_be(
    pg_database: str, capsys: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: Any, request: pytest.FixtureRequest
) -> None:
    owner = pg_database
    assert cli_main(["workspace", "create", owner]) == 0
    request.addfinalizer(lambda: drop_people(owner, "ana", "relay1"))
    for name, extra in (("ana", []), ("relay1", ["--relay"])):
        monkeypatch.setattr("sys.stdin", io.StringIO("their password\n"))
        assert cli_main(["--database", owner, "workspace", "add-user", name, *extra]) == 0
    monkeypatch.setenv("SMSDESK_SECRET_DATABASE_PASSWORD", "their password")
    monkeypatch.setenv("SMSDESK_SECRET_API_KEY", "pure-key")
    add = ["accounts", "add", "--provider", "puresms", "--name"]
    assert cli_main(["--database", owner, *add, "Shop"]) == 0
    capsys.readouterr()

    # Staff: no new accounts, no edits (prices are the owner's).
    assert cli_main(["--database", _as(owner, "ana"), *add, "Other"]) == 1
    err = capsys.readouterr().err
    assert "Only the workspace's owner may do this" in err and "accounts" in err and "Traceback" not in err
    code = cli_main(["--database", _as(owner, "ana"), "accounts", "edit", "Shop", "--set", "price_per_segment=0.01"])
    assert code == 1 and "Only the workspace's owner" in capsys.readouterr().err

    # A relay keeps its own copy of an existing account's keys, but adds no account.
    assert cli_main(["--database", _as(owner, "relay1"), *add, "Shop"]) == 0
    assert "Kept this computer's copy" in capsys.readouterr().err
    assert cli_main(["--database", _as(owner, "relay1"), *add, "Another"]) == 1
    assert "Only the workspace's owner" in capsys.readouterr().err

    # Bulk sends: everyone by default, the owner only when the owner says so.
    def may_start_bulk() -> bool:
        with psycopg.connect(owner) as conn:
            row = conn.execute("SELECT has_table_privilege('ana', 'bulk_runs', 'INSERT')").fetchone()
        return bool(row and row[0])

    assert may_start_bulk()
    assert cli_main(["--database", owner, "workspace", "bulk-sends", "owners"]) == 0
    assert "Only the workspace's owner may start bulk sends" in capsys.readouterr().err
    assert not may_start_bulk()
    assert cli_main(["--database", owner, "workspace", "bulk-sends", "everyone"]) == 0
    assert may_start_bulk()


def test_exports_of_the_address_book_can_be_kept_to_the_owner(
    pg_database: str,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: Any,
    request: pytest.FixtureRequest,
    tmp_path: Any,
) -> None:
    owner = pg_database
    assert cli_main(["workspace", "create", owner]) == 0
    request.addfinalizer(lambda: drop_people(owner, "ben"))
    monkeypatch.setattr("sys.stdin", io.StringIO("their password\n"))
    assert cli_main(["--database", owner, "workspace", "add-user", "ben"]) == 0
    monkeypatch.setenv("SMSDESK_SECRET_DATABASE_PASSWORD", "their password")
    assert cli_main(["--database", owner, "contacts", "add", "--number", "07911 123456", "--name", "Ann Lee"]) == 0
    capsys.readouterr()
    staff = _as(owner, "ben")
    first, second, third = (tmp_path / f"{n}.csv" for n in ("first", "second", "third"))

    # Everyone by default: the export is written, and who made it is the database's word.
    assert cli_main(["--database", staff, "contacts", "export", str(first)]) == 0
    assert "Ann Lee" in first.read_text(encoding="utf-8-sig")

    assert cli_main(["--database", owner, "workspace", "exports", "owners"]) == 0
    assert "Only the workspace's owner may export the address book" in capsys.readouterr().err
    assert cli_main(["--database", staff, "contacts", "export", str(second)]) == 1
    err = capsys.readouterr().err
    assert "Only the workspace's owner may do this" in err and "Traceback" not in err
    assert not second.exists()  # refused before any file was written
    assert cli_main(["--database", owner, "contacts", "export", str(third)]) == 0  # the owner still may

    assert cli_main(["--database", owner, "workspace", "exports", "everyone"]) == 0
    assert cli_main(["--database", staff, "contacts", "export", str(second)]) == 0
    with psycopg.connect(owner) as conn:
        actors = [r[0] for r in conn.execute("SELECT actor FROM address_book_exports ORDER BY id")]
    assert actors == ["ben", "postgres", "ben"]
