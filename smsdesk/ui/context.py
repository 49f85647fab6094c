"""What every view receives: the services it may call and the bridge that carries changes into Qt.

Views never see the runtime (how the process is put together) nor storage: they get
:class:`UiServices`, built once by the composition root (``smsdesk.app.build_window``), and
call service methods. ``tests/test_layers.py`` holds the UI to that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from smsdesk.config.settings import Settings
from smsdesk.ui.aio import BusBridge

if TYPE_CHECKING:  # the services are imported by whoever builds them, when first asked for
    from smsdesk.services.accounts import AccountService
    from smsdesk.services.autoreplies import AutoReplyService
    from smsdesk.services.backup import BackupService
    from smsdesk.services.balance import BalanceWatch
    from smsdesk.services.bulk_send import BulkSendService
    from smsdesk.services.contacts import ContactService
    from smsdesk.services.conversations import ConversationService
    from smsdesk.services.groups import GroupService
    from smsdesk.services.health import StoreHealth
    from smsdesk.services.optouts import OptOutService
    from smsdesk.services.reception import ReceptionService
    from smsdesk.services.reports import ReportService
    from smsdesk.services.review import ReviewService
    from smsdesk.services.scheduler import SchedulerService
    from smsdesk.services.send import SendService
    from smsdesk.services.templates import TemplateService
    from smsdesk.services.tunnel import TunnelService
    from smsdesk.services.unsent import UnsentMessage
    from smsdesk.services.webhook_intake import WebhookIntakeService
    from smsdesk.workspace import WorkspaceChoice


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


class ServiceSource(Protocol):
    """Where :class:`UiServices` gets each service (the composition root), built on first use."""

    @property
    def accounts(self) -> AccountService: ...
    @property
    def sending(self) -> SendService: ...
    @property
    def conversations(self) -> ConversationService: ...
    @property
    def contacts(self) -> ContactService: ...
    @property
    def groups(self) -> GroupService: ...
    @property
    def templates(self) -> TemplateService: ...
    @property
    def autoreplies(self) -> AutoReplyService: ...
    @property
    def reports(self) -> ReportService: ...
    @property
    def balances(self) -> BalanceWatch: ...
    @property
    def optouts(self) -> OptOutService: ...
    @property
    def scheduler(self) -> SchedulerService: ...
    @property
    def bulk_send(self) -> BulkSendService: ...
    @property
    def review(self) -> ReviewService: ...
    @property
    def backups(self) -> BackupService: ...
    @property
    def receiving(self) -> ReceptionService: ...
    @property
    def tunnel(self) -> TunnelService: ...
    @property
    def webhook_intake(self) -> WebhookIntakeService: ...
    @property
    def workspace(self) -> WorkspaceChoice: ...
    @property
    def health(self) -> StoreHealth: ...

    open_pending: bool


class UiServices:
    """The services the window uses, one property each.

    Each is fetched from the composition root when a view first asks, and built there then:
    the first paint (Compose) builds the few it uses, not the scheduler, the receiver or the
    reports. Views see these properties and nothing else of how the process is put together.
    """

    __slots__ = ("_source", "settings_file", "startup")

    def __init__(self, source: ServiceSource, settings_file: SettingsFile, startup: StartupFacts) -> None:
        self._source = source
        self.settings_file = settings_file
        self.startup = startup

    @property
    def accounts(self) -> AccountService:
        return self._source.accounts

    @property
    def sending(self) -> SendService:
        return self._source.sending

    @property
    def conversations(self) -> ConversationService:
        return self._source.conversations

    @property
    def contacts(self) -> ContactService:
        return self._source.contacts

    @property
    def groups(self) -> GroupService:
        return self._source.groups

    @property
    def templates(self) -> TemplateService:
        return self._source.templates

    @property
    def autoreplies(self) -> AutoReplyService:
        return self._source.autoreplies

    @property
    def reports(self) -> ReportService:
        return self._source.reports

    @property
    def balances(self) -> BalanceWatch:
        return self._source.balances

    @property
    def optouts(self) -> OptOutService:
        return self._source.optouts

    @property
    def scheduler(self) -> SchedulerService:
        return self._source.scheduler

    @property
    def bulk_send(self) -> BulkSendService:
        return self._source.bulk_send

    @property
    def review(self) -> ReviewService:
        return self._source.review

    @property
    def backups(self) -> BackupService:
        return self._source.backups

    @property
    def reception(self) -> ReceptionService:
        return self._source.receiving

    @property
    def tunnel(self) -> TunnelService:
        return self._source.tunnel

    @property
    def webhook_log(self) -> WebhookIntakeService:
        return self._source.webhook_intake

    @property
    def workspace(self) -> WorkspaceChoice:
        """Settings -> Workspace: which store this desktop uses, joining and leaving."""
        return self._source.workspace

    @property
    def health(self) -> StoreHealth:
        """Whether the database answers now, and the replies kept on this computer meanwhile."""
        return self._source.health

    @property
    def unsent(self) -> UnsentMessage:
        """Compose's message not sent when the window closed (or the database did not answer)."""
        from smsdesk.services.unsent import UnsentMessage

        return UnsentMessage(self.startup.data_folder / "unsent-message.json")

    @property
    def waiting_for_store(self) -> bool:
        """The workspace did not answer when smsdesk started, and has not yet: the window shows,
        its services wait for it (reading this builds nothing, unlike :attr:`health`)."""
        return self._source.open_pending


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
