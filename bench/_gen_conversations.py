"""Write a big smsdesk database straight to disk: N messages in M conversations.

One conversation (``BIG_NUMBER``) gets ``big`` messages; the rest are spread at random over
the others, over three years. The schema comes from the real migrations (``Runtime.open``),
then rows go in with ``executemany`` in one transaction and ``synchronous=OFF`` (generation
only; the app itself always runs with FULL). FTS rows are written by the schema's own
triggers, exactly as in the app. ``python bench/_gen_conversations.py HOME [messages] [convs]``.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BIG_NUMBER = "+447911000000"
COMMON_WORD = "thanks"
_OPENERS = ["Hi", "Hello", "Morning", "Hey", "Good evening", "Dear customer", "Reminder"]
_PHRASES = [
    "your table is booked for 7pm",
    "the parcel is on its way",
    "can we move it to Friday",
    "see you tomorrow",
    "the invoice is attached to your account",
    "please call the shop",
    "your appointment is confirmed",
    "we are open until 6 today",
    "is parking available",
    "the order is ready to collect",
    "running ten minutes late",
    "could you send the address",
    "happy birthday from all of us",
    "the engineer arrives between 8 and 12",
    "payment received",
]
_NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj"]
_SURNAMES = ["Jones", "Smith", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Khan"]


def number(i: int) -> str:
    return BIG_NUMBER if i == 0 else f"+447911{i:06d}"


def body(rng: random.Random) -> str:
    text = f"{rng.choice(_OPENERS)}, {rng.choice(_PHRASES)}."
    if rng.random() < 0.18:
        text += f" {COMMON_WORD.capitalize()}!"
    if rng.random() < 0.3:
        text += f" {rng.choice(_PHRASES).capitalize()}?"
    return text


def generate(
    home: Path, messages: int = 1_000_000, conversations: int = 50_000, big: int = 10_000, seed: int = 7
) -> dict[str, float]:
    from smsdesk.runtime import Runtime  # the real schema and first-start rows

    t0 = time.perf_counter()
    rt = Runtime.open(str(home))
    path = rt.paths.database
    rt.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    account_id = conn.execute("SELECT id FROM accounts WHERE name = 'Sandbox'").fetchone()[0]
    # Which conversation each message (in time order) belongs to.
    owners = [rng.randrange(1, conversations) for _ in range(messages - big)] + [0] * big
    rng.shuffle(owners)
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    step = (3 * 365 * 86400) / messages
    unread_from = messages - 300  # the newest few hundred replies are unread

    def rows():
        for k, owner in enumerate(owners):
            at = (start + timedelta(seconds=k * step)).isoformat(timespec="milliseconds")
            out = rng.random() < 0.5
            status = ("failed" if rng.random() < 0.01 else "delivered") if out else "received"
            yield (
                f"gen{k:09d}",
                account_id,
                "out" if out else "in",
                number(owner),
                "+447700000000",
                body(rng),
                status,
                1,
                "GSM-7",
                0 if (not out and k >= unread_from) else 1,
                at,
                at,
            )

    conn.execute("BEGIN")
    names = [
        (
            number(i),
            f"{rng.choice(_NAMES)} {rng.choice(_SURNAMES)}",
            "2024-01-01T00:00:00.000+00:00",
            "2024-01-01T00:00:00.000+00:00",
        )
        for i in range(conversations)
        if i % 3 == 0
    ]
    conn.executemany("INSERT INTO contacts (number, name, created_at, updated_at) VALUES (?, ?, ?, ?)", names)
    conn.executemany(
        """INSERT INTO messages (local_id, account_id, direction, remote, local_number, body, status,
             segments, encoding, is_read, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        rows(),
    )
    conn.execute(
        """INSERT INTO conversations (account_id, remote, last_message_id, last_at, unread)
           SELECT account_id, remote, max(id), max(created_at), sum(is_read = 0)
           FROM messages GROUP BY account_id, remote"""
    )
    from smsdesk.storage.migrations import INDEX_PENDING  # what Database does before each COMMIT

    for statement in INDEX_PENDING:
        conn.execute(statement)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "generate_s": round(time.perf_counter() - t0, 1),
        "messages": messages,
        "conversations": conversations,
        "db_mb": round(path.stat().st_size / 1e6, 1),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    print(generate(Path(args[0]), *(int(a) for a in args[1:])))
