"""Where smsdesk keeps things (paths), what it remembers (settings TOML), and secrets (keyring).

Imports ``domain`` only. Secrets never go to TOML, SQLite or logs.
"""
