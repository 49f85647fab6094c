"""The surface reports read through (a second store implements it too)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only (see storage.api)
    from smsdesk.storage.report_records import FailureCount, HourTotals, LogFilter, LogRow, RunMessage, RunTotals


class ReportStore(Protocol):
    """Reads for reports and exports; periods are half-open UTC ranges of ISO text."""

    def hour_totals(self, start: str, end: str, account_id: int | None = None) -> builtins.list[HourTotals]: ...

    def failures(self, start: str, end: str, account_id: int | None = None) -> builtins.list[FailureCount]: ...

    def answer_median(self, start: str, end: str, account_id: int | None = None) -> tuple[int, float | None]: ...

    def new_optouts(self, start: str, end: str) -> int: ...

    def spend(self, account_id: int, start: str) -> builtins.list[tuple[str, str, int]]: ...

    def pending_parts(self, account_id: int) -> int: ...

    def runs(self, start: str, end: str, account_id: int | None = None) -> builtins.list[RunTotals]: ...

    def run(self, source: str, run_id: int) -> RunTotals | None: ...

    def run_messages(self, source: str, run_id: int) -> builtins.list[RunMessage]: ...

    def message_log(self, f: LogFilter, batch: int = 5000) -> Iterator[builtins.list[LogRow]]: ...
