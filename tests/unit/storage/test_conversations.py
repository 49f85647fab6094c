"""Conversations storage: list paging, thread pages, read state, drafts, FTS sync and search."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.storage import conversations as conv_store
from smsdesk.storage import messages as msg_store
from smsdesk.storage import optouts as opt_store
from smsdesk.storage.conversations import ConversationRepository, ListFilter, fts_query
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


def _out(db: Database, remote: str, body: str) -> int:
    return db.write_sync(lambda c: msg_store.insert_outgoing(c, [NewOutgoing(1, remote, "me", body, 1, "GSM-7")]))[0]


def _in(db: Database, remote: str, body: str) -> int:
    return db.write_sync(lambda c: msg_store.insert_inbound(c, 1, remote, "me", body, None))


def test_list_orders_by_activity_and_pages_by_keyset(db: Database) -> None:
    for i in range(5):
        _out(db, f"+4479111234{i:02d}", f"hello {i}")
    repo = ConversationRepository(db)
    first = repo.list(limit=2)
    assert [c.remote for c in first] == ["+447911123404", "+447911123403"]
    rest = repo.list(after=(first[-1].last_at, first[-1].id), limit=10)
    assert [c.remote for c in rest] == ["+447911123402", "+447911123401", "+447911123400"]
    assert first[0].last_body == "hello 4" and first[0].last_direction == "out"


def test_unread_filter_mark_read_and_optout_filter(db: Database) -> None:
    _out(db, "+447911123456", "hi")
    _in(db, "+447911123457", "hello?")
    _in(db, "+447911123457", "anyone?")
    repo = ConversationRepository(db)
    [unread] = repo.list(ListFilter.UNREAD)
    assert unread.remote == "+447911123457" and unread.unread == 2
    assert repo.unread_total() == 2
    assert db.write_sync(lambda c: conv_store.mark_read(c, unread.id)) == 2
    assert repo.list(ListFilter.UNREAD) == [] and repo.unread_total() == 0
    db.write_sync(lambda c: opt_store.add(c, "+447911123456", "reply"))
    [opted] = repo.list(ListFilter.OPTED_OUT)
    assert opted.remote == "+447911123456" and opted.opted_out


def test_thread_pages_never_load_everything(db: Database) -> None:
    ids = [_out(db, "+447911123456", f"m{i}") for i in range(25)]
    repo = ConversationRepository(db)
    newest = repo.messages_before(1, "+447911123456", None, 10)
    assert [r.id for r in newest] == ids[-10:]
    older = repo.messages_before(1, "+447911123456", newest[0].id, 10)
    assert [r.id for r in older] == ids[-20:-10]
    newer = repo.messages_after(1, "+447911123456", ids[2], 3)
    assert [r.id for r in newer] == ids[3:6]


def test_draft_and_contact_name_are_kept_and_searchable(db: Database) -> None:
    _in(db, "+447911123456", "Table for two tonight?")
    repo = ConversationRepository(db)
    [conv] = repo.list()
    db.write_sync(lambda c: conv_store.save_draft(c, conv.id, "Yes, 7pm"))
    db.write_sync(lambda c: conv_store.set_contact_name(c, "+447911123456", "Alice Jones"))
    again = repo.get(conv.id)
    assert again is not None and again.draft == "Yes, 7pm" and again.title == "Alice Jones"
    assert [h.conversation_id for h in repo.search_conversations("alice", 10)] == [conv.id]
    assert [h.conversation_id for h in repo.search_conversations("07911 123", 10)] == [conv.id]
    db.write_sync(lambda c: conv_store.set_contact_name(c, "+447911123456", "Bob"))
    assert repo.search_conversations("alice", 10) == []


def test_message_search_is_newest_first_and_safe(db: Database) -> None:
    a = _out(db, "+447911123456", "Thanks for coming")
    b = _in(db, "+447911123457", "thanks!")
    _in(db, "+447911123457", "see you")
    hits = ConversationRepository(db).search_messages("THANK", 10)
    assert [h.message_id for h in hits] == [b, a]
    assert ConversationRepository(db).search_messages('"; DROP TABLE', 10) == []
    assert fts_query("") == "" and fts_query('a"b c') == '"a" "b" "c"*'


def test_needs_review_filter_and_prefix_fallback(db: Database) -> None:
    from smsdesk.domain.status import Status

    a = _out(db, "+447911123456", "Booking confirmed")
    _out(db, "+447911123457", "Parcel shipped")
    db.write_sync(lambda c: msg_store.apply_status(c, a, Status.NEEDS_REVIEW, "interrupted", "may have gone"))
    repo = ConversationRepository(db)
    assert [c.remote for c in repo.list(ListFilter.NEEDS_REVIEW)] == ["+447911123456"]
    # Whole words first; the last word completes as a prefix while typing.
    assert [h.message_id for h in repo.search_messages("Book", 10)] == [a]
    assert [h.message_id for h in repo.search_messages("booking conf", 10)] == [a]


def test_service_pages_around_a_hit(tmp_path: Path) -> None:
    from smsdesk.services.bus import EventBus
    from smsdesk.services.conversations import ConversationService
    from smsdesk.storage.optouts import OptOutRepository

    d = Database(tmp_path / "s.db")
    try:
        d.write_sync(
            lambda c: c.execute(
                "INSERT INTO accounts (name, provider, created_at, updated_at) VALUES ('A', 'sandbox', '', '')"
            )
        )
        ids = [_out(d, "+447911123456", f"m{i}") for i in range(50)]
        svc = ConversationService(ConversationRepository(d), OptOutRepository(d), EventBus(), sending=None)  # type: ignore[arg-type]
        [conv] = svc.list()
        page = svc.page(conv.id, around=ids[25], limit=10)
        assert [m.id for m in page.messages] == ids[21:31] and page.has_older and page.has_newer
        newest = svc.page(conv.id, limit=10)
        assert [m.id for m in newest.messages] == ids[40:] and newest.has_older and not newest.has_newer
        older = svc.page(conv.id, before=ids[40], limit=10)
        assert [m.id for m in older.messages] == ids[30:40]
    finally:
        d.close()
