"""The SQLite store: every repository of :mod:`smsdesk.storage.api` over one database file.

Only the composition root (``runtime.py``) builds it; services receive its repositories,
typed as the protocols of ``storage.api`` (so they see nothing SQLite-specific).

Each repository is built, and its module imported, the first time it is asked for: opening
the store at start-up costs the database and its migration check, not the 20 repository
modules (the window's first paint needs three of them).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.storage.db import Database

if TYPE_CHECKING:
    from smsdesk.storage import api


class SqliteStore:
    """One open SQLite database and its repositories (an :class:`smsdesk.storage.api.Store`)."""

    def __init__(self, db: Database) -> None:
        self.db = db  # for backups, tests and benchmarks of this store; services see repositories only

    @functools.cached_property
    def accounts(self) -> api.AccountStore:
        from smsdesk.storage.accounts import AccountRepository

        return AccountRepository(self.db)

    @functools.cached_property
    def messages(self) -> api.MessageStore:
        from smsdesk.storage.messages import MessageRepository

        return MessageRepository(self.db)

    @functools.cached_property
    def claims(self) -> api.ClaimStore:
        from smsdesk.storage.claims import ClaimRepository

        return ClaimRepository(self.db)

    @functools.cached_property
    def inbound(self) -> api.InboundStore:
        from smsdesk.storage.inbound import InboundRepository

        return InboundRepository(self.db)

    @functools.cached_property
    def webhook_events(self) -> api.WebhookEventStore:
        from smsdesk.storage.webhook_events import WebhookEventRepository

        return WebhookEventRepository(self.db)

    @functools.cached_property
    def optouts(self) -> api.OptOutStore:
        from smsdesk.storage.optouts import OptOutRepository

        return OptOutRepository(self.db)

    @functools.cached_property
    def contacts(self) -> api.ContactStore:
        from smsdesk.storage.contacts import ContactRepository

        return ContactRepository(self.db)

    @functools.cached_property
    def groups(self) -> api.GroupStore:
        from smsdesk.storage.groups import GroupRepository

        return GroupRepository(self.db)

    @functools.cached_property
    def templates(self) -> api.TemplateStore:
        from smsdesk.storage.templates import TemplateRepository

        return TemplateRepository(self.db)

    @functools.cached_property
    def conversations(self) -> api.ConversationStore:
        from smsdesk.storage.conversations import ConversationRepository

        return ConversationRepository(self.db)

    @functools.cached_property
    def polls(self) -> api.PollStore:
        from smsdesk.storage.polls import PollRepository

        return PollRepository(self.db)

    @functools.cached_property
    def processes(self) -> api.ProcessStore:
        from smsdesk.storage.processes import ProcessRepository

        return ProcessRepository(self.db)

    @functools.cached_property
    def changes(self) -> api.ChangeFeed:
        from smsdesk.storage.changes import ChangeRepository

        return ChangeRepository(self.db)

    @functools.cached_property
    def relays(self) -> api.RelayStore:
        from smsdesk.storage.relays import RelayRepository

        return RelayRepository(self.db)

    @functools.cached_property
    def setup(self) -> api.SetupStore:
        from smsdesk.storage.seed import SetupRepository

        return SetupRepository(self.db)

    @functools.cached_property
    def review(self) -> api.ReviewStore:
        from smsdesk.storage.review import ReviewRepository

        return ReviewRepository(self.db)

    @functools.cached_property
    def backup(self) -> api.BackupStore:
        from smsdesk.storage.backup import BackupRepository

        return BackupRepository(self.db.path, self.db)

    @functools.cached_property
    def bulk_sends(self) -> api.BulkSendStore:
        from smsdesk.storage.bulk_sends import BulkSendRepository

        return BulkSendRepository(self.db)

    @functools.cached_property
    def schedules(self) -> api.ScheduleStore:
        from smsdesk.storage.schedule_repository import ScheduleRepository

        return ScheduleRepository(self.db)

    @functools.cached_property
    def autoreplies(self) -> api.AutoReplyStore:
        from smsdesk.storage.autoreplies import AutoReplyRepository

        return AutoReplyRepository(self.db)

    @functools.cached_property
    def reports(self) -> api.ReportStore:
        from smsdesk.storage.reports import ReportRepository

        return ReportRepository(self.db)

    @classmethod
    def open(cls, path: Path) -> SqliteStore:
        """Open (creating and migrating) the database at ``path``.

        Raises:
            StorageError: the file is damaged or from a newer smsdesk; nothing was changed.
        """
        return cls(Database(path))

    @staticmethod
    def files(path: Path) -> api.BackupStore:
        """The backup side of the database at ``path`` without opening it (a restore replaces it)."""
        from smsdesk.storage.backup import BackupRepository

        return BackupRepository(path)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()


def _is_a_store(store: SqliteStore) -> api.Store:
    return store  # type-checked: SqliteStore provides every repository of the Store protocol
