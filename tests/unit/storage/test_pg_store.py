"""What is PostgreSQL's own in the workspace store: addresses without passwords, the rewritten
statements, the 64-savepoint cap, read-only readers, plain words for a lost server, and
several dispatchers claiming one outbox (each message exactly once)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smsdesk.domain.errors import InvalidInput, StorageError
from smsdesk.storage import accounts as acc_store
from smsdesk.storage import claims
from smsdesk.storage import messages as store
from smsdesk.storage import webhook_events as ev_store
from smsdesk.storage.inbound import InboundRepository
from smsdesk.storage.messages import NewOutgoing
from smsdesk.storage.pg.database import MAX_SAVEPOINTS, PgDatabase
from smsdesk.storage.pg.dialect import translate
from smsdesk.storage.pg.url import WorkspaceUrl
from smsdesk.storage.records import NewInbound, ParsedEvent

Writers = tuple[PgDatabase, PgDatabase]


@pytest.fixture
def writers(pg_workspace: str) -> Iterator[Writers]:
    """Two handles on one workspace: two relays (or desktops) writing at once."""
    first, second = (PgDatabase(WorkspaceUrl.parse(pg_workspace)) for _ in range(2))
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def _at_once(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


# ---- the address --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["postgresql://ann:hunter2@db.example.com/smsdesk", "postgresql://ann@db.example.com/smsdesk?password=x"]
)
def test_an_address_with_a_password_is_refused_and_says_where_the_password_goes(text: str) -> None:
    with pytest.raises(InvalidInput, match="must not contain the password") as caught:
        WorkspaceUrl.parse(text)
    assert "--password-stdin" in str(caught.value) and "hunter2" not in str(caught.value)


def test_an_address_needs_a_database_and_the_postgresql_scheme() -> None:
    with pytest.raises(InvalidInput, match="names no database"):
        WorkspaceUrl.parse("postgresql://ann@db.example.com")
    with pytest.raises(InvalidInput, match="not a workspace address"):
        WorkspaceUrl.parse("mysql://ann@db.example.com/smsdesk")


def test_a_ca_certificate_means_the_server_name_is_checked() -> None:
    url = WorkspaceUrl.parse("postgresql://ann@db.example.com:6432/smsdesk?sslrootcert=/etc/ca.pem")
    assert "sslmode=verify-full" in url.conninfo()
    assert url.display() == "smsdesk on db.example.com:6432"
    assert "sslmode" not in WorkspaceUrl.parse("postgresql://ann@db.example.com/smsdesk").conninfo()


# ---- the statements -----------------------------------------------------------------------
def test_statements_are_rewritten_outside_their_quotes() -> None:
    assert translate("SELECT * FROM kv WHERE key = ? AND value LIKE '50%?'") == (
        "SELECT * FROM kv WHERE key = %s AND value LIKE '50%?'",
        False,
    )
    assert translate("SELECT * FROM kv WHERE key = :key")[0] == "SELECT * FROM kv WHERE key = %(key)s"
    assert translate("SELECT x::text FROM t")[0] == "SELECT x::text FROM t"
    assert translate("SELECT 5 % 2")[0] == "SELECT 5 %% 2"


def test_sqlite_spellings_become_postgresql_ones() -> None:
    assert translate("INSERT OR IGNORE INTO optouts (number) VALUES (?)")[0] == (
        "INSERT INTO optouts (number) VALUES (%s) ON CONFLICT DO NOTHING"
    )
    assert translate("UPDATE m SET a = 1 WHERE b IS NOT ? AND c IS ? AND d IS NOT NULL")[0] == (
        "UPDATE m SET a = 1 WHERE b IS DISTINCT FROM %s AND c IS NOT DISTINCT FROM %s AND d IS NOT NULL"
    )
    assert translate("SELECT id FROM messages WHERE +status = 'queued' AND a + b > 1")[0] == (
        "SELECT id FROM messages WHERE status = 'queued' AND a + b > 1"
    )
    assert translate("SELECT c.id FROM optouts o CROSS JOIN conversations c ON c.remote = o.number")[0] == (
        "SELECT c.id FROM optouts o JOIN conversations c ON c.remote = o.number"
    )
    assert translate("SELECT 1 FROM a CROSS JOIN b")[0] == "SELECT 1 FROM a CROSS JOIN b"
    assert translate("SELECT id FROM accounts WHERE name = ? COLLATE NOCASE")[0] == (
        "SELECT id FROM accounts WHERE name = %s"
    )


def test_an_insert_into_a_table_with_an_id_returns_it() -> None:
    assert translate("INSERT INTO templates (name) VALUES (?)") == (
        "INSERT INTO templates (name) VALUES (%s) RETURNING id",
        True,
    )
    assert translate("INSERT INTO kv (key, value) VALUES (?, ?)")[1] is False
    assert translate("INSERT INTO messages (body) VALUES (?) RETURNING local_id")[1] is False


# ---- the database -------------------------------------------------------------------------
@pytest.fixture
def pg(pg_workspace: str) -> PgDatabase:
    database = PgDatabase(WorkspaceUrl.parse(pg_workspace))
    yield database  # type: ignore[misc]
    database.close()


def test_a_burst_of_writes_commits_in_transactions_of_at_most_64_savepoints(pg: PgDatabase) -> None:
    gate, entered = threading.Event(), threading.Event()
    pg.submit(lambda c: (entered.set(), gate.wait(10)))
    assert entered.wait(10)
    futures = [
        pg.submit(lambda c, i=i: c.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"b{i}", "v")))
        for i in range(500)
    ]
    gate.set()
    for f in futures:
        f.result(10)
    assert pg.query_one("SELECT count(*) FROM kv WHERE key LIKE 'b%'")[0] == 500
    assert 0 < pg.most_savepoints <= MAX_SAVEPOINTS


def test_a_big_batch_of_webhook_events_stays_under_the_savepoint_cap(pg: PgDatabase) -> None:
    shop = pg.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    ids = pg.write_sync(
        lambda c: [ev_store.insert_event(c, shop, f"k{i}", "application/json", b"{}") for i in range(200)]
    )
    events = [
        ParsedEvent(eid, shop, (), (NewInbound(f"+4479111{i:05d}", "+447700900000", "Hi", f"in-{i}"),))
        for i, eid in enumerate(ids)
    ]
    applied = asyncio.run(InboundRepository(pg).apply_events(events))
    assert len(applied.inbound) == 200 and not applied.failures
    assert pg.query_one("SELECT count(*) FROM webhook_events WHERE state = 'processed'")[0] == 200
    assert pg.most_savepoints <= MAX_SAVEPOINTS


def test_readers_cannot_write(pg: PgDatabase) -> None:
    with pytest.raises(Exception, match="read-only"):
        pg.query("INSERT INTO kv (key, value) VALUES ('x', 'y')")


def test_a_server_that_is_not_there_is_said_in_plain_words() -> None:
    url = WorkspaceUrl.parse("postgresql://ann@127.0.0.1:9/smsdesk")
    with pytest.raises(StorageError, match=r"smsdesk on 127\.0\.0\.1:9 is unreachable"):
        PgDatabase(url)


def test_a_workspace_out_of_reach_at_open_can_be_waited_for_and_set_up_when_it_answers(
    pg_cluster: Any, pg_database: str, expect_warnings: Any
) -> None:
    """A window opens without its server (``wait_if_unreachable``): reads and writes fail in
    plain words meanwhile, and the first that reaches the server checks (here: creates) the
    schema first."""
    name = pg_database.rsplit("/", 1)[1]
    pg_cluster.allow_connections(name, False)
    try:
        db = PgDatabase(WorkspaceUrl.parse(pg_database), wait_if_unreachable=True)
        assert "is unreachable" in str(db.unreachable_at_open)
        with pytest.raises(StorageError, match="is unreachable"):
            db.query("SELECT count(*) FROM messages")
        with pytest.raises(StorageError, match="is unreachable"):
            db.write_sync(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('x', 'y')"))
    finally:
        pg_cluster.allow_connections(name, True)
    try:
        db.write_sync(lambda c: c.execute("INSERT INTO kv (key, value) VALUES ('x', 'y')"))
        assert db.query_one("SELECT value FROM kv WHERE key = 'x'")[0] == "y"
        assert db.query_one("SELECT max(version) FROM schema_version")[0] >= 1
    finally:
        db.close()


def test_a_refused_login_is_said_as_such_and_waited_for_only_when_asked(pg_cluster: Any, expect_warnings: Any) -> None:
    """A server that answers "no" is not a server that does not answer: the error says so (a
    window waits for either, with the words the server gave)."""
    from smsdesk.domain.errors import LoginRefused

    url = WorkspaceUrl.parse(pg_cluster.url("no_such_workspace"))
    with pytest.raises(LoginRefused, match="does not exist"):
        PgDatabase(url)
    db = PgDatabase(url, wait_if_unreachable=True)
    try:
        assert isinstance(db.unreachable_at_open, LoginRefused)
    finally:
        db.close()


def test_two_dispatchers_claiming_one_outbox_take_each_message_exactly_once(writers: Writers) -> None:
    first, second = writers
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    items = [NewOutgoing(shop, f"+4478123{i:05d}", "Shop", "Hi", 1, "GSM-7") for i in range(2000)]
    ids = first.write_sync(lambda c: store.insert_outgoing(c, items))
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()

    def dispatch(db: PgDatabase, name: str) -> None:
        for start in range(0, len(ids), 16):  # both walk the same ids, as two relays would
            rows = db.write_sync(lambda c, s=start: claims.claim_due(c, ids[s : s + 16], name))
            with lock:
                taken.extend((name, int(r[0])) for r in rows)

    threads = [threading.Thread(target=dispatch, args=(db, n)) for db, n in ((first, "a"), (second, "b"))]
    _at_once(threads)
    per_message = Counter(mid for _name, mid in taken)
    assert sorted(per_message) == sorted(ids)
    assert set(per_message.values()) == {1}
    claimed = first.query("SELECT claimed_by, count(*) FROM messages GROUP BY claimed_by")
    assert sum(r[1] for r in claimed) == 2000 and all(r[0] in ("a", "b") for r in claimed)


def test_counters_kept_by_two_writers_at_once_lose_no_update(writers: Writers) -> None:
    """READ COMMITTED lets two writers read the same counter; every counter smsdesk keeps is
    one upsert or one ``x = x + 1`` (never read, then write), so none loses an update: the
    unread count of one conversation, and the report's count of one hour."""
    first, second = writers
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))

    def replies(db: PgDatabase, tag: str) -> None:
        for i in range(60):  # one transaction each, as replies arriving one by one
            db.write_sync(lambda c, i=i: store.insert_inbound(c, shop, "+447911123456", "Shop", f"{tag}{i}", None))

    threads = [threading.Thread(target=replies, args=(db, t)) for db, t in ((first, "a"), (second, "b"))]
    _at_once(threads)
    unread = first.query_one("SELECT unread FROM conversations WHERE remote = '+447911123456'")
    assert unread is not None and unread[0] == 120
    counted = first.query_one("SELECT sum(messages) FROM report_hours WHERE direction = 'in'")
    assert counted is not None and int(counted[0]) == 120


def test_two_relays_topping_up_one_bulk_run_queue_each_recipient_once(writers: Writers) -> None:
    """Every relay keeps the running bulk sends' windows full; two doing it at once must not
    turn the same row of the file into two messages."""
    from smsdesk.storage import bulk_sends
    from smsdesk.storage.records import NewItem, NewRun

    first, second = writers
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    items = [NewItem(i, "accepted", f"+4478123{i:05d}", body="Hi", segments=1, encoding="GSM-7") for i in range(600)]
    run = NewRun(shop, "list.csv", "h", "Hi", "Shop", ("phone",), 600, 600, 0, {})
    run_id = first.write_sync(lambda c: bulk_sends.create_run(c, run, items))

    def top_up(db: PgDatabase) -> None:
        for _ in range(30):  # a window of 25 at a time, as relays' passes do
            db.write_sync(lambda c: bulk_sends.materialise(c, run_id, 25))

    threads = [threading.Thread(target=top_up, args=(db,)) for db in (first, second)]
    _at_once(threads)
    per_number = first.query("SELECT remote, count(*) FROM messages WHERE run_id = ? GROUP BY remote", (run_id,))
    assert len(per_number) == 600 and {int(r[1]) for r in per_number} == {1}


def test_two_relays_applying_the_same_pending_events_store_each_reply_once(writers: Writers) -> None:
    """Relays read the same pending webhook events; each event is applied by one of them."""
    from smsdesk.storage import inbound
    from smsdesk.storage.records import NewInbound, ParsedEvent

    first, second = writers
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))

    def event(c: Any, i: int) -> int:
        return int(
            c.execute(
                "INSERT INTO webhook_events (account_id, dedupe_key, received_at, body) VALUES (?, ?, '', ?)",
                (shop, f"k{i}", b"{}"),
            ).lastrowid
        )

    ids = first.write_sync(lambda c: [event(c, i) for i in range(40)])
    parsed = [
        ParsedEvent(eid, shop, replies=(NewInbound(f"+4479111{i:05d}", "Shop", "Yes", f"pm-{i}"),))
        for i, eid in enumerate(ids)
    ]
    gate = threading.Barrier(2)

    def apply(db: PgDatabase) -> None:
        gate.wait()
        for start in range(0, len(parsed), 10):
            db.write_sync(lambda c, s=start: inbound.apply_events(c, parsed[s : s + 10]))

    threads = [threading.Thread(target=apply, args=(db,)) for db in (first, second)]
    _at_once(threads)
    per_reply = first.query("SELECT provider_message_id, count(*) FROM messages WHERE direction = 'in' GROUP BY 1")
    assert len(per_reply) == 40 and {int(r[1]) for r in per_reply} == {1}
    states = first.query("SELECT DISTINCT state FROM webhook_events")
    assert [r[0] for r in states] == ["processed"]


# ---- live changes between processes ---------------------------------------------------------
def test_a_commit_elsewhere_wakes_the_change_feed_and_moves_the_marks(pg_workspace: str) -> None:
    from smsdesk.storage.pg.changes import PgChangeRepository

    writer, watcher = (PgDatabase(WorkspaceUrl.parse(pg_workspace)) for _ in range(2))
    try:
        feed = PgChangeRepository(watcher)
        before_version, before = feed.version(), feed.marks()
        feed.wait(0.5)  # the listener is up (its first connection counts as a change)
        shop = writer.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
        item = NewOutgoing(shop, "+447812345678", "Shop", "Hi", 1, "GSM-7")
        [mid] = writer.write_sync(lambda c: store.insert_outgoing(c, [item]))
        assert feed.wait(10) is True
        assert feed.version() != before_version
        now = feed.marks()
        assert now.message == mid and now.accounts != before.accounts
        assert feed.moved(before.message, before.transition, 100) == ({mid}, set())
    finally:
        writer.close()
        watcher.close()


def test_message_ids_become_visible_in_id_order_across_writers(writers: Writers) -> None:
    """A watcher reads messages after the highest id it saw: a lower id committed later
    would be missed for good. Inserts from two writers therefore commit one after the other."""
    first, second = writers
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    inside, release = threading.Event(), threading.Event()

    def slow_insert(c):  # noqa: ANN001, ANN202
        ids = store.insert_outgoing(c, [NewOutgoing(shop, "+447812345678", "Shop", "A", 1, "GSM-7")])
        inside.set()
        release.wait(10)
        return ids

    held = first.submit(slow_insert)
    assert inside.wait(10)
    later = second.submit(
        lambda c: store.insert_outgoing(c, [NewOutgoing(shop, "+447812345679", "Shop", "B", 1, "GSM-7")])
    )
    with pytest.raises(TimeoutError):
        later.result(0.5)  # waits for the first writer's commit
    release.set()
    [a], [b] = held.result(10), later.result(10)
    assert a < b


def test_search_finds_words_of_messages_and_parts_of_numbers_and_names(pg: PgDatabase) -> None:
    from smsdesk.storage.conversations import ConversationRepository

    shop = pg.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    items = [
        NewOutgoing(shop, f"+4479111234{i:02d}", "Shop", f"Your parcel {i} is ready", 1, "GSM-7") for i in range(12)
    ]
    pg.write_sync(lambda c: store.insert_outgoing(c, items))
    repo = ConversationRepository(pg)
    assert len(repo.search_messages("parcel", 100)) == 12
    assert [r.text for r in repo.search_messages("PARCEL 3 is", 100)] == ["Your parcel 3 is ready"]
    assert len(repo.search_messages("parc", 100)) == 12  # the last word as a prefix
    assert repo.search_messages("bananas", 100) == []
    assert sorted(r.text for r in repo.search_conversations("0791112340", 20)) == [
        f"+4479111234{i:02d}" for i in range(10)
    ]


def test_erasing_a_number_removes_the_raw_webhook_bodies_that_hold_it(pg: PgDatabase) -> None:
    from smsdesk.storage import contact_writes

    shop = pg.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    bodies = [b'{"from": "447911123456", "text": "hi"}', b'{"from": "447700900001", "text": "hi"}']
    ids = pg.write_sync(
        lambda c: [ev_store.insert_event(c, shop, f"k{i}", "application/json", b) for i, b in enumerate(bodies)]
    )
    pg.write_sync(lambda c: c.execute("UPDATE webhook_events SET state = 'processed'"))
    pg.write_sync(lambda c: contact_writes._redact(c, ["+447911123456"]))
    assert [r[0] for r in pg.query("SELECT id FROM webhook_events")] == [ids[1]]


def test_the_postgresql_schema_has_every_table_and_column_of_the_sqlite_one(pg: PgDatabase, tmp_path: Path) -> None:
    """The two schemas are written separately: a column added to one only would break the
    repositories on the other store."""
    from smsdesk.storage.db import Database

    lite = Database(tmp_path / "s.sqlite3")
    try:
        tables = [
            r[0]
            for r in lite.query("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%fts%'")
            if "fts" not in r[0]
        ]
        want = {t: {r[1] for r in lite.query(f"PRAGMA table_info({t})")} for t in tables}
    finally:
        lite.close()
    have: dict[str, set[str]] = {}
    for table, column in pg.query(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    ):
        have.setdefault(table, set()).add(column)
    missing = {t: sorted(cols - have.get(t, set())) for t, cols in want.items() if cols - have.get(t, set())}
    assert missing == {}
    assert len(want) > 25


def test_two_writers_moving_the_same_messages_keep_statuses_forward_only(writers: Writers) -> None:
    """READ COMMITTED lets two relays read a message's status at once (two receipts of one
    message, a send's answer beside a receipt): each status move is decided again if the row
    moved meanwhile, so a final status is never overwritten and each move is recorded once."""
    from smsdesk.domain.status import Status
    from smsdesk.storage.status_moves import apply_status

    first, second = writers
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    items = [NewOutgoing(shop, f"+4478123{i:05d}", "Shop", "Hi", 1, "GSM-7", Status.SENT) for i in range(300)]
    ids = first.write_sync(lambda c: store.insert_outgoing(c, items))
    start = threading.Barrier(2)

    def receipts(db: PgDatabase, status: Status) -> None:
        start.wait(10)
        for mid in ids:  # one transaction per receipt, as relays apply them
            db.write_sync(lambda c, mid=mid: apply_status(c, mid, status, status.value))

    threads = [
        threading.Thread(target=receipts, args=(db, s))
        for db, s in ((first, Status.DELIVERED), (second, Status.EXPIRED))
    ]
    _at_once(threads)
    finals = first.query(
        "SELECT message_id, count(*), min(status) FROM message_transitions"
        " WHERE status IN ('delivered', 'expired') GROUP BY message_id"
    )
    assert len(finals) == 300 and {int(r[1]) for r in finals} == {1}  # one final move each
    now = {int(r[0]): r[1] for r in first.query("SELECT id, status FROM messages WHERE direction = 'out'")}
    assert all(now[int(r[0])] == r[2] for r in finals)  # and the status is that move's


def test_two_desktops_sending_at_once_stay_within_the_monthly_spending_limit(writers: Writers) -> None:
    """Each desktop checks the limit before it writes, so two sends that each fit alone could
    together go over it. The queueing write sums the month's spending again with its own rows
    stored: at 0.10 a message and a limit of 1.00, ten of the twenty sends go, the other ten
    are held with the reason, whichever desktop they came from."""
    from smsdesk.domain.errors import OverLimit
    from smsdesk.storage.records import AuditEntry, SpendCap

    first, second = writers
    settings = {"price_per_segment": "0.10", "currency": "GBP"}
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", settings))
    cap = SpendCap(shop, "2000-01-01T00:00:00.000+00:00", "1.00", "GBP", "Over the limit.")
    start = threading.Barrier(2)
    held: list[str] = []

    async def send(repo: store.MessageRepository, tag: str) -> None:
        for i in range(10):  # one send at a time, as a person on each desktop
            item = NewOutgoing(shop, f"+44781230{tag}{i:03d}", "Shop", "Hi", 1, "GSM-7")
            try:
                await repo.queue([item], AuditEntry("send", "Shop"), cap)
            except OverLimit as exc:
                held.append(exc.reason)

    def desktop(db: PgDatabase, tag: str) -> None:
        start.wait(10)
        asyncio.run(send(store.MessageRepository(db), tag))  # type: ignore[arg-type]

    threads = [threading.Thread(target=desktop, args=(db, t)) for db, t in ((first, "1"), (second, "2"))]
    _at_once(threads)
    stored = first.query_one("SELECT count(*) FROM messages WHERE direction = 'out'")
    assert stored is not None and int(stored[0]) == 10
    assert held == ["Over the limit."] * 10
    audits = first.query_one("SELECT count(*) FROM audit_log WHERE action = 'send'")
    assert audits is not None and int(audits[0]) == 10  # a held send left no audit line either


def test_a_bulk_send_and_sends_from_another_desktop_stay_within_the_monthly_limit(writers: Writers) -> None:
    """A bulk send's rows count toward the limit from the moment it is stored (they are sent a
    window at a time). One desktop starts bulk sends of 3 rows while another sends one message
    at a time, all at 0.10 against a limit of 5.00: whatever the order, what was stored (sent
    or still to send) never passes it, and the sends that did not fit were held."""
    from smsdesk.domain.errors import OverLimit
    from smsdesk.storage.bulk_sends import BulkSendRepository
    from smsdesk.storage.records import AuditEntry, NewItem, NewRun, SpendCap

    first, second = writers
    settings = {"price_per_segment": "0.10", "currency": "GBP"}
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", settings))
    cap = SpendCap(shop, "2000-01-01T00:00:00.000+00:00", "5.00", "GBP", "Over the limit.", pending_price="0.10")
    start = threading.Barrier(2)
    held: list[str] = []

    async def runs(repo: BulkSendRepository) -> None:
        for r in range(20):
            items = [NewItem(i, "accepted", f"+447812{r:02d}{i:03d}", body="Hi", segments=1) for i in range(3)]
            try:
                await repo.create(
                    NewRun(shop, f"{r}.csv", str(r), "Hi", "Shop", ("phone",), 3, 3, 0, {}),
                    items,
                    "",
                    False,
                    "Shop",
                    cap,
                )
            except OverLimit as exc:
                held.append(exc.reason)

    async def sends(repo: store.MessageRepository) -> None:
        for i in range(60):
            try:
                await repo.queue(
                    [NewOutgoing(shop, f"+44781250{i:03d}", "Shop", "Hi", 1, "GSM-7")], AuditEntry("send", "Shop"), cap
                )
            except OverLimit as exc:
                held.append(exc.reason)

    def desktop(work: Any) -> None:
        start.wait(10)
        asyncio.run(work)

    _at_once(
        [
            threading.Thread(target=desktop, args=(runs(BulkSendRepository(first)),)),  # type: ignore[arg-type]
            threading.Thread(target=desktop, args=(sends(store.MessageRepository(second)),)),  # type: ignore[arg-type]
        ]
    )
    sent = first.query_one("SELECT count(*) FROM messages WHERE direction = 'out'")
    left = first.query_one("SELECT coalesce(sum(parts_left), 0) FROM bulk_runs WHERE state = 'running'")
    assert sent is not None and left is not None
    assert int(sent[0]) + int(left[0]) <= 50 and held  # 60 + 60 parts were asked for


def test_two_relays_promoting_the_same_due_messages_queue_each_once(writers: Writers) -> None:
    """Only the leading relay runs the scheduler, but during a hand-over two may for a moment:
    each scheduled message whose time has come joins the outbox once, with one move recorded,
    and one whose number opted out meanwhile is rejected once."""
    from smsdesk.domain.status import Status
    from smsdesk.storage.schedule import promote_due

    first, second = writers
    shop = first.write_sync(lambda c: acc_store.insert_account(c, "Shop", "sandbox", "", "Shop", {}))
    due = "2026-01-01T09:00:00.000+00:00"
    items = [
        NewOutgoing(shop, f"+4478123{i:05d}", "Shop", "Hi", 1, "GSM-7", Status.SCHEDULED, send_at=due)
        for i in range(300)
    ]
    ids = first.write_sync(lambda c: store.insert_outgoing(c, items))
    first.write_sync(
        lambda c: c.execute(
            "INSERT INTO optouts (number, source, created_at) VALUES ('+447812300007', 'reply', ?)", (due,)
        )
    )
    start = threading.Barrier(2)

    def scheduler(db: PgDatabase) -> None:
        start.wait(10)
        for _ in range(3):  # a few passes each, as two leaders' ticks would overlap
            db.write_sync(lambda c: promote_due(c, "2026-01-01T09:00:01.000+00:00"))

    _at_once([threading.Thread(target=scheduler, args=(db,)) for db in writers])
    moves = first.query(
        "SELECT status, count(*), count(DISTINCT message_id) FROM message_transitions"
        " WHERE status IN ('queued', 'rejected') GROUP BY status"
    )
    assert {r[0]: (int(r[1]), int(r[2])) for r in moves} == {"queued": (299, 299), "rejected": (1, 1)}
    now = first.query("SELECT status, count(*) FROM messages WHERE direction = 'out' GROUP BY status")
    assert {r[0]: int(r[1]) for r in now} == {"queued": 299, "rejected": 1}
    assert len(ids) == 300
