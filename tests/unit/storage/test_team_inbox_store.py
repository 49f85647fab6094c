"""The team inbox's storage on both stores: conditional assignment, open/resolved/snoozed and
the filters that follow them, a reply reopening, notes and who wrote them, per-person figures."""

from __future__ import annotations

import asyncio
from typing import Any

from smsdesk.storage import messages as msg_store
from smsdesk.storage.changes import ChangeRepository
from smsdesk.storage.conversations import ConversationRepository, ListFilter
from smsdesk.storage.messages import NewOutgoing
from smsdesk.storage.records import TeamState
from smsdesk.storage.team_inbox import TeamInboxRepository


def _account(db: Any) -> None:
    db.write_sync(
        lambda c: c.execute(
            "INSERT INTO accounts (name, provider, created_at, updated_at) VALUES ('A', 'sandbox', '', '')"
        )
    )


def _out(db: Any, remote: str, body: str = "hi") -> int:
    return db.write_sync(lambda c: msg_store.insert_outgoing(c, [NewOutgoing(1, remote, "me", body, 1, "GSM-7")]))[0]


def _in(db: Any, remote: str, body: str = "hello") -> int:
    return db.write_sync(lambda c: msg_store.insert_inbound(c, 1, remote, "me", body, None))


def _ids(rows: list[Any]) -> list[str]:
    return [r.remote for r in rows]


def test_assigning_is_conditional_and_the_filters_follow(db: Any) -> None:
    _account(db)
    for n in range(3):
        _in(db, f"+4479111234{n:02d}")
    convs, team = ConversationRepository(db), TeamInboxRepository(db)
    me = team.person
    assert me and team.people()[0:1] and me in team.people()
    a, b, c = sorted(convs.list(), key=lambda r: r.remote)

    assert asyncio.run(team.assign(a.id, me, None)) == (True, me)
    # Someone who still saw it unassigned is told who has it, and nothing changes.
    assert asyncio.run(team.assign(a.id, "someone", None)) == (False, me)
    assert convs.get(a.id).assignee == me  # type: ignore[union-attr]
    assert _ids(convs.list(ListFilter.MINE, person=me)) == [a.remote]
    assert _ids(convs.list(ListFilter.MINE, person="someone")) == []
    assert sorted(_ids(convs.list(ListFilter.UNASSIGNED, person=me))) == [b.remote, c.remote]

    asyncio.run(team.set_state(b.id, TeamState.RESOLVED, None))
    asyncio.run(team.set_state(c.id, TeamState.SNOOZED, None))  # until the next reply
    assert _ids(convs.list(ListFilter.UNASSIGNED, person=me)) == []
    assert _ids(convs.list(ListFilter.RESOLVED, person=me)) == [b.remote]
    assert len(convs.list(ListFilter.ALL)) == 3

    # A reply reopens both the resolved and the snoozed conversation.
    _in(db, b.remote, "one more thing")
    _in(db, c.remote, "still there?")
    assert sorted(_ids(convs.list(ListFilter.UNASSIGNED, person=me))) == [b.remote, c.remote]
    assert convs.get(b.id).state == TeamState.OPEN  # type: ignore[union-attr]

    # A snooze whose time has passed is open again; one in the future is not.
    asyncio.run(team.set_state(b.id, TeamState.SNOOZED, "2000-01-01T00:00:00.000+00:00"))
    asyncio.run(team.set_state(c.id, TeamState.SNOOZED, "2999-01-01T00:00:00.000+00:00"))
    assert _ids(convs.list(ListFilter.UNASSIGNED, person=me)) == [b.remote]
    # Our own send does not reopen it: only a reply does.
    _out(db, c.remote)
    assert convs.get(c.id).state == TeamState.SNOOZED  # type: ignore[union-attr]

    kinds = [(r.kind, r.body) for r in team.activity(a.id)]
    assert kinds == [("assigned", me)]
    assert [r.kind for r in team.activity(c.id)] == ["snoozed", "snoozed"]


def test_notes_are_kept_in_order_with_their_author_and_move_the_change_mark(db: Any) -> None:
    _account(db)
    _in(db, "+447911123456")
    [conv] = ConversationRepository(db).list()
    team, feed = TeamInboxRepository(db), ChangeRepository(db)
    before = feed.marks().activity
    first = asyncio.run(team.add_note(conv.id, "Called her back, @ana follow up Monday"))
    second = asyncio.run(team.add_note(conv.id, "Done"))
    notes = team.activity(conv.id)
    assert [(n.kind, n.body, n.actor) for n in notes] == [
        ("note", "Called her back, @ana follow up Monday", team.person),
        ("note", "Done", team.person),
    ]
    assert feed.marks().activity == second > first > before
    assert feed.activity(before, 10) == [(first, conv.id, "note"), (second, conv.id, "note")]
    assert [n.id for n in team.activity_by_id([second])] == [second]


def test_figures_per_person_count_sends_and_the_median_first_answer(db: Any) -> None:
    _account(db)
    _in(db, "+447911123456")
    _out(db, "+447911123456", "on our way")
    _out(db, "+447911123456", "there in 5")
    _out(db, "+447911123457", "reminder")
    figures = TeamInboxRepository(db).person_figures("2000-01-01", "2999-01-01")
    assert len(figures) == 1
    [f] = figures
    assert (f.sent, f.answers) == (3, 1) and f.median_answer_s is not None


def test_two_desktops_taking_the_same_conversations_at_once_never_both_win(db: Any, tmp_path: Any) -> None:
    """Two handles on one database (two desktops): each round both take the same unassigned
    conversation at the same moment; one wins, the other is told the winner's name."""
    from smsdesk.storage.db import Database

    _account(db)
    for n in range(20):
        _in(db, f"+4479111234{n:02d}")
    if type(db) is Database:
        other: Any = Database(db.path)
    else:
        from smsdesk.storage.pg.database import PgDatabase

        other = PgDatabase(db.url, db.password)
    try:
        one, two = TeamInboxRepository(db), TeamInboxRepository(other)

        async def race() -> list[tuple[tuple[bool, str | None], tuple[bool, str | None]]]:
            ids = [c.id for c in ConversationRepository(db).list(limit=50)]
            return [await asyncio.gather(one.assign(i, "ana", None), two.assign(i, "ben", None)) for i in ids]

        rounds = asyncio.run(race())
        assert len(rounds) == 20
        for a, b in rounds:
            assert [a[0], b[0]].count(True) == 1
            winner = "ana" if a[0] else "ben"
            assert a[1] == b[1] == winner
    finally:
        other.close()


def test_read_markers_are_per_person_and_only_move_forward(db: Any) -> None:
    _account(db)
    first = _in(db, "+447911123456")
    second = _in(db, "+447911123456", "are you there?")
    [conv] = ConversationRepository(db).list()
    team = TeamInboxRepository(db)
    asyncio.run(team.mark_seen(conv.id, second))
    asyncio.run(team.mark_seen(conv.id, first))  # an older page seen later does not move it back
    assert team.seen_by(conv.id, second) == [team.person]
    db.write_sync(
        lambda c: c.execute(
            "INSERT INTO conversation_reads (conversation_id, person, message_id, at) VALUES (?, 'ben', ?, '')",
            (conv.id, first),
        )
    )
    assert team.seen_by(conv.id, first) == sorted([team.person, "ben"], key=str.lower)
    assert team.seen_by(conv.id, second) == [team.person]


def test_a_request_asked_of_the_relays_is_claimed_by_exactly_one_and_answered(db: Any) -> None:
    from smsdesk.storage.db import Database
    from smsdesk.storage.relay_requests import RelayRequestRepository

    _account(db)
    if type(db) is Database:
        other: Any = Database(db.path)
    else:
        from smsdesk.storage.pg.database import PgDatabase

        other = PgDatabase(db.url, db.password)
    try:
        desk, one, two = RelayRequestRepository(db), RelayRequestRepository(db), RelayRequestRepository(other)

        async def go() -> tuple[list[int], Any, Any]:
            asked = [await desk.ask("test", 1), await desk.ask("balance", 1), await desk.ask("withdraw", 1, 42)]
            mine, theirs = await asyncio.gather(
                one.claim("relay-1", [1], "2000-01-01"), two.claim("relay-2", [1], "2000-01-01")
            )
            return asked, mine, theirs

        asked, mine, theirs = asyncio.run(go())
        assert sorted(r.id for r in mine + theirs) == sorted(asked)  # each once, by one relay
        assert {(r.kind, r.subject) for r in mine + theirs} == {("test", None), ("balance", None), ("withdraw", 42)}
        assert desk.answer_of(asked[0]) is None
        asyncio.run(one.answer(asked[0], True, "Connected as MyShop"))
        asyncio.run(one.answer(asked[1], False, "The key was refused"))
        assert desk.answer_of(asked[0]) == (True, "Connected as MyShop")
        assert desk.answer_of(asked[1]) == (False, "The key was refused")
        assert asyncio.run(one.claim("relay-1", [1], "2000-01-01")) == []  # nothing left to take
    finally:
        other.close()
