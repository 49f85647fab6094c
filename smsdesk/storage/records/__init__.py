"""Value types that cross the storage boundary, the same for every backend.

Services hand these to the repositories of :mod:`smsdesk.storage.api` and get these back:
never a database row or connection. Rows read on hot paths (the outbox, claims, stored
webhook events) are ``NamedTuple``: built in C from a fetched tuple, read by attribute.
Imports ``domain`` only.

The records live in submodules by area (``outbox``, ``events``, ``address_book``,
``conversations``, ``runs``) and are imported from here as always
(``from smsdesk.storage.records import NewOutgoing``). A submodule loads the first time one of
its names is asked for: building all ~40 frozen, slotted dataclasses and named tuples took
~15 ms, and the window's first paint needs three of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers (and PyInstaller, which finds the submodules here)
    from smsdesk.storage.records.address_book import *  # noqa: F403
    from smsdesk.storage.records.conversations import *  # noqa: F403
    from smsdesk.storage.records.events import *  # noqa: F403
    from smsdesk.storage.records.outbox import *  # noqa: F403
    from smsdesk.storage.records.runs import *  # noqa: F403

# record name -> the submodule that defines it (tests/unit/storage/test_records.py checks it)
WHERE: dict[str, str] = {
    "AuditEntry": "outbox",
    "AuditRecord": "outbox",
    "ClaimGroups": "outbox",
    "ClaimResult": "outbox",
    "ClaimedMessage": "outbox",
    "NewAccount": "outbox",
    "NewInbound": "outbox",
    "NewOutgoing": "outbox",
    "OpenSend": "outbox",
    "OptOutChange": "outbox",
    "OutboxRow": "outbox",
    "RecordedBatch": "outbox",
    "SpendCap": "outbox",
    "Transition": "outbox",
    "AppliedEvents": "events",
    "NewDelivery": "events",
    "OptOutEntry": "events",
    "OptOutHow": "events",
    "ParsedEvent": "events",
    "StoredEvent": "events",
    "StoredReplies": "events",
    "WebhookLogLine": "events",
    "Erased": "address_book",
    "NewContact": "address_book",
    "Removed": "address_book",
    "Saved": "address_book",
    "SavedTemplate": "address_book",
    "ScheduleUse": "address_book",
    "ActivityRow": "conversations",
    "AutoReplyGuards": "conversations",
    "BatchMessage": "conversations",
    "BatchRow": "conversations",
    "ConversationRow": "conversations",
    "ListFilter": "conversations",
    "Marks": "conversations",
    "PersonFigures": "conversations",
    "RelayRequest": "conversations",
    "SearchRow": "conversations",
    "TeamState": "conversations",
    "BULK_ACTIVE": "runs",
    "BackupFacts": "runs",
    "BulkReject": "runs",
    "Conflict": "runs",
    "NewItem": "runs",
    "NewRun": "runs",
    "NewSchedule": "runs",
    "ProviderHeld": "runs",
    "RunMessages": "runs",
    "RunRow": "runs",
}


def __getattr__(name: str) -> Any:
    module = WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # looked up once per name
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *WHERE])
