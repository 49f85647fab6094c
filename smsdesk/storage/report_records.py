"""What report reads return: hourly totals, failures, sends and their messages, message log rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple


class HourTotals(NamedTuple):
    """Messages of one UTC hour with the same account, direction, status, automatic or not,
    currency and price per part (``price`` ``""``: unknown)."""

    hour: str  # "2026-03-29T01"
    account_id: int
    direction: str
    status: str
    auto: bool
    currency: str
    price: str
    messages: int
    parts: int
    replied: int


class FailureCount(NamedTuple):
    status: str
    reason: str  # the provider's words ("" when it gave none)
    messages: int


@dataclass(frozen=True, slots=True)
class RunTotals:
    """One send (a bulk run, a group send or a scheduled run) and what became of its messages.

    ``groups``: (status, currency, price per part or "", messages, parts, replied) per status
    and price; ``opted_out``: recipients who opted out after it was sent.
    """

    source: str  # "bulk" (bulk_runs) or "schedule" (schedule_runs)
    run_id: int
    kind: str  # "bulk", "group" or "scheduled"
    started_at: str
    account_id: int
    title: str
    body: str
    groups: tuple[tuple[str, str, str, int, int, int], ...]
    opted_out: int


class RunMessage(NamedTuple):
    id: int
    account_id: int
    number: str
    status: str
    reason: str
    replied: bool
    opted_out: bool
    name: str = ""  # the name the send's spreadsheet row gave ("" for other sends)


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which messages an export holds: a UTC period and any of accounts, statuses, directions, numbers."""

    start: str | None = None
    end: str | None = None
    account_ids: Sequence[int] = ()
    statuses: Sequence[str] = ()
    directions: Sequence[str] = ()
    numbers: Sequence[str] = ()


class LogRow(NamedTuple):
    """A message as exports write it (UTC time as stored, ``sent``/``received``, price "" unknown)."""

    at: str
    account: str
    direction: str
    number: str
    contact: str
    text: str
    status: str
    reason: str
    parts: int
    price: str
    currency: str
    automatic: str  # "yes" for an automatic reply, else ""
