"""The team inbox's SQLite schema (migration V15; PostgreSQL's is in ``storage/pg/schema.py``)."""

from __future__ import annotations

# The team inbox (see storage/team_inbox.py): who a conversation is assigned to, whether it is
# open, resolved or snoozed (until ``snoozed_until``, or the next reply when that is NULL), who
# sent each message (a workspace stamps it; a single desktop leaves it NULL: one person), the
# conversation's activity (internal notes; who assigned, resolved or reopened it) and each
# person's read marker.
V15 = [
    "ALTER TABLE conversations ADD COLUMN assignee TEXT",
    "ALTER TABLE conversations ADD COLUMN state TEXT NOT NULL DEFAULT 'open'",
    "ALTER TABLE conversations ADD COLUMN snoozed_until TEXT",
    "ALTER TABLE messages ADD COLUMN sent_by TEXT",
    """CREATE TABLE conversation_activity (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL)""",
    "CREATE INDEX conversation_activity_conversation ON conversation_activity(conversation_id, id)",
    "CREATE INDEX conversations_assignee ON conversations(assignee) WHERE assignee IS NOT NULL",
    "CREATE INDEX conversations_not_open ON conversations(state) WHERE state != 'open'",
    # Each person's read marker: the newest message they have seen in the conversation.
    """CREATE TABLE conversation_reads (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        person TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, person))""",
    # Calls that need an account's provider keys, asked by a desktop that holds none (a team
    # workspace keeps them on relays): a relay holding the keys claims the row, makes the call
    # and writes the answer (storage/relay_requests.py).
    """CREATE TABLE relay_requests (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        account_id INTEGER NOT NULL,
        subject INTEGER,
        asked_at TEXT NOT NULL,
        claimed_by TEXT,
        answered_at TEXT,
        ok INTEGER,
        answer TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX relay_requests_open ON relay_requests(account_id) WHERE answered_at IS NULL",
]
