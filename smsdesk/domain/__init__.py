"""Pure domain: statuses, numbers, segments, templates, opt-out keywords, errors, events.

Owns the rules of SMS. Must not import Qt, httpx, sqlite3, keyring or anything that does I/O.
"""
