"""Contacts' names looked up by number, a whole list at a time."""

from __future__ import annotations

from smsdesk.storage import contacts as store
from smsdesk.storage.conversations import set_contact_name
from smsdesk.storage.db import Database


def test_names_for_many_numbers_in_one_call(db: Database) -> None:
    named = [f"+4479111{i:05d}" for i in range(1200)]  # more than one chunk of parameters

    def fill(conn) -> None:
        for i, number in enumerate(named):
            set_contact_name(conn, number, f"Client {i}")
        set_contact_name(conn, "+447911999999", "")  # a contact without a name

    db.write_sync(fill)
    asked = [*named, "+447911999999", "+254722000000", named[0]]
    names = store.names_for(db.reader(), asked)
    assert len(names) == 1200
    assert names[named[0]] == "Client 0" and names[named[-1]] == "Client 1199"
    assert "+447911999999" not in names and "+254722000000" not in names
    assert store.names_for(db.reader(), []) == {}
