"""``python -m smsdesk``: the CLI (``python -m smsdesk gui`` starts the window)."""

from smsdesk.cli import main

raise SystemExit(main())
