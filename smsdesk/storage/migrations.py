"""Numbered schema migrations, tracked in ``PRAGMA user_version``.

Append a new version at the end; never edit a released one. Each version is a list of
statements run in one transaction. Keep SQL portable where it costs nothing.
"""

from __future__ import annotations

V1 = [
    """CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        provider TEXT NOT NULL,
        base_url TEXT NOT NULL DEFAULT '',
        sender TEXT NOT NULL DEFAULT '',
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        fields TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE contact_groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE contact_group_members (
        group_id INTEGER NOT NULL REFERENCES contact_groups(id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, contact_id)
    )""",
    # One row per message in either direction. ``remote`` is the other party (+E.164).
    # ``claimed_by`` marks a dispatcher that is sending it (exactly one sender per row).
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        local_id TEXT NOT NULL UNIQUE,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        remote TEXT NOT NULL,
        local_number TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        raw_status TEXT NOT NULL DEFAULT '',
        error TEXT,
        provider_message_id TEXT,
        client_ref TEXT,
        segments INTEGER,
        encoding TEXT,
        send_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        claimed_by TEXT,
        claimed_at TEXT,
        run_id INTEGER,
        is_read INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX messages_conversation ON messages(account_id, remote, id)",
    "CREATE INDEX messages_provider_id ON messages(account_id, provider_message_id)",
    "CREATE INDEX messages_client_ref ON messages(client_ref)",
    "CREATE INDEX messages_outbox ON messages(status, next_attempt_at) WHERE status = 'queued'",
    "CREATE INDEX messages_run ON messages(run_id) WHERE run_id IS NOT NULL",
    # The time of each status a message took.
    """CREATE TABLE message_transitions (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        raw_status TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    )""",
    "CREATE INDEX message_transitions_message ON message_transitions(message_id)",
    # Kept so the conversation list does not scan a million messages.
    """CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        remote TEXT NOT NULL,
        last_message_id INTEGER,
        last_at TEXT NOT NULL,
        unread INTEGER NOT NULL DEFAULT 0,
        draft TEXT NOT NULL DEFAULT '',
        UNIQUE (account_id, remote)
    )""",
    "CREATE INDEX conversations_recent ON conversations(last_at DESC)",
    # A receipt whose message we cannot find yet (it raced the send's commit).
    """CREATE TABLE pending_receipts (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL,
        provider_message_id TEXT,
        client_ref TEXT,
        status TEXT NOT NULL,
        raw_status TEXT NOT NULL DEFAULT '',
        error TEXT,
        received_at TEXT NOT NULL
    )""",
    "CREATE INDEX pending_receipts_pmid ON pending_receipts(account_id, provider_message_id)",
    "CREATE INDEX pending_receipts_ref ON pending_receipts(client_ref)",
    # Raw webhook bodies, stored before the 2xx; ``dedupe_key`` is unique per account.
    """CREATE TABLE webhook_events (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        received_at TEXT NOT NULL,
        content_type TEXT NOT NULL DEFAULT '',
        body BLOB NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        error TEXT,
        processed_at TEXT
    )""",
    "CREATE INDEX webhook_events_pending ON webhook_events(state) WHERE state = 'pending'",
    # Every delivery attempt, accepted or not, for debugging a provider's set-up.
    """CREATE TABLE webhook_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        account TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL DEFAULT '',
        status_code INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE optouts (
        number TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
]

# The scheduled queue (storage/schedule.py): items with wall-clock time + IANA zone and the
# next run in UTC, their recipients, run history, and which messages each run made.
V2 = [
    """CREATE TABLE schedules (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        kind TEXT NOT NULL DEFAULT 'single',
        body TEXT NOT NULL,
        sender TEXT NOT NULL DEFAULT '',
        bulk_run_id INTEGER,
        recipient_count INTEGER NOT NULL DEFAULT 0,
        recurrence TEXT NOT NULL DEFAULT '{"kind": "once"}',
        first_local TEXT NOT NULL,
        zone TEXT NOT NULL,
        next_run_utc TEXT,
        state TEXT NOT NULL DEFAULT 'scheduled'
            CHECK (state IN ('scheduled', 'paused', 'running', 'done', 'cancelled', 'held')),
        location TEXT NOT NULL DEFAULT 'local' CHECK (location IN ('local', 'provider')),
        reason TEXT NOT NULL DEFAULT '',
        version INTEGER NOT NULL DEFAULT 1,
        claimed_by TEXT,
        handed_off_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX schedules_due ON schedules(state, next_run_utc)",
    """CREATE TABLE schedule_recipients (
        schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        number TEXT NOT NULL,
        body TEXT,
        PRIMARY KEY (schedule_id, position)
    )""",
    """CREATE TABLE schedule_runs (
        id INTEGER PRIMARY KEY,
        schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
        due_utc TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        state TEXT NOT NULL DEFAULT 'running',
        note TEXT NOT NULL DEFAULT '',
        skipped INTEGER NOT NULL DEFAULT 0,
        dispatcher TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX schedule_runs_item ON schedule_runs(schedule_id, id)",
    """CREATE TABLE schedule_messages (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        run_id INTEGER NOT NULL REFERENCES schedule_runs(id) ON DELETE CASCADE
    )""",
    "CREATE INDEX schedule_messages_run ON schedule_messages(run_id)",
]

# Conversations (issue 5): full-text search and the indexes a thread page needs.
# ``message_fts`` indexes message text (external content: the text is stored once, in
# ``messages``); ``conversation_fts`` indexes each conversation's number and contact name
# with trigrams, so "7911" or "ali" finds "+447911123456" / "Alice". Triggers keep both in
# step with every writer (sends, replies, bulk import, contacts) without each one knowing.
# Search orders by rowid, never by bm25 (over a million messages a common word takes 0.2 ms
# by rowid and 440 ms ranked by bm25).
V3 = [
    "CREATE VIRTUAL TABLE message_fts USING fts5(body, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
    """CREATE TRIGGER message_fts_ai AFTER INSERT ON messages BEGIN
         INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body);
       END""",
    """CREATE TRIGGER message_fts_ad AFTER DELETE ON messages BEGIN
         INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);
       END""",
    """CREATE TRIGGER message_fts_au AFTER UPDATE OF body ON messages BEGIN
         INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);
         INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body);
       END""",
    "CREATE VIRTUAL TABLE conversation_fts USING fts5(number, name, tokenize='trigram')",
    """INSERT INTO conversation_fts(rowid, number, name)
         SELECT c.id, c.remote, COALESCE(k.name, '') FROM conversations c
         LEFT JOIN contacts k ON k.number = c.remote""",
    """CREATE TRIGGER conversation_fts_ai AFTER INSERT ON conversations BEGIN
         INSERT INTO conversation_fts(rowid, number, name) VALUES
           (new.id, new.remote, COALESCE((SELECT name FROM contacts WHERE number = new.remote), ''));
       END""",
    """CREATE TRIGGER conversation_fts_ad AFTER DELETE ON conversations BEGIN
         DELETE FROM conversation_fts WHERE rowid = old.id;
       END""",
    """CREATE TRIGGER contact_fts_ai AFTER INSERT ON contacts BEGIN
         UPDATE conversation_fts SET name = new.name
           WHERE rowid IN (SELECT id FROM conversations WHERE remote = new.number);
       END""",
    """CREATE TRIGGER contact_fts_au AFTER UPDATE OF name, number ON contacts BEGIN
         UPDATE conversation_fts SET name = ''
           WHERE rowid IN (SELECT id FROM conversations WHERE remote = old.number);
         UPDATE conversation_fts SET name = new.name
           WHERE rowid IN (SELECT id FROM conversations WHERE remote = new.number);
       END""",
    """CREATE TRIGGER contact_fts_ad AFTER DELETE ON contacts BEGIN
         UPDATE conversation_fts SET name = ''
           WHERE rowid IN (SELECT id FROM conversations WHERE remote = old.number);
       END""",
    # Marking a thread read touches only its unread replies; "needs review" is a filter.
    "CREATE INDEX messages_unread ON messages(account_id, remote) WHERE is_read = 0",
    "CREATE INDEX messages_review ON messages(account_id, remote) WHERE status = 'needs_review'",
    "CREATE INDEX conversations_remote ON conversations(remote)",
]

# Bulk import runs (issue 6, storage/bulk_sends.py): one row per import, one item per data row of
# the file (accepted or rejected, with the reason), each accepted item linked to the outbox
# message it became. ``state`` pauses / cancels the run: the dispatcher does not claim the
# messages of a paused or cancelled run.
V4 = [
    """CREATE TABLE bulk_runs (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        source TEXT NOT NULL DEFAULT '',
        source_hash TEXT NOT NULL DEFAULT '',
        template TEXT NOT NULL DEFAULT '',
        sender TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'running'
            CHECK (state IN ('scheduled', 'running', 'paused', 'cancelled', 'done')),
        send_at TEXT,
        rows_in INTEGER NOT NULL DEFAULT 0,
        accepted INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        by_reason TEXT NOT NULL DEFAULT '{}',
        headers TEXT NOT NULL DEFAULT '[]',
        group_id INTEGER REFERENCES contact_groups(id) ON DELETE SET NULL,
        schedule_id INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    )""",
    "CREATE INDEX bulk_runs_state ON bulk_runs(state)",
    """CREATE TABLE bulk_run_items (
        run_id INTEGER NOT NULL REFERENCES bulk_runs(id) ON DELETE CASCADE,
        row_no INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        number TEXT,
        reason TEXT,
        detail TEXT NOT NULL DEFAULT '',
        body TEXT,
        segments INTEGER,
        encoding TEXT,
        cells TEXT NOT NULL DEFAULT '[]',
        name TEXT NOT NULL DEFAULT '',
        fields TEXT NOT NULL DEFAULT '{}',
        message_id INTEGER,
        PRIMARY KEY (run_id, row_no)
    )""",
    "CREATE INDEX bulk_run_items_todo ON bulk_run_items(run_id, row_no) WHERE message_id IS NULL",
    "CREATE INDEX messages_run_status ON messages(run_id, status) WHERE run_id IS NOT NULL",
]

# The scheduler looks for due locally scheduled messages every second: keep that an index probe.
V5 = [
    "CREATE INDEX messages_scheduled ON messages(send_at) WHERE status = 'scheduled'",
]

# The poller re-reads each account's unsettled sends often: an index probe, not a scan of
# every message. Keep the WHERE text identical to storage/polls.py (SQLite matches it literally;
# V14 rewrites the condition).
V6 = [
    "CREATE INDEX messages_open ON messages(account_id, id)"
    " WHERE direction = 'out' AND status IN ('sent', 'unknown', 'needs_review')",
]

# Search indexing is deferred to the end of each write transaction (issue 3). An FTS5 table
# flushes its pending terms into a new segment at every statement savepoint, and a row
# indexed from a trigger always gets one, so indexing row by row wrote one segment (and its
# merges) per new message and per new conversation: ~60% of an outbox insert. The triggers
# now only note the new row's id in a ``*_todo`` table; :data:`INDEX_PENDING` (run by the
# database writer before every COMMIT, and once at open) indexes all of them in one statement
# each. Committed data is therefore always fully indexed and search results are unchanged.
# A conversation's name is read at that moment, which is where the contact triggers would
# have left it. Deletes and body edits skip rows that are still waiting (never indexed).
V7 = [
    "CREATE TABLE message_fts_todo (id INTEGER PRIMARY KEY)",
    "CREATE TABLE conversation_fts_todo (id INTEGER PRIMARY KEY)",
    "DROP TRIGGER message_fts_ai",
    "DROP TRIGGER message_fts_ad",
    "DROP TRIGGER message_fts_au",
    """CREATE TRIGGER message_fts_ai AFTER INSERT ON messages BEGIN
         INSERT OR IGNORE INTO message_fts_todo(id) VALUES (new.id);
       END""",
    """CREATE TRIGGER message_fts_ad AFTER DELETE ON messages BEGIN
         INSERT INTO message_fts(message_fts, rowid, body) SELECT 'delete', old.id, old.body
           WHERE NOT EXISTS (SELECT 1 FROM message_fts_todo WHERE id = old.id);
         DELETE FROM message_fts_todo WHERE id = old.id;
       END""",
    """CREATE TRIGGER message_fts_au AFTER UPDATE OF body ON messages
         WHEN NOT EXISTS (SELECT 1 FROM message_fts_todo WHERE id = old.id) BEGIN
         INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);
         INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body);
       END""",
    "DROP TRIGGER conversation_fts_ai",
    "DROP TRIGGER conversation_fts_ad",
    """CREATE TRIGGER conversation_fts_ai AFTER INSERT ON conversations BEGIN
         INSERT OR IGNORE INTO conversation_fts_todo(id) VALUES (new.id);
       END""",
    """CREATE TRIGGER conversation_fts_ad AFTER DELETE ON conversations BEGIN
         DELETE FROM conversation_fts WHERE rowid = old.id;
         DELETE FROM conversation_fts_todo WHERE id = old.id;
       END""",
]

# Run inside every write transaction just before COMMIT (storage/db.py): index what the V7
# triggers queued (only the statements whose to-do table holds ids: INDEX_STEPS below).
INDEX_PENDING = [
    """INSERT INTO message_fts(rowid, body)
         SELECT m.id, m.body FROM message_fts_todo t JOIN messages m ON m.id = t.id ORDER BY t.id""",
    "DELETE FROM message_fts_todo",
    """INSERT INTO conversation_fts(rowid, number, name)
         SELECT c.id, c.remote, COALESCE(k.name, '') FROM conversation_fts_todo t
         JOIN conversations c ON c.id = t.id LEFT JOIN contact_numbers n ON n.number = c.remote
         LEFT JOIN contacts k ON k.id = n.contact_id ORDER BY t.id""",
    "DELETE FROM conversation_fts_todo",
]

# The same for the contact search index (V10): every noted contact's row is written again.
# ``json_each`` reads the custom field values (SQLite's; a PostgreSQL store indexes with
# pg_trgm over its own expression), guarded so a damaged JSON text indexes as no values.
INDEX_CONTACTS = [
    "DELETE FROM contact_fts WHERE rowid IN (SELECT id FROM contact_fts_todo)",
    """INSERT INTO contact_fts(rowid, name, numbers, other)
         SELECT k.id, k.name || ' ' || k.given_name || ' ' || k.family_name,
           COALESCE((SELECT group_concat(n.number, ' ') FROM contact_numbers n WHERE n.contact_id = k.id), ''),
           COALESCE((SELECT group_concat(j.value, ' ') FROM json_each(
               CASE WHEN json_valid(k.fields) AND json_type(k.fields) = 'object' THEN k.fields ELSE '{}' END) j), '')
             || ' ' || COALESCE((SELECT group_concat(g.tag, ' ') FROM contact_tags g WHERE g.contact_id = k.id), '')
         FROM contact_fts_todo t JOIN contacts k ON k.id = t.id ORDER BY t.id""",
    "DELETE FROM contact_fts_todo",
]
INDEX_PENDING += INDEX_CONTACTS

# Which to-do table each INDEX_PENDING statement empties, and one cheap look at all three:
# the writer runs only the statements whose table holds ids (most transactions note none).
INDEX_TODO = """SELECT EXISTS (SELECT 1 FROM message_fts_todo) AS message_fts_todo,
                       EXISTS (SELECT 1 FROM conversation_fts_todo) AS conversation_fts_todo,
                       EXISTS (SELECT 1 FROM contact_fts_todo) AS contact_fts_todo"""
INDEX_STEPS = [
    (statement, table)
    for statement in INDEX_PENDING
    for table in ("message_fts_todo", "conversation_fts_todo", "contact_fts_todo")
    if table in statement
]  # one step per statement: tests/unit/storage/test_migrations.py checks it

# The webhook log shows what became of each accepted delivery (processed, failed and why,
# or waiting for its message): a log line and a parked receipt name the raw event they came from.
V8 = [
    "ALTER TABLE webhook_log ADD COLUMN event_id INTEGER",
    "ALTER TABLE pending_receipts ADD COLUMN event_id INTEGER",
]

# An account's price per segment used to default to "0", which estimates then showed as a
# cost of 0.00. Empty now means "not known"; an account still holding the old default had
# never been given a price, so it becomes unknown ("cost unknown") instead of free.
V9 = [
    """UPDATE accounts SET settings = json_set(settings, '$.price_per_segment', '')
       WHERE json_valid(settings) AND json_extract(settings, '$.price_per_segment') IN ('0', 0)""",
]

# The address book (issue 15): several numbers per contact, tags, typed custom fields, notes,
# consent, smart groups, saved templates, erasure, and groups as a schedule's recipients.
# Every existing contact keeps its row and id; its one number becomes its first entry in
# ``contact_numbers`` (marked for texts by being ``contacts.number``). ``contact_numbers``'
# primary key makes "never two contacts for one number" hold in the database. Names shown
# for a number (the inbox, its search index, the opt-out list) now come through
# ``contact_numbers``, so any of a person's numbers shows their name. ``contact_fts``
# (trigram: "ann", "7911" and "leeds" each find "Ann Lee, +447911123456, Leeds") is filled
# like the V7 indexes: triggers note the contact in ``contact_fts_todo`` and
# :data:`INDEX_PENDING` indexes every noted contact in one statement before COMMIT.
V10 = [
    "ALTER TABLE contacts ADD COLUMN given_name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE contacts ADD COLUMN family_name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE contacts ADD COLUMN notes TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE contacts ADD COLUMN consent_at TEXT",
    "ALTER TABLE contacts ADD COLUMN consent_how TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX contacts_name ON contacts(name COLLATE NOCASE, id)",
    "CREATE INDEX contacts_family_name ON contacts(family_name COLLATE NOCASE, id)",
    "CREATE INDEX contacts_updated ON contacts(updated_at)",
    """CREATE TABLE contact_numbers (
        number TEXT PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        label TEXT NOT NULL DEFAULT '',
        position INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX contact_numbers_contact ON contact_numbers(contact_id, position)",
    "INSERT INTO contact_numbers (number, contact_id, label, position) SELECT number, id, '', 0 FROM contacts",
    """CREATE TABLE contact_tags (
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        tag TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (contact_id, tag)
    )""",
    "CREATE INDEX contact_tags_tag ON contact_tags(tag, contact_id)",
    """CREATE TABLE contact_fields (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'number', 'date')),
        position INTEGER NOT NULL DEFAULT 0
    )""",
    # The fields imports already stored become text fields, in name order (a one-off here;
    # at run time the JSON is read in Python).
    """INSERT OR IGNORE INTO contact_fields (name, kind, position)
         SELECT j.key, 'text', 0 FROM contacts k, json_each(k.fields) j
         WHERE json_valid(k.fields) AND json_type(k.fields) = 'object' ORDER BY j.key""",
    "UPDATE contact_fields SET position = rowid",
    "ALTER TABLE contact_groups ADD COLUMN filter TEXT",
    "ALTER TABLE contact_groups ADD COLUMN updated_at TEXT NOT NULL DEFAULT ''",
    "UPDATE contact_groups SET updated_at = created_at",
    "CREATE INDEX contact_group_members_contact ON contact_group_members(contact_id)",
    """CREATE TABLE templates (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        category TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    # After "erase everything about this person": a salted SHA-256 of each of their numbers
    # that was on the opt-out list (salt: kv 'erase_salt'); every opt-out check reads it.
    """CREATE TABLE erased_numbers (
        hash TEXT PRIMARY KEY,
        opted_out INTEGER NOT NULL DEFAULT 1,
        erased_at TEXT NOT NULL
    )""",
    # NULL: the schedule's fixed recipient list; else the group whose members each run takes.
    "ALTER TABLE schedules ADD COLUMN group_id INTEGER REFERENCES contact_groups(id)",
    "CREATE INDEX schedules_group ON schedules(group_id) WHERE group_id IS NOT NULL",
    # Names in the inbox's search index, through any of a contact's numbers.
    "DROP TRIGGER contact_fts_ai",
    "DROP TRIGGER contact_fts_au",
    "DROP TRIGGER contact_fts_ad",
    """CREATE TRIGGER contact_name_au AFTER UPDATE OF name ON contacts BEGIN
         UPDATE conversation_fts SET name = new.name WHERE rowid IN
           (SELECT c.id FROM contact_numbers n JOIN conversations c ON c.remote = n.number WHERE n.contact_id = new.id);
       END""",
    """CREATE TRIGGER contact_numbers_ai AFTER INSERT ON contact_numbers BEGIN
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (new.contact_id);
         UPDATE conversation_fts SET name = COALESCE((SELECT name FROM contacts WHERE id = new.contact_id), '')
           WHERE rowid IN (SELECT id FROM conversations WHERE remote = new.number);
       END""",
    """CREATE TRIGGER contact_numbers_ad AFTER DELETE ON contact_numbers BEGIN
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (old.contact_id);
         UPDATE conversation_fts SET name = '' WHERE rowid IN (SELECT id FROM conversations WHERE remote = old.number);
       END""",
    """CREATE TRIGGER contact_numbers_au AFTER UPDATE OF number, contact_id ON contact_numbers BEGIN
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (old.contact_id);
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (new.contact_id);
         UPDATE conversation_fts SET name = '' WHERE rowid IN (SELECT id FROM conversations WHERE remote = old.number);
         UPDATE conversation_fts SET name = COALESCE((SELECT name FROM contacts WHERE id = new.contact_id), '')
           WHERE rowid IN (SELECT id FROM conversations WHERE remote = new.number);
       END""",
    # A writer that adds a contact by its number alone (naming a number in the inbox, an
    # import's "save as a group") still gets the number into contact_numbers.
    """CREATE TRIGGER contact_number_ai AFTER INSERT ON contacts BEGIN
         INSERT OR IGNORE INTO contact_numbers (number, contact_id, label, position) VALUES (new.number, new.id, '', 0);
       END""",
    # Contact search.
    "CREATE VIRTUAL TABLE contact_fts USING fts5(name, numbers, other, tokenize='trigram')",
    "CREATE TABLE contact_fts_todo (id INTEGER PRIMARY KEY)",
    "INSERT INTO contact_fts_todo (id) SELECT id FROM contacts",
    """CREATE TRIGGER contact_search_ai AFTER INSERT ON contacts BEGIN
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (new.id);
       END""",
    """CREATE TRIGGER contact_search_au AFTER UPDATE OF name, given_name, family_name, fields ON contacts BEGIN
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (new.id);
       END""",
    """CREATE TRIGGER contact_search_ad AFTER DELETE ON contacts BEGIN
         DELETE FROM contact_fts WHERE rowid = old.id;
         DELETE FROM contact_fts_todo WHERE id = old.id;
       END""",
    """CREATE TRIGGER contact_tags_ai AFTER INSERT ON contact_tags BEGIN
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (new.contact_id);
       END""",
    """CREATE TRIGGER contact_tags_ad AFTER DELETE ON contact_tags BEGIN
         INSERT OR IGNORE INTO contact_fts_todo(id) VALUES (old.contact_id);
       END""",
]

# Automatic replies (services/autoreplies.py): the rules, and on each message the rule that
# sent it and the reply it answered. The unique index makes "one automatic reply per incoming
# message and rule" hold in the database itself, whichever process answers.
V11 = [
    """CREATE TABLE autoreply_rules (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        keywords TEXT NOT NULL DEFAULT '[]',
        match TEXT NOT NULL DEFAULT 'word',
        reply TEXT NOT NULL DEFAULT '',
        enabled INTEGER NOT NULL DEFAULT 1,
        position INTEGER NOT NULL DEFAULT 0,
        add_group_id INTEGER REFERENCES contact_groups(id) ON DELETE SET NULL,
        add_tag TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX autoreply_rules_account ON autoreply_rules(account_id, position, id)",
    "ALTER TABLE messages ADD COLUMN auto_rule_id INTEGER",
    "ALTER TABLE messages ADD COLUMN in_reply_to INTEGER",
    "CREATE UNIQUE INDEX messages_auto_once ON messages(in_reply_to, auto_rule_id) WHERE auto_rule_id IS NOT NULL",
    """CREATE INDEX messages_auto_recent ON messages(account_id, remote, created_at)
       WHERE auto_rule_id IS NOT NULL""",
]

# What each outgoing message was priced at when it was queued (the account's price per part
# then, and its currency): a later price change never rewrites what was sent. NULL: unknown.
V12 = [
    "ALTER TABLE messages ADD COLUMN price_per_part TEXT",
    "ALTER TABLE messages ADD COLUMN currency TEXT NOT NULL DEFAULT ''",
]


from smsdesk.storage.report_schema import V13  # noqa: E402 - reports' schema, in a module of its own

# Partial indexes whose condition lists statuses with IN: SQLite evaluates such a list through
# a temporary lookup table, for the old and the new row of every status change, which made
# recording a send's result cost twice what it should (~25 µs of ~50). The same condition
# written with OR costs nothing measurable. Queries that use these indexes repeat the
# condition word for word (SQLite matches it literally): OPEN_CONDITION, FAILED_CONDITION.
OPEN_CONDITION = "(status = 'sent' OR status = 'unknown' OR status = 'needs_review')"
FAILED_CONDITION = "(status = 'failed' OR status = 'rejected' OR status = 'expired')"
V14 = [
    "DROP INDEX messages_open",
    f"CREATE INDEX messages_open ON messages(account_id, id) WHERE direction = 'out' AND {OPEN_CONDITION}",
    "DROP INDEX messages_failures",
    f"CREATE INDEX messages_failures ON messages(created_at) WHERE {FAILED_CONDITION}",
]

from smsdesk.storage.spend_cap import PARTS_LEFT_SCHEMA as V16  # noqa: E402 - kept with the spending sums
from smsdesk.storage.team_schema import V15  # noqa: E402 - the team inbox's schema, in a module of its own

MIGRATIONS: dict[int, list[str]] = {
    1: V1,
    2: V2,
    3: V3,
    4: V4,
    5: V5,
    6: V6,
    7: V7,
    8: V8,
    9: V9,
    10: V10,
    11: V11,
    12: V12,
    13: V13,
    14: V14,
    15: V15,
    16: V16,
}

LATEST_VERSION = max(MIGRATIONS)
