"""Search indexing deferred to the end of each write transaction (migration V7).

Whatever a transaction does to a message or conversation before it commits, what is
committed is indexed exactly as the row stands: search never misses a row and the FTS
index never holds a row that is gone.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from smsdesk.storage import conversations as conv_store
from smsdesk.storage import messages as msg_store
from smsdesk.storage.conversations import ConversationRepository
from smsdesk.storage.db import Database
from smsdesk.storage.messages import NewOutgoing


@pytest.fixture
def db(tmp_path: Path):
    d = Database(tmp_path / "t.db")
    d.write_sync(
        lambda c: c.execute(
            "INSERT INTO accounts (name, provider, created_at, updated_at) VALUES ('A', 'sandbox', '', '')"
        )
    )
    yield d
    d.close()


def _integrity(db: Database) -> None:
    def check(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)")
        c.execute("INSERT INTO conversation_fts(conversation_fts) VALUES ('integrity-check')")

    db.write_sync(check)


def test_rows_written_in_one_transaction_are_searchable_after_commit(db: Database) -> None:
    items = [NewOutgoing(1, f"+4479111234{i:02d}", "me", f"parcel {i}", 1, "GSM-7") for i in range(50)]
    db.write_sync(lambda c: msg_store.insert_outgoing(c, items))
    repo = ConversationRepository(db)
    assert len(repo.search_messages("parcel", 100)) == 50
    assert sorted(r.text for r in repo.search_conversations("791112340", 20)) == [
        f"+4479111234{i:02d}" for i in range(10)
    ]
    assert db.query_one("SELECT count(*) FROM message_fts_todo")[0] == 0  # type: ignore[index]
    _integrity(db)


def test_edit_and_delete_before_commit_leave_a_consistent_index(db: Database) -> None:
    def churn(c: sqlite3.Connection) -> None:
        a, b, _ = msg_store.insert_outgoing(
            c,
            [
                NewOutgoing(1, "+447911000001", "me", "apples", 1, "GSM-7"),
                NewOutgoing(1, "+447911000002", "me", "bananas", 1, "GSM-7"),
                NewOutgoing(1, "+447911000003", "me", "cherries", 1, "GSM-7"),
            ],
        )
        c.execute("UPDATE messages SET body = 'avocados' WHERE id = ?", (a,))
        c.execute("DELETE FROM messages WHERE id = ?", (b,))
        c.execute("DELETE FROM conversations WHERE remote = '+447911000002'")
        conv_store.set_contact_name(c, "+447911000003", "Cherry Tree")

    db.write_sync(churn)
    repo = ConversationRepository(db)
    assert [r.text for r in repo.search_messages("avocados", 10)] == ["avocados"]
    assert repo.search_messages("apples", 10) == [] and repo.search_messages("bananas", 10) == []
    assert repo.search_conversations("000002", 10) == []
    assert [r.text for r in repo.search_conversations("cherry", 10)] == ["Cherry Tree"]
    # Once indexed, edits and deletes go through the index as before.
    db.write_sync(lambda c: c.execute("UPDATE messages SET body = 'figs' WHERE body = 'cherries'"))
    assert repo.search_messages("cherries", 10) == [] and len(repo.search_messages("figs", 10)) == 1
    _integrity(db)


def test_a_failed_job_indexes_nothing_of_its_own(db: Database) -> None:
    def fails(c: sqlite3.Connection) -> None:
        msg_store.insert_outgoing(c, [NewOutgoing(1, "+447911000009", "me", "ghost", 1, "GSM-7")])
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        db.write_sync(fails)
    repo = ConversationRepository(db)
    assert repo.search_messages("ghost", 10) == [] and repo.search_conversations("000009", 10) == []
    _integrity(db)


def test_rows_written_without_database_are_indexed_at_the_next_open(tmp_path: Path) -> None:
    Database(tmp_path / "t.db").close()
    conn = sqlite3.connect(str(tmp_path / "t.db"), isolation_level=None)
    conn.execute("INSERT INTO accounts (name, provider, created_at, updated_at) VALUES ('A', 'sandbox', '', '')")
    msg_store.insert_outgoing(conn, [NewOutgoing(1, "+447911000010", "me", "raw insert", 1, "GSM-7")])
    conn.close()
    db = Database(tmp_path / "t.db")
    try:
        repo = ConversationRepository(db)
        assert len(repo.search_messages("raw", 10)) == 1 and len(repo.search_conversations("000010", 10)) == 1
    finally:
        db.close()
