"""Every repository of :mod:`smsdesk.storage.api` over one database handle, either store's.

The repositories' statements run on SQLite and, rewritten by ``storage/pg/dialect.py``, on
PostgreSQL; what differs beyond the spelling is a branch in the repository
(:func:`smsdesk.storage.dialect.is_postgres`). :class:`RepositorySet` builds each repository,
and imports its module, the first time it is asked for: opening a store at start-up costs the
database and its migration check, not the 20 repository modules (the window's first paint
needs three of them).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smsdesk.storage import api
    from smsdesk.storage.db import Database


class RepositorySet:
    """The repositories shared by both stores (the backup side is each store's own)."""

    def __init__(self, db: Database | Any) -> None:
        # A SQLite Database or a PgDatabase: both offer reader/query/write/submit.
        self.db: Database = db  # for backups, tests and benchmarks; services see repositories only

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
    def team(self) -> api.TeamInboxStore:
        from smsdesk.storage.team_inbox import TeamInboxRepository

        return TeamInboxRepository(self.db)

    @functools.cached_property
    def relay_requests(self) -> api.RelayRequestStore:
        from smsdesk.storage.relay_requests import RelayRequestRepository

        return RelayRequestRepository(self.db)

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
