"""Claims: exactly one dispatcher sends each outbox row; a dead dispatcher's claims go to review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsdesk.domain.status import Status
from smsdesk.storage import accounts as acc_store
from smsdesk.storage import claims
from smsdesk.storage import messages as store
from smsdesk.storage import optouts as opt_store
from smsdesk.storage.db import Database
from smsdesk.storage.liveness import claimer_gone, host_name
from smsdesk.storage.messages import MessageRepository, NewOutgoing

S = Status


@pytest.fixture
def account_id(db: Database) -> int:
    return db.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))


def _queue(db: Database, account_id: int, remote: str = "+447812345678", body: str = "Hi") -> int:
    item = NewOutgoing(account_id, remote, "Shop", body, 1, "GSM-7")
    [mid] = db.write_sync(lambda c: store.insert_outgoing(c, [item]))
    return mid


def test_exactly_one_dispatcher_claims_a_message(db: Database, account_id: int) -> None:
    mid = _queue(db, account_id)
    assert db.write_sync(lambda c: claims.claim(c, mid, "gui"))
    assert not db.write_sync(lambda c: claims.claim(c, mid, "serve"))
    row = db.query_one("SELECT claimed_by, attempts FROM messages WHERE id = ?", (mid,))
    assert tuple(row) == ("gui", 1)  # type: ignore[arg-type]


def test_a_message_waiting_for_its_retry_is_claimed_by_no_one_before_its_time(db: Database, account_id: int) -> None:
    """The other process may hold the id from before it was released (GUI beside serve)."""
    waiting, other = _queue(db, account_id), _queue(db, account_id, "+447812345679")
    assert db.write_sync(lambda c: claims.claim(c, waiting, "gui"))
    later = (datetime.now(UTC) + timedelta(seconds=60)).isoformat(timespec="milliseconds")
    db.write_sync(lambda c: store.release_for_retry(c, waiting, later, "429: retry after 60 s"))
    assert not db.write_sync(lambda c: claims.claim(c, waiting, "serve"))  # a single send
    got = db.write_sync(lambda c: claims.claim_due(c, [waiting, other], "serve"))  # a bulk batch
    assert [r["id"] for r in got] == [other]
    earlier = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="milliseconds")
    db.write_sync(lambda c: c.execute("UPDATE messages SET next_attempt_at = ? WHERE id = ?", (earlier, waiting)))
    assert db.write_sync(lambda c: claims.claim(c, waiting, "serve"))  # its time has come


def test_claims_of_a_dead_dispatcher_become_needs_review_not_resends(db: Database, account_id: int) -> None:
    mid = _queue(db, account_id)
    db.write_sync(lambda c: claims.claim(c, mid, "crashed"))
    ids = db.write_sync(lambda c: claims.abandon_dead_claims(c, "9999", "me"))
    assert ids == [mid]
    msg = MessageRepository(db).get(mid)
    assert msg is not None and msg.status is S.NEEDS_REVIEW and msg.error
    # A receipt can still settle it.
    assert db.write_sync(lambda c: store.apply_status(c, mid, S.DELIVERED, "Delivered"))


def test_who_holds_a_claim_is_gone_by_heartbeat_and_process_table() -> None:
    import os
    import socket
    import subprocess
    import sys

    fresh, stale, cutoff = (
        "2026-11-30T10:00:05.000+00:00",
        "2026-11-30T09:59:00.000+00:00",
        "2026-11-30T10:00:00.000+00:00",
    )
    # The dispatcher names itself with socket's host name; storage reads it without socket.
    assert host_name() == socket.gethostname()
    me_here = f"{socket.gethostname()}:{os.getpid()}:abcd1234"
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_here = f"{socket.gethostname()}:{int(done.stdout)}:abcd1234"  # that process has ended
    elsewhere = "another-host:4242:abcd1234"
    # A CLI hand-off runs no dispatcher, so it never beats: alive while its process runs.
    assert not claimer_gone(me_here, None, cutoff)
    assert claimer_gone(dead_here, None, cutoff)
    assert claimer_gone(elsewhere, None, cutoff)  # nothing can tell: as before, gone
    # A fresh heartbeat: gone only when the process certainly is.
    assert not claimer_gone(me_here, fresh, cutoff)
    assert claimer_gone(dead_here, fresh, cutoff)
    assert not claimer_gone(elsewhere, fresh, cutoff)
    # A stale heartbeat: gone (or hung) even if a process of that id runs.
    assert claimer_gone(me_here, stale, cutoff)


@pytest.mark.sqlite_only  # counts SQLite's virtual machine steps
def test_a_claim_of_a_few_rows_reads_those_rows_not_the_whole_outbox(db: Database, account_id: int) -> None:
    """A 10,000-message send queues its rows at once; each claim then takes 1-16 of them. The
    claim must find them by id: scanning every queued row per claim made a big send slow."""
    items = [NewOutgoing(account_id, f"+4478123{i:05d}", "Shop", "Hi", 1, "GSM-7") for i in range(5000)]
    ids = db.write_sync(lambda c: store.insert_outgoing(c, items))
    steps = [0]

    def claim_counting(conn):  # noqa: ANN001, ANN202
        conn.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1), 100)
        try:
            return claims.claim_due(conn, ids[2000:2016], "gui")
        finally:
            conn.set_progress_handler(None, 0)

    assert len(db.write_sync(claim_counting)) == 16
    assert steps[0] < 50  # about 16 rows' worth of work (a scan of the outbox: hundreds)


def test_claims_asked_together_each_get_their_own_rows(db: Database, account_id: int) -> None:
    """The dispatcher writes the claims its workers ask for in one moment as one: each still
    gets exactly its own rows, an opted-out number is rejected in its own claim, and a row
    another dispatcher holds goes to nobody."""
    a, b, c, d = (_queue(db, account_id, f"+44781234567{i}") for i in range(4))
    db.write_sync(lambda conn: opt_store.add(conn, "+447812345671", "keyword", "STOP"))
    assert db.write_sync(lambda conn: claims.claim(conn, d, "serve"))
    first, second, third = db.write_sync(
        lambda conn: claims.claim_groups(conn, [([a], None), ([b, c], None), ([d], None)], "gui")
    )
    assert [m.id for m in first.claimed] == [a] and first.rejected == []
    assert [m.id for m in second.claimed] == [c] and second.rejected == [b]
    assert third.claimed == [] and third.rejected == []
    repo = MessageRepository(db)
    assert [repo.get(i).status for i in (a, b, c, d)] == [S.QUEUED, S.REJECTED, S.QUEUED, S.QUEUED]  # type: ignore[union-attr]
    held_by = {r["id"]: r["claimed_by"] for r in db.query("SELECT id, claimed_by FROM messages")}
    assert held_by == {a: "gui", b: None, c: "gui", d: "serve"}
