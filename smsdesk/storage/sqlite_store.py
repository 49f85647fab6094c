"""The SQLite store: every repository of :mod:`smsdesk.storage.api` over one database file.

Only the composition root (``runtime.py``) builds it; services receive its repositories.
"""

from __future__ import annotations

from pathlib import Path

from smsdesk.storage.accounts import AccountRepository
from smsdesk.storage.backup import BackupRepository
from smsdesk.storage.changes import ChangeRepository
from smsdesk.storage.claims import ClaimRepository
from smsdesk.storage.contacts import ContactRepository
from smsdesk.storage.conversations import ConversationRepository
from smsdesk.storage.db import Database
from smsdesk.storage.inbound import InboundRepository
from smsdesk.storage.messages import MessageRepository
from smsdesk.storage.optouts import OptOutRepository
from smsdesk.storage.polls import PollRepository
from smsdesk.storage.processes import ProcessRepository
from smsdesk.storage.relays import RelayRepository
from smsdesk.storage.review import ReviewRepository
from smsdesk.storage.seed import SetupRepository
from smsdesk.storage.webhook_events import WebhookEventRepository


class SqliteStore:
    """One open SQLite database and its repositories (``storage.api.Store``)."""

    def __init__(self, db: Database) -> None:
        # Until the scheduler and bulk send take repositories too, they get the database
        # itself; nothing else may use it.
        self.db = db
        self.accounts = AccountRepository(db)
        self.messages = MessageRepository(db)
        self.claims = ClaimRepository(db)
        self.optouts = OptOutRepository(db)
        self.inbound = InboundRepository(db)
        self.webhook_events = WebhookEventRepository(db)
        self.contacts = ContactRepository(db)
        self.conversations = ConversationRepository(db)
        self.polls = PollRepository(db)
        self.processes = ProcessRepository(db)
        self.changes = ChangeRepository(db)
        self.relays = RelayRepository(db)
        self.setup = SetupRepository(db)
        self.review = ReviewRepository(db)
        self.backup = BackupRepository(db.path, db)

    @classmethod
    def open(cls, path: Path) -> SqliteStore:
        """Open (creating and migrating) the database at ``path``.

        Raises:
            StorageError: the file is damaged or from a newer smsdesk; nothing was changed.
        """
        return cls(Database(path))

    @staticmethod
    def files(path: Path) -> BackupRepository:
        """The backup side of the database at ``path`` without opening it (a restore replaces it)."""
        return BackupRepository(path)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()
