"""The SQLite store: every repository of :mod:`smsdesk.storage.api` over one database file.

Only the composition root (``runtime.py``) builds it; services receive its repositories,
typed as the protocols of ``storage.api`` (so they see nothing SQLite-specific).
"""

from __future__ import annotations

from pathlib import Path

from smsdesk.storage import api
from smsdesk.storage.accounts import AccountRepository
from smsdesk.storage.autoreplies import AutoReplyRepository
from smsdesk.storage.backup import BackupRepository
from smsdesk.storage.bulk_sends import BulkSendRepository
from smsdesk.storage.changes import ChangeRepository
from smsdesk.storage.claims import ClaimRepository
from smsdesk.storage.contacts import ContactRepository
from smsdesk.storage.conversations import ConversationRepository
from smsdesk.storage.db import Database
from smsdesk.storage.groups import GroupRepository
from smsdesk.storage.inbound import InboundRepository
from smsdesk.storage.messages import MessageRepository
from smsdesk.storage.optouts import OptOutRepository
from smsdesk.storage.polls import PollRepository
from smsdesk.storage.processes import ProcessRepository
from smsdesk.storage.relays import RelayRepository
from smsdesk.storage.reports import ReportRepository
from smsdesk.storage.review import ReviewRepository
from smsdesk.storage.schedule_repository import ScheduleRepository
from smsdesk.storage.seed import SetupRepository
from smsdesk.storage.templates import TemplateRepository
from smsdesk.storage.webhook_events import WebhookEventRepository


class SqliteStore:
    """One open SQLite database and its repositories (an :class:`smsdesk.storage.api.Store`)."""

    def __init__(self, db: Database) -> None:
        self.db = db  # for backups, tests and benchmarks of this store; services see repositories only
        self.accounts: api.AccountStore = AccountRepository(db)
        self.messages: api.MessageStore = MessageRepository(db)
        self.claims: api.ClaimStore = ClaimRepository(db)
        self.inbound: api.InboundStore = InboundRepository(db)
        self.webhook_events: api.WebhookEventStore = WebhookEventRepository(db)
        self.optouts: api.OptOutStore = OptOutRepository(db)
        self.contacts: api.ContactStore = ContactRepository(db)
        self.groups: api.GroupStore = GroupRepository(db)
        self.templates: api.TemplateStore = TemplateRepository(db)
        self.conversations: api.ConversationStore = ConversationRepository(db)
        self.polls: api.PollStore = PollRepository(db)
        self.processes: api.ProcessStore = ProcessRepository(db)
        self.changes: api.ChangeFeed = ChangeRepository(db)
        self.relays: api.RelayStore = RelayRepository(db)
        self.setup: api.SetupStore = SetupRepository(db)
        self.review: api.ReviewStore = ReviewRepository(db)
        self.backup: api.BackupStore = BackupRepository(db.path, db)
        self.bulk_sends: api.BulkSendStore = BulkSendRepository(db)
        self.schedules: api.ScheduleStore = ScheduleRepository(db)
        self.autoreplies: api.AutoReplyStore = AutoReplyRepository(db)
        self.reports: api.ReportStore = ReportRepository(db)

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
        return BackupRepository(path)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()


def _is_a_store(store: SqliteStore) -> api.Store:
    return store  # type-checked: SqliteStore provides every repository of the Store protocol
