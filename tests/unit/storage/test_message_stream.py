"""iter_messages: every message newest first across page boundaries, per account, with a limit."""

from __future__ import annotations

from smsdesk.storage import accounts as acc_store
from smsdesk.storage import messages as store
from smsdesk.storage.db import Database
from smsdesk.storage.message_stream import iter_messages
from smsdesk.storage.messages import NewOutgoing


def test_pages_cover_every_message_once_newest_first(db: Database) -> None:
    shop = db.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    cafe = db.write_sync(lambda c: acc_store.insert_account(c, "Cafe", "sandbox", "", "Cafe", {}))
    items = [NewOutgoing(shop if i % 3 else cafe, f"+4479111{i:05d}", "Shop", f"m{i}", 1, "GSM-7") for i in range(50)]
    ids = db.write_sync(lambda c: store.insert_outgoing(c, items))

    every = list(iter_messages(db, batch=7))  # 50 rows over 8 pages, the last one short
    assert [m.id for m in every] == sorted(ids, reverse=True)
    assert [m.body for m in every[:2]] == ["m49", "m48"]

    cafes = list(iter_messages(db, account_id=cafe, batch=4))
    assert [m.body for m in cafes] == [f"m{i}" for i in range(48, -1, -3)]

    assert [m.body for m in iter_messages(db, limit=10, batch=4)] == [f"m{i}" for i in range(49, 39, -1)]
    assert list(iter_messages(db, limit=0)) == []
    assert len(list(iter_messages(db, batch=50))) == 50  # a full last page, then an empty one
