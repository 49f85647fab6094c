"""The schedule tables: claims are exclusive, edits check the version, runs finish with their messages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from smsdesk.domain.schedule import Recurrence
from smsdesk.domain.status import Status
from smsdesk.storage import accounts as acc_store
from smsdesk.storage import messages as msg_store
from smsdesk.storage import schedule as store
from smsdesk.storage.db import Database
from smsdesk.storage.schedule_repository import ScheduleRepository

DUE = "2026-12-01T09:00:00.000+00:00"


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "s.db")
    yield database
    database.close()


def _item(db: Database) -> int:
    def write(conn):
        acct = acc_store.insert_account(conn, "A", "sandbox", "", "me", {})
        new = store.NewSchedule(
            acct,
            "multi",
            "hi",
            "me",
            [("+447911123456", None), ("+447911123457", "Hi Bo")],
            Recurrence(),
            datetime(2026, 12, 1, 9, 0),
            "Europe/London",
            DUE,
        )
        return store.insert(conn, new)

    return db.write_sync(write)


def test_insert_and_read_back(db: Database) -> None:
    sid = _item(db)
    repo = ScheduleRepository(db)
    item = repo.get(sid)
    assert item is not None and item.recipient_count == 2 and item.state == "scheduled" and item.version == 1
    assert repo.recipients(sid) == [("+447911123456", None), ("+447911123457", "Hi Bo")]
    assert [i.id for i in repo.due(DUE)] == [sid] and repo.due("2026-12-01T08:59:59.000+00:00") == []


def test_only_one_claim_wins_and_a_stale_edit_is_refused(db: Database) -> None:
    sid = _item(db)
    assert db.write_sync(lambda c: store.claim(c, sid, 1, DUE, "gui")) is True
    assert db.write_sync(lambda c: store.claim(c, sid, 1, DUE, "serve")) is False
    with pytest.raises(store.Conflict):
        db.write_sync(lambda c: store.update_item(c, sid, 1, store.WAITING + ("scheduled",), body="late edit"))
    assert ScheduleRepository(db).get(sid).body == "hi"


def test_run_finishes_when_its_messages_leave_the_outbox(db: Database) -> None:
    sid = _item(db)

    def run(conn):
        store.claim(conn, sid, 1, DUE, "gui")
        rid = store.start_run(conn, sid, DUE, "gui")
        ids = msg_store.insert_outgoing(conn, [msg_store.NewOutgoing(1, "+447911123456", "me", "hi", 1, "GSM-7")])
        store.link_messages(conn, rid, ids)
        conn.execute("UPDATE schedules SET next_run_utc = NULL WHERE id = ?", (sid,))
        return ids[0]

    mid = db.write_sync(run)
    assert db.write_sync(store.finish_runs) == []
    db.write_sync(lambda c: msg_store.apply_status(c, mid, Status.SENT))
    assert db.write_sync(store.finish_runs) == [sid]
    repo = ScheduleRepository(db)
    assert repo.get(sid).state == "done"
    assert repo.runs(sid)[0]["counts"] == {"sent": 1}
    assert store.counts_text({"sent": 3, "failed": 1}, skipped=2) == "3 sent, 1 failed, 2 skipped (opted out)"


def test_a_hand_off_left_by_a_dead_process_goes_to_review(db: Database) -> None:
    sid = _item(db)

    def half_done(conn):
        conn.execute("UPDATE schedules SET location = 'provider', claimed_by = 'dead-gui' WHERE id = ?", (sid,))
        [mid] = msg_store.insert_outgoing(
            conn, [msg_store.NewOutgoing(1, "+447911123456", "me", "hi", 1, "GSM-7", Status.SCHEDULED, DUE)]
        )
        conn.execute("UPDATE messages SET claimed_by = 'dead-gui' WHERE id = ?", (mid,))
        return mid

    mid = db.write_sync(half_done)
    alive_since = "2026-11-22T00:00:00.000+00:00"
    assert db.write_sync(lambda c: store.abandon_dead_hand_offs(c, alive_since, "me", DUE)) == [sid]
    item = ScheduleRepository(db).get(sid)
    assert item.state == "done" and item.handed_off and "check its messages" in item.reason
    status = db.query_one("SELECT status FROM messages WHERE id = ?", (mid,))["status"]
    assert status == "needs_review"


def test_the_first_recipients_of_many_items_in_one_call(db: Database) -> None:
    def write(conn):
        acct = acc_store.insert_account(conn, "A", "sandbox", "", "me", {})
        ids = []
        for k in range(3):
            numbers = [(f"+4479111234{k}{i}", None) for i in range(k * 3)]  # 0, 3 and 6 recipients
            new = store.NewSchedule(
                acct, "multi", "hi", "me", numbers, Recurrence(), datetime(2026, 12, 1, 9, 0), "Europe/London", DUE
            )
            ids.append(store.insert(conn, new))
        return ids

    empty, three, six = db.write_sync(write)
    first = ScheduleRepository(db).first_recipients([empty, three, six], 2)
    assert first == {three: ["+447911123410", "+447911123411"], six: ["+447911123420", "+447911123421"]}
