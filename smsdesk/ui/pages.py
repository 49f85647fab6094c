"""The navigation: which pages the main window shows, in order, and the Settings tabs.

Registered explicitly (no discovery), so a frozen build has them all. To add a page, append a
:class:`PageSpec` here; its factory receives the :class:`UiContext`. Each view lives in its
own module under ``ui/views/`` and is imported inside its factory (fast start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from smsdesk.ui.context import UiContext


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    shortcut: str
    factory: Callable[[UiContext], QWidget]


def _compose(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.compose_view import ComposeView

    return ComposeView(ctx)


def _conversations(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.conversations_view import ConversationsView

    return ConversationsView(ctx)


def _optouts(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.optouts_view import OptOutsView

    return OptOutsView(ctx)


def _contacts(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.contacts.view import ContactsView

    return ContactsView(ctx)


def _templates(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.templates_view import TemplatesView

    return TemplatesView(ctx)


def _bulk(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.bulk_send.view import BulkSendView

    return BulkSendView(ctx)


def _scheduled(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.scheduled_view import ScheduledView

    return ScheduledView(ctx)


def _reports(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.reports.view import ReportsView

    return ReportsView(ctx)


def _settings(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.settings_view import SettingsView

    return SettingsView(ctx, SETTINGS_TABS)


PAGES: list[PageSpec] = [
    PageSpec("compose", "Compose", "Ctrl+1", _compose),
    PageSpec("conversations", "Conversations", "Ctrl+2", _conversations),
    PageSpec("scheduled", "Scheduled", "Ctrl+3", _scheduled),
    PageSpec("bulk", "Bulk send", "Ctrl+4", _bulk),
    PageSpec("settings", "Settings", "Ctrl+5", _settings),
    PageSpec("optouts", "Opt-outs", "Ctrl+6", _optouts),
    PageSpec("contacts", "Contacts", "Ctrl+7", _contacts),
    PageSpec("templates", "Templates", "Ctrl+8", _templates),
    PageSpec("reports", "Reports", "Ctrl+9", _reports),
]


@dataclass(frozen=True)
class SettingsTab:
    key: str
    title: str
    factory: Callable[[UiContext], QWidget]


def _accounts_tab(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.accounts_view import AccountsView

    return AccountsView(ctx)


def _webhooks_tab(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.settings_webhooks import WebhooksSettingsView

    return WebhooksSettingsView(ctx)


def _general_tab(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.general_settings_view import GeneralSettingsView

    return GeneralSettingsView(ctx)


def _autoreplies_tab(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.autoreplies_view import AutoRepliesView

    return AutoRepliesView(ctx)


def _data_tab(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.data_settings_view import DataSettingsView

    return DataSettingsView(ctx)


def _workspace_tab(ctx: UiContext) -> QWidget:
    from smsdesk.ui.views.workspace_settings_view import WorkspaceSettingsView

    return WorkspaceSettingsView(ctx)


SETTINGS_TABS: list[SettingsTab] = [
    SettingsTab("accounts", "Accounts", _accounts_tab),
    SettingsTab("webhooks", "Webhooks", _webhooks_tab),
    SettingsTab("general", "General", _general_tab),
    SettingsTab("autoreplies", "Automatic replies", _autoreplies_tab),
    SettingsTab("data", "Data", _data_tab),
    SettingsTab("workspace", "Workspace", _workspace_tab),
]
