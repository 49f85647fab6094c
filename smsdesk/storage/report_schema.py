"""Migration 13: what reports read, kept as messages are written (see :mod:`smsdesk.storage.reports`)."""

from __future__ import annotations

# Reports (services/reports.py). Three facts are kept as messages are written, because working
# them out afterwards means walking every conversation in order (seconds on a million messages):
#
# - ``messages.reply_id`` on an outgoing message: the first incoming message from that number
#   within 7 days and before the next message to it (a reply to that send);
# - ``messages.answer_s`` on a message a person sent (not an automatic reply): seconds since
#   the first incoming message that waited for it (time to first reply by staff), and
#   ``conversations.waiting_since``: the first incoming message nobody has answered yet;
# - ``messages.parts_billed``: the parts a provider says it charged (NULL: use ``segments``).
#
# ``report_hours`` sums messages per UTC hour, account, direction, status, automatic or not,
# currency and price per part, kept by triggers, so a report over all time reads a few
# thousand rows instead of every message. A report buckets hours into local days in Python.
_HOUR_KEY = """substr({m}.created_at, 1, 13), {m}.account_id, {m}.direction, {m}.status,
    {m}.auto_rule_id IS NOT NULL, {m}.currency, coalesce({m}.price_per_part, '')"""
_HOUR_MATCH = """hour = substr({m}.created_at, 1, 13) AND account_id = {m}.account_id
    AND direction = {m}.direction AND status = {m}.status AND auto = ({m}.auto_rule_id IS NOT NULL)
    AND currency = {m}.currency AND price = coalesce({m}.price_per_part, '')"""
_HOUR_ADD = f"""INSERT INTO report_hours
      (hour, account_id, direction, status, auto, currency, price, messages, parts, replied)
    VALUES ({_HOUR_KEY.format(m="new")}, 1, coalesce(new.parts_billed, new.segments, 1),
      new.reply_id IS NOT NULL)
    ON CONFLICT DO UPDATE SET messages = messages + 1, parts = parts + excluded.parts,
      replied = replied + excluded.replied;"""
_HOUR_REMOVE = f"""UPDATE report_hours SET messages = messages - 1,
      parts = parts - coalesce(old.parts_billed, old.segments, 1),
      replied = replied - (old.reply_id IS NOT NULL)
    WHERE {_HOUR_MATCH.format(m="old")};"""
#: The message columns the report counters follow (the PostgreSQL schema's trigger too).
COUNTED = (
    "status",
    "segments",
    "parts_billed",
    "reply_id",
    "auto_rule_id",
    "price_per_part",
    "currency",
    "account_id",
    "created_at",
    "direction",
)

V13 = [
    "ALTER TABLE messages ADD COLUMN reply_id INTEGER",
    "ALTER TABLE messages ADD COLUMN answer_s INTEGER",
    "ALTER TABLE messages ADD COLUMN parts_billed INTEGER",
    "ALTER TABLE conversations ADD COLUMN waiting_since TEXT",
    # A send's reply: the next message in its conversation, when it came in within 7 days.
    """WITH seq AS (
         SELECT id, direction, created_at,
                lead(id) OVER w AS next_id, lead(direction) OVER w AS next_direction,
                lead(created_at) OVER w AS next_at
         FROM messages WINDOW w AS (PARTITION BY account_id, remote ORDER BY id))
       UPDATE messages SET reply_id = seq.next_id FROM seq
       WHERE messages.id = seq.id AND seq.direction = 'out' AND seq.next_direction = 'in'
         AND julianday(seq.next_at) - julianday(seq.created_at) <= 7""",
    # Staff answers: each message a person sent closes the run of incoming messages before it.
    """WITH seq AS (
         SELECT id, account_id, remote, direction, created_at, auto_rule_id,
                sum(direction = 'out' AND auto_rule_id IS NULL) OVER (
                  PARTITION BY account_id, remote ORDER BY id ROWS UNBOUNDED PRECEDING) AS answered
         FROM messages),
       waits AS (
         SELECT account_id, remote, answered, min(created_at) AS first_in FROM seq
         WHERE direction = 'in' GROUP BY account_id, remote, answered)
       UPDATE messages SET answer_s = max(0, CAST(round(
           (julianday(seq.created_at) - julianday(waits.first_in)) * 86400) AS INTEGER))
       FROM seq JOIN waits ON waits.account_id = seq.account_id AND waits.remote = seq.remote
         AND waits.answered = seq.answered - 1
       WHERE messages.id = seq.id AND seq.direction = 'out' AND seq.auto_rule_id IS NULL""",
    """UPDATE conversations SET waiting_since = (
         SELECT min(m.created_at) FROM messages m
         WHERE m.account_id = conversations.account_id AND m.remote = conversations.remote
           AND m.direction = 'in' AND m.id > coalesce((
             SELECT max(s.id) FROM messages s
             WHERE s.account_id = conversations.account_id AND s.remote = conversations.remote
               AND s.direction = 'out' AND s.auto_rule_id IS NULL), 0))""",
    "CREATE INDEX messages_created ON messages(created_at)",
    "CREATE INDEX messages_answers ON messages(created_at, answer_s) WHERE answer_s IS NOT NULL",
    """CREATE INDEX messages_failures ON messages(created_at)
       WHERE status IN ('failed', 'rejected', 'expired')""",
    """CREATE TABLE report_hours (
        hour TEXT NOT NULL,
        account_id INTEGER NOT NULL,
        direction TEXT NOT NULL,
        status TEXT NOT NULL,
        auto INTEGER NOT NULL,
        currency TEXT NOT NULL,
        price TEXT NOT NULL,
        messages INTEGER NOT NULL,
        parts INTEGER NOT NULL,
        replied INTEGER NOT NULL,
        PRIMARY KEY (hour, account_id, direction, status, auto, currency, price)
    ) WITHOUT ROWID""",
    f"""INSERT INTO report_hours
          (hour, account_id, direction, status, auto, currency, price, messages, parts, replied)
        SELECT {_HOUR_KEY.format(m="m")}, count(*), sum(coalesce(m.parts_billed, m.segments, 1)),
               sum(m.reply_id IS NOT NULL)
        FROM messages m GROUP BY 1, 2, 3, 4, 5, 6, 7""",
    f"CREATE TRIGGER report_hours_ai AFTER INSERT ON messages BEGIN {_HOUR_ADD} END",
    f"CREATE TRIGGER report_hours_ad AFTER DELETE ON messages BEGIN {_HOUR_REMOVE} END",
    f"""CREATE TRIGGER report_hours_au AFTER UPDATE OF {", ".join(COUNTED)} ON messages
        WHEN {" OR ".join(f"old.{c} IS NOT new.{c}" for c in COUNTED)}
        BEGIN {_HOUR_REMOVE} {_HOUR_ADD} END""",
]
