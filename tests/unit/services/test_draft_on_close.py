"""Saving a draft as the window closes never hangs the GUI behind a busy writer, and the
draft still reaches the database before it closes."""

from __future__ import annotations

import threading
from pathlib import Path

from smsdesk.services.bus import EventBus
from smsdesk.services.conversations import ConversationService
from smsdesk.storage import accounts as acc_store
from smsdesk.storage import messages as store
from smsdesk.storage.conversations import ConversationRepository
from smsdesk.storage.db import Database
from smsdesk.storage.messages import NewOutgoing
from smsdesk.storage.optouts import OptOutRepository


def test_a_draft_saved_behind_a_busy_writer_is_committed_before_the_database_closes(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite3")
    acct = db.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    db.write_sync(lambda c: store.insert_outgoing(c, [NewOutgoing(acct, "+447911123456", "Shop", "Hi", 1, "GSM-7")]))
    conv_id = db.query_one("SELECT id FROM conversations")[0]
    svc = ConversationService(ConversationRepository(db), OptOutRepository(db), EventBus(), sending=None)  # type: ignore[arg-type]
    release = threading.Event()
    db.submit(lambda c: release.wait(20))  # a long write (a bulk run committing) holds the writer
    try:
        svc.save_draft_now(conv_id, "See you at 7")  # returns (it raised after 10 s before)
    finally:
        release.set()
    db.close()  # finishes queued writes
    again = Database(tmp_path / "db.sqlite3")
    try:
        assert again.query_one("SELECT draft FROM conversations WHERE id = ?", (conv_id,))[0] == "See you at 7"
    finally:
        again.close()
