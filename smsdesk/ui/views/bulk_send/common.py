"""What the Bulk wizard's pages share: the wizard as they see it, a base page, a table, texts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any, Protocol

from PySide6.QtCore import QAbstractItemModel, Qt, SignalInstance
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QTableView, QWizardPage

from smsdesk.services.bulk_send_flow import BulkSendFlow
from smsdesk.services.imports.pooled import CheckStep
from smsdesk.services.imports.validate import FLAG_LABELS, REASONS, Report
from smsdesk.ui.context import UiContext

# Notes drawn with a coloured bar and the theme's own text colour: readable in light and dark.
ERR = "QLabel { border: none; border-left: 4px solid #d93025; padding: 4px 8px; }"
WARN = "QLabel { border: none; border-left: 4px solid #e39b00; padding: 4px 8px; }"


class WizardHost(Protocol):
    """All a page may use of the wizard that holds it."""

    @property
    def ctx(self) -> UiContext:
        """The services and the bridge."""

    @property
    def state(self) -> BulkSendFlow:
        """The step machine being shown (a new one after :meth:`restart`)."""

    @property
    def busy(self) -> bool:
        """Work started by :meth:`background` or :meth:`cooperative` is running."""

    @property
    def sig_busy_changed(self) -> SignalInstance:
        """Emitted with ``busy`` when work starts or ends."""

    @property
    def progress(self) -> tuple[int, int]:
        """(done, total) of the work running now."""

    @property
    def cancel_flag(self) -> threading.Event:
        """Set to stop the work running now at its next step."""

    def cancelled(self) -> bool: ...

    def background(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        title: str,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None: ...

    def cooperative(
        self, steps: Generator[CheckStep, None, Any], on_done: Callable[[Any], None], title: str
    ) -> None: ...

    def choose_save_path(self, suggested: str, on_chosen: Callable[[str], None]) -> None: ...

    def restart(self) -> None: ...

    def next(self) -> None: ...


class StepPage(QWizardPage):
    """A wizard page that tells the wizard its completeness only when that changes.

    Each ``completeChanged`` makes QWizard update its buttons with updates disabled, hiding
    and re-showing the page area: the focus leaves the page (for the window's navigation
    list) and does not come back. Announced on every key press, the message box took one
    letter, and the next ones switched pages. So pages call :meth:`announce`, which emits
    only for the page on screen, only on a real change, and puts the focus back.
    """

    def __init__(self, host: WizardHost) -> None:
        super().__init__()
        self.host = host
        self._shown_complete: bool | None = None  # what the wizard last saw for this page

    def entered(self) -> None:
        """The wizard has just shown this page (and read its completeness itself)."""
        self._shown_complete = self.isComplete()

    def reset(self) -> None:
        """Forget what the last bulk send left on the page (the wizard starts over)."""

    def refresh(self) -> None:
        """Show the latest state of what the page follows (called every second while shown)."""

    def announce(self) -> None:
        wizard = self.wizard()
        if wizard is None or wizard.currentPage() is not self:
            return  # the wizard reads it afresh when the page is shown
        complete = self.isComplete()
        if complete == self._shown_complete:
            return
        self._shown_complete = complete
        keep = QApplication.focusWidget() or self.window().focusWidget()
        self.completeChanged.emit()
        if keep is not None and keep.isVisible() and keep.isEnabled() and self.window().focusWidget() is not keep:
            keep.setFocus(Qt.FocusReason.OtherFocusReason)


def table_view(
    model: QAbstractItemModel, name: str, widths: tuple[int, ...] = (), stretch: int | None = None
) -> QTableView:
    """A read-only table; fixed column widths (ResizeToContents would measure 100,000 rows)."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    for col, width in enumerate(widths):
        header.resizeSection(col, width)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)
    return view


def short(value: str, limit: int = 40) -> str:
    """``value`` cut to ``limit`` characters, ending in "…" when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def summary_text(report: Report) -> str:
    """'1,000 rows: 950 accepted, 50 rejected' and the reasons, for the summary labels."""
    parts = [f"{report.rows:,} rows: {report.accepted:,} accepted, {report.rejected:,} rejected."]
    if report.by_reason:
        parts.append("Rejected: " + reasons_text(report.by_reason) + ".")
    if report.by_flag:
        parts.append("Notes: " + "; ".join(f"{FLAG_LABELS.get(k, k)}: {n:,}" for k, n in report.by_flag.items()) + ".")
    if not report.complete:
        parts.append("The check was stopped; run it again to go on.")
    return "\n".join(parts)


def reasons_text(by_reason: dict[str, int]) -> str:
    """Rejection reasons in words with their counts: 'Invalid number: 2; Duplicate: 1'."""
    return "; ".join(f"{REASONS.get(k, k)}: {n:,}" for k, n in by_reason.items())
