"""The Bulk wizard: a QWizard that renders :class:`~smsdesk.services.bulk_send_flow.BulkSendFlow`.

The step machine (guards, validation, the run) lives in services and is tested without Qt;
this module only shows it. Heavy work (reading a 100,000-row file, validating it, re-checking
after each template edit) runs in a worker thread through :meth:`BulkSendWizard.background`,
or in slices on the GUI loop through :meth:`BulkSendWizard.cooperative`, with a progress bar
fed by a timer, so the window never freezes. Async service calls go through ``spawn``; no
dialog is ever ``exec()``-ed (file choosers use ``open()`` + signals). Pages reach the
wizard only through :class:`~smsdesk.ui.views.bulk_send.common.WizardHost`.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget, QWizard

from smsdesk.services.bulk_send_flow import STEP_TITLES, BulkSendFlow, Step
from smsdesk.services.groups import GroupRecipient
from smsdesk.services.imports.pooled import CheckStep, Pending
from smsdesk.ui import gc_policy
from smsdesk.ui.aio import report_error, spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import save_dialog
from smsdesk.ui.views.bulk_send.common import StepPage
from smsdesk.ui.views.bulk_send.contacts_page import ContactsPage
from smsdesk.ui.views.bulk_send.file_page import FilePage
from smsdesk.ui.views.bulk_send.mapping_page import MappingPage
from smsdesk.ui.views.bulk_send.message_page import MessagePage
from smsdesk.ui.views.bulk_send.report_page import ReportPage
from smsdesk.ui.views.bulk_send.run_page import RunPage
from smsdesk.ui.views.bulk_send.send_page import SendPage
from smsdesk.ui.views.bulk_send.validation_page import ValidationPage

# A plain Python thread, not qasync's default QThread executor: a QThread still alive when the
# interpreter exits aborts the process ("QThread: Destroyed while thread is still running").
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsdesk-import")


class BulkSendWizard(QWizard):
    """The wizard. ``state`` is the UI-free step machine it renders."""

    sig_busy_changed = Signal(bool)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("BulkSendWizard")
        self.setWindowFlags(Qt.WindowType.Widget)  # embedded in the main window, not a dialog
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoCancelButton, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.state = self._new_state()
        self.progress: tuple[int, int] = (0, 0)  # written by the worker thread, read by a timer
        self.cancel_flag = threading.Event()
        self._busy = 0
        self.pages_by_step: dict[Step, StepPage] = {}
        pages: tuple[tuple[Step, StepPage], ...] = (
            (Step.FILE, FilePage(self)),
            (Step.MAPPING, MappingPage(self)),
            (Step.VALIDATION, ValidationPage(self)),
            (Step.MESSAGE, MessagePage(self)),
            (Step.SEND, SendPage(self)),
            (Step.RUN, RunPage(self)),
            (Step.REPORT, ReportPage(self)),
            (Step.CONTACTS, ContactsPage(self)),
        )
        for step, page in pages:
            page.setTitle(STEP_TITLES[step])
            self.setPage(int(step), page)
            self.pages_by_step[step] = page
        self.currentIdChanged.connect(self._on_page)
        self._adopt_active_run()

    def _adopt_active_run(self) -> None:
        """A run still going (left by a closed or killed app, which resumed it) opens on its page."""
        runs = self.ctx.services.bulk_send.active_runs()
        if runs:
            self.state.run_id = runs[0].id
            self.state.step = Step.RUN
            self.setStartId(int(Step.RUN))

    def _new_state(self) -> BulkSendFlow:
        services = self.ctx.services
        return BulkSendFlow(services.bulk_send, services.settings_file.settings.default_region or "GB")

    def _on_page(self, page_id: int) -> None:
        if page_id >= 0:
            self.state.step = Step(page_id)
            self.pages_by_step[Step(page_id)].entered()

    # ---- background work -----------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._busy > 0

    def background(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        title: str,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn`` in a worker thread; ``on_done(result)`` runs on the GUI thread.

        ``fn`` must not import modules: PySide6's import hook is not meant for other threads
        (callers import what ``fn`` needs first, on the GUI thread).
        """
        self.cancel_flag.clear()
        self.progress = (0, 0)
        self._busy += 1
        self.sig_busy_changed.emit(True)
        self._hold_gc()

        async def work() -> Any:
            try:
                return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, fn)
            finally:
                self._settle()  # also when cancelled: never leave GC paused or the page busy

        def failed(exc: BaseException) -> None:
            if on_error is not None:
                on_error(exc)
            else:
                report_error(title, exc)

        spawn(work(), title=title, on_done=on_done, on_error=failed)

    def cooperative(
        self,
        steps: Generator[CheckStep, None, Any],
        on_done: Callable[[Any], None],
        title: str,
        budget_s: float = 0.004,
    ) -> None:
        """Run a generator of ``(done, total)`` on the GUI loop in slices of ``budget_s``.

        4 ms: with a repaint of the window (up to ~10 ms in software rendering) in the same
        turn of the loop, a slice of 8 ms made gaps of ~20 ms, more than a frame at 60 Hz.

        Used for validation rather than a thread: while a worker thread holds the GIL, every
        Python call Qt makes (each model ``data()`` of a repaint) waits up to the 5 ms switch
        interval for it, and a table repaint then froze the window for half a second. A big
        file's rows are judged in worker processes; while the next chunk is not back the
        generator yields a :class:`Pending`, awaited here without using the GUI thread.
        """
        self.cancel_flag.clear()
        self.progress = (0, 0)
        self._busy += 1
        self.sig_busy_changed.emit(True)
        self._hold_gc()

        async def work() -> Any:
            started = time.perf_counter()
            try:
                while True:
                    try:
                        step = next(steps)
                    except StopIteration as stop:
                        return stop.value
                    if isinstance(step, Pending):  # worker processes are on it: wait, not spin
                        self.progress = (step.done, step.total)
                        await asyncio.wrap_future(step.wait)
                        started = time.perf_counter()
                        continue
                    self.progress = step
                    if time.perf_counter() - started > budget_s:
                        gc.collect(1)  # young cycles only: ~1 ms (see _hold_gc)
                        await asyncio.sleep(0)  # let Qt paint and tick
                        started = time.perf_counter()
            finally:
                self._settle()  # also when cancelled: never leave GC paused or the page busy

        spawn(work(), title=title, on_done=on_done)

    def _settle(self) -> None:
        self._busy = max(0, self._busy - 1)
        self._release_gc()
        self.sig_busy_changed.emit(self.busy)

    def _hold_gc(self) -> None:
        """Pause Python's cyclic GC while a big file is read or checked (:func:`gc_policy.hold`).

        With 100,000 rows alive (a million small objects), every full collection walks them
        all: a 150-250 ms pause. Young generations are still collected between slices; when the
        work is done the survivors (the table and the verdicts, which hold no cycles) are frozen
        out of later full collections and collection resumes.
        """
        gc_policy.hold()

    def _release_gc(self) -> None:
        gc_policy.release()

    def report_progress(self, done: int, total: int) -> None:
        """Progress callback for the worker thread (a plain assignment: no Qt calls there)."""
        self.progress = (done, total)

    def cancelled(self) -> bool:
        return self.cancel_flag.is_set()

    # ---- files -----------------------------------------------------------------------
    def choose_save_path(self, suggested: str, on_chosen: Callable[[str], None]) -> None:
        """A non-modal save dialog (never ``exec()``: it would nest the event loop)."""
        save_dialog(self, "Save rejected rows", suggested, ("csv",), lambda path: on_chosen(str(path)))

    def send_to_contacts(self, people: Sequence[GroupRecipient], source: str, text: str, account_id: int) -> str:
        """Start a send to contacts (a group's members, from Compose or Contacts): the wizard
        opens at "Check the rows" with them, ``text`` waits on the message step. Returns why
        it cannot start now ("" when it started)."""
        if self.busy or self.state.step in (Step.RUN, Step.SEND):
            return "Bulk send is busy with another send. Finish it there first, then try again."
        if not people:
            return f"No one in {source} can be texted. Nothing was sent."
        state = self._new_state()
        state.load_recipients(people, source)
        state.template_text = text
        state.set_account(account_id)
        self.state = state
        self.setStartId(int(Step.VALIDATION))
        self.restart_pages()
        return ""

    def restart(self) -> None:
        """Start another import from the first page."""
        self.state = self._new_state()
        self.setStartId(int(Step.FILE))
        self.restart_pages()

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        """Finish starts over: embedded in the window, the wizard must never hide itself.

        QWizard asks the page whether it may finish in its own ``done``, which this replaces:
        the last page can still say no (saving contacts takes two presses: save, then done).
        """
        if result != int(QWizard.DialogCode.Rejected) and not self.validateCurrentPage():
            return
        self.restart()

    def restart_pages(self) -> None:
        for page in self.pages_by_step.values():
            page.reset()
        super().restart()
