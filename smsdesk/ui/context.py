"""What every view receives: the services it may call and the bridge that carries changes into Qt.

Views never see the runtime (how the process is put together) nor storage: they get
:class:`UiServices`, built once by the composition root (``smsdesk.app.build_window``), and
call service methods. ``tests/test_layers.py`` holds the UI to that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from smsdesk.config.settings import Settings
from smsdesk.services.accounts import AccountService
from smsdesk.services.autoreplies import AutoReplyService
from smsdesk.services.backup import BackupService
from smsdesk.services.balance import BalanceWatch
from smsdesk.services.bulk_send import BulkSendService
from smsdesk.services.contacts import ContactService
from smsdesk.services.conversations import ConversationService
from smsdesk.services.groups import GroupService
from smsdesk.services.optouts import OptOutService
from smsdesk.services.reception import ReceptionService
from smsdesk.services.review import ReviewService
from smsdesk.services.scheduler import SchedulerService
from smsdesk.services.send import SendService
from smsdesk.services.templates import TemplateService
from smsdesk.services.tunnel import TunnelService
from smsdesk.services.webhook_intake import WebhookIntakeService
from smsdesk.ui.aio import BusBridge

if TYPE_CHECKING:
    from smsdesk.services.reports import ReportService


@dataclass(frozen=True, slots=True)
class SettingsFile:
    """The settings the window shows and changes, and how to keep a change.

    Attributes:
        settings: the one settings object of this process (changed in place).
        save: writes them to the settings file and announces what others must redraw (a new
            default country relabels every number shown).
    """

    settings: Settings
    save: Callable[[], None]


@dataclass(frozen=True, slots=True)
class StartupFacts:
    """What this start found, for Settings -> Data and the About box.

    Attributes:
        data_folder: where messages, accounts and settings are kept.
        restore_error: why a restore chosen in Settings -> Data still waits, or "".
    """

    data_folder: Path
    restore_error: str = ""


@dataclass(frozen=True, slots=True)
class UiServices:
    """The services the window uses, one field each."""

    settings_file: SettingsFile
    accounts: AccountService
    sending: SendService
    conversations: ConversationService
    contacts: ContactService
    groups: GroupService
    templates: TemplateService
    autoreplies: AutoReplyService
    reports_service: Callable[[], ReportService]  # built on first use (see :attr:`reports`)
    balances: BalanceWatch
    optouts: OptOutService
    scheduler: SchedulerService
    bulk_send: BulkSendService
    review: ReviewService
    backups: BackupService
    reception: ReceptionService
    tunnel: TunnelService
    webhook_log: WebhookIntakeService
    startup: StartupFacts

    @property
    def reports(self) -> ReportService:
        """Reports and exports (imported when a page first asks, not before the first paint)."""
        return self.reports_service()


class Restart:
    """Asked for by a view that needs smsdesk started again once this window has closed (a restore
    staged in Settings -> Data is put in place by the next start, before the database opens)."""

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True


@dataclass(frozen=True, slots=True, weakref_slot=True)  # the theme manager holds it weakly
class UiContext:
    """What every view and model of the window is built with."""

    services: UiServices
    bridge: BusBridge
    restart: Restart = field(default_factory=Restart)
