"""Validation of every row, with one reason per rejected row, and the totals.

Rows in = accepted + rejected, always: every data row gets exactly one :class:`RowResult`.

Rejection codes (first that applies): ``missing_number``, ``scientific_notation`` (Excel
dropped digits), ``invalid_number``, ``not_mobile`` (where ``phonenumbers`` knows),
``duplicate`` (same number earlier in the file), ``opted_out``, ``existing_contact``
(only when the policy is to skip contacts already saved), ``empty_merge_field`` (a field
the template uses without a fallback is empty).

Flags on accepted rows: a repair (``lost_leading_zero``, ``scientific_notation_repaired``,
``decimal_suffix``, ``added_plus``), ``existing_contact`` (merged), ``ucs2`` (a merge value
forces the whole message to UCS-2) and ``extra_segment`` (more parts than most rows).

Pure: the GUI runs it on its loop in slices, the CLI directly; a big file's rows are judged
in worker processes when a pool is given (``judge.py`` says which half of the work that is).
The opt-out and contact sets are loaded by the caller (storage stays out of this module).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Container, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Executor, wait
from dataclasses import dataclass, field
from typing import Any

from smsdesk.domain.pricing import Prices
from smsdesk.domain.segments import GSM7, UCS2, analyze
from smsdesk.domain.template import Template
from smsdesk.services.imports.judge import Judged, Message, RowRules, fixed_message, row_message
from smsdesk.services.imports.mapping import ColumnMapping
from smsdesk.services.imports.numbers import check_number
from smsdesk.services.imports.pooled import CHUNK, CheckStep, Pending, PooledJudging
from smsdesk.services.imports.readers import Table, gc_paused

ACCEPTED = "accepted"
REJECTED = "rejected"

REASONS = {
    "missing_number": "No number",
    "scientific_notation": "Number mangled by Excel",
    "invalid_number": "Invalid number",
    "not_mobile": "Not a mobile number",
    "duplicate": "Duplicate in file",
    "opted_out": "Opted out",
    "existing_contact": "Already a contact",
    "empty_merge_field": "Empty merge field",
    "cancelled": "Validation cancelled",
}
FLAG_LABELS = {
    "lost_leading_zero": "leading zero restored",
    "scientific_notation_repaired": "rebuilt from scientific notation",
    "decimal_suffix": "'.0' removed",
    "added_plus": "'+' added before the country code",
    "existing_contact": "existing contact (details merged)",
    "ucs2": "a merge value forces UCS-2",
    "extra_segment": "a merge value adds a segment",
}
_PROGRESS_EVERY = 2000
POOL_MIN_ROWS = 20_000  # from this many rows, worker processes judge them (when a pool is given)


@dataclass(slots=True)
class ValidationContext:
    """What validation needs from outside: opt-outs, saved contacts, price, policies."""

    # Opted-out numbers: a set, or the store's look-up that also knows erased people's numbers.
    optouts: Container[str] = frozenset()
    contacts: frozenset[str] = frozenset()
    # How each opted-out number got on the list ("replied STOP on 3 Nov 2026"), for the reason.
    optout_how: Mapping[str, str] = field(default_factory=dict)
    contact_policy: str = "merge"  # merge | skip
    require_mobile: bool = True
    price_per_segment: float | None = None  # None: the account has no price (cost unknown, never 0)
    prices: Prices | None = None  # with prices by country, each message at its country's price


@dataclass(slots=True)
class RowResult:
    """The verdict on one data row (``row`` is 1-based, header excluded)."""

    row: int
    index: int  # position in Table.rows
    status: str
    raw: str
    number: str | None = None
    reason: str | None = None
    detail: str = ""
    flags: tuple[str, ...] = ()
    text: str | None = None
    segments: int | None = None
    encoding: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    def as_json(self, with_message: bool) -> dict[str, Any]:
        item: dict[str, Any] = {"row": self.row, "status": self.status, "number": self.number}
        if self.reason:
            item["reason"] = self.reason
            item["detail"] = self.detail
        if self.flags:
            item["flags"] = list(self.flags)
        if with_message:
            item["segments"] = self.segments
            item["encoding"] = self.encoding
        return item


class _Totals:
    """Aggregates computed once (views ask for them often; a verdict never changes)."""

    __slots__ = ("n", "accepted", "rejected", "reasons", "segments")

    def __init__(self, items: list[RowResult]) -> None:
        self.n = len(items)
        self.accepted = [r for r in items if r.status == ACCEPTED]
        self.rejected = [r for r in items if r.status == REJECTED]
        self.reasons = Counter(r.reason for r in self.rejected if r.reason)
        self.segments = sum(r.segments or 0 for r in self.accepted)

    @classmethod
    def of(
        cls, n: int, accepted: list[RowResult], rejected: list[RowResult], reasons: Counter[str], segments: int
    ) -> _Totals:
        t = cls.__new__(cls)
        t.n, t.accepted, t.rejected, t.reasons, t.segments = n, accepted, rejected, reasons, segments
        return t


@dataclass(slots=True)
class Report:
    """Totals and per-row results of one validation."""

    items: list[RowResult]
    template: Template | None = None
    price_per_segment: float | None = None  # None: the account has no price (cost unknown, never 0)
    baseline_segments: int = 0
    prices: Prices | None = None
    by_flag: Counter[str] = field(default_factory=Counter)
    complete: bool = True
    _totals: _Totals | None = None

    @property
    def totals(self) -> _Totals:
        if self._totals is None or self._totals.n != len(self.items):
            self._totals = _Totals(self.items)
        return self._totals

    @property
    def rows(self) -> int:
        return len(self.items)

    @property
    def accepted_items(self) -> list[RowResult]:
        return self.totals.accepted

    @property
    def rejected_items(self) -> list[RowResult]:
        return self.totals.rejected

    @property
    def accepted(self) -> int:
        return len(self.totals.accepted)

    @property
    def rejected(self) -> int:
        return len(self.totals.rejected)

    @property
    def by_reason(self) -> dict[str, int]:
        return dict(self.totals.reasons.most_common())

    @property
    def total_segments(self) -> int:
        return self.totals.segments

    @property
    def cost(self) -> float | None:
        """Every accepted message's segments at the account's price (its country's, where the
        account has prices by country); None when no price is set."""
        if self.prices is not None and self.prices.by_country:
            total = self.prices.total((i.number or "", i.segments or 0) for i in self.accepted_items)
            return None if total is None else round(float(total), 4)
        if self.price_per_segment is None:
            return None
        return round(self.total_segments * self.price_per_segment, 4)

    def as_json(self) -> dict[str, Any]:
        with_message = self.template is not None
        out: dict[str, Any] = {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "by_reason": self.by_reason,
        }
        if self.by_flag:
            out["by_flag"] = dict(self.by_flag)
        if with_message:
            out["total_segments"] = self.total_segments
            out["estimated_cost"] = self.cost
        out["items"] = [r.as_json(with_message) for r in self.items]
        return out

    def rejects_csv(self, table: Table) -> str:
        """The rejected rows as CSV: the original columns, then ``row``, ``reason``, ``detail``."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow([*table.headers, "row", "reason", "detail"])
        for r in self.items:
            if r.status == REJECTED:
                w.writerow([*table.rows[r.index], r.row, REASONS.get(r.reason or "", r.reason), r.detail])
        return buf.getvalue()


def validate(
    table: Table,
    mapping: ColumnMapping,
    template: Template | None = None,
    ctx: ValidationContext | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    pool: Executor | None = None,
) -> Report:
    """Judge every row of ``table``. ``progress(done, total)`` is called now and then.

    A cancelled validation still accounts for every row: the rest are rejected ``cancelled``
    and ``Report.complete`` is False (the wizard does not let such a report be sent).
    ``pool``: worker processes to judge a big file's rows in (see :func:`validate_steps`).
    """
    steps = validate_steps(table, mapping, template, ctx, cancelled, pool=pool)
    with gc_paused():
        return _drain(steps, progress)


def _drain(steps: Generator[CheckStep, None, Report], progress: Callable[[int, int], None] | None) -> Report:
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            report: Report = stop.value
            return report
        if isinstance(step, Pending):
            wait((step.wait,))  # its outcome is read by the generator
            continue
        done, total = step
        if progress is not None and done % _PROGRESS_EVERY == 0:
            progress(done, total)


def validate_steps(
    table: Table,
    mapping: ColumnMapping,
    template: Template | None = None,
    ctx: ValidationContext | None = None,
    cancelled: Callable[[], bool] | None = None,
    every: int = 50,
    pool: Executor | None = None,
) -> Generator[CheckStep, None, Report]:
    """:func:`validate` as a generator: yields ``(done, total)`` every ``every`` rows, returns the report.

    The GUI runs it on its own loop in slices of a few milliseconds (no thread: a worker
    thread holding the GIL makes every model ``data()`` call of a repaint wait for it).

    With ``pool`` (worker processes, :mod:`smsdesk.services.cpu_pool`) and at least
    :data:`POOL_MIN_ROWS` rows, the rows are judged there a chunk at a time (``judge.py``) and
    only the in-order pass runs here; while the next chunk is not back, a :class:`Pending` is
    yielded. A chunk the pool could not judge (a worker died) is judged here instead.
    """
    ctx = ctx or ValidationContext()
    rules = RowRules.of(mapping.phone, mapping.country or None, template, mapping.fields, mapping.first_word)
    phone_col, region = rules.phone_col, rules.region
    message: Message | None = None
    fixed = fixed_message(rules)
    total = len(table.rows)
    items: list[RowResult] = []
    first_seen: dict[str, int] = {}
    flags_count: Counter[str] = Counter()
    append = items.append
    complete = True
    pieces = PooledJudging(pool, table, rules) if pool is not None and total >= POOL_MIN_ROWS else None
    if pieces is not None and not (yield from pieces.start()):
        pieces = None
    judged: list[Judged] | None = None
    for index, (row, rowno) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        if index % every == 0 and index:
            yield index, total
            if cancelled is not None and index % _PROGRESS_EVERY == 0 and cancelled():
                complete = False
                for j in range(index, total):
                    append(
                        RowResult(table.row_numbers[j], j, REJECTED, "", None, "cancelled", "Validation was cancelled.")
                    )
                break
        raw = row[phone_col] if phone_col is not None and phone_col < len(row) else ""
        if pieces is not None:
            if index % CHUNK == 0:
                judged = yield from pieces.take(index, total)
            assert judged is not None
            e164, mobile, code, detail, repair, message = judged[index % CHUNK]
        else:  # judged here, the message only for a row that gets that far
            e164, mobile, code, detail, repair = check_number(raw, region)
        if e164 is None:
            append(RowResult(rowno, index, REJECTED, raw, None, code, detail))
            continue
        number = e164
        why: tuple[str, str] | None = None  # the first reason that rejects the row: code, sentence
        if mobile is False and ctx.require_mobile:
            why = "not_mobile", f"{number} is not a mobile number; text messages to it will not arrive."
        elif (prev := first_seen.get(number)) is not None:
            why = "duplicate", f"Same number as row {prev}."
        else:
            first_seen[number] = rowno
            if number in ctx.optouts:
                how = ctx.optout_how.get(number, "on the opt-out list")
                why = "opted_out", f"{number} opted out ({how}); sending to it is blocked."
            elif number in ctx.contacts and ctx.contact_policy == "skip":
                why = "existing_contact", f"{number} is already a contact (skipped, as chosen)."
        text = segments = encoding = None
        if why is None and template is not None:
            if pieces is None:
                message = row_message(row, rules, fixed)
            assert message is not None
            text, segments, encoding, missing = message
            if missing:
                why = "empty_merge_field", f"The message uses {missing} but this row has no value there."
        if why is not None:
            append(RowResult(rowno, index, REJECTED, raw, number, *why))
            continue
        flags = [repair] if repair else []
        if number in ctx.contacts:
            flags.append("existing_contact")
        for f in flags:
            flags_count[f] += 1
        append(RowResult(rowno, index, ACCEPTED, raw, number, None, "", tuple(flags), text, segments, encoding))
    if pieces is not None:
        pieces.cancel()  # the rest of a cancelled validation
    yield total, total
    report = Report(items, template, ctx.price_per_segment, by_flag=flags_count, complete=complete, prices=ctx.prices)
    # The totals views ask for, in the same slices (one pass over 100,000 rows is ~30 ms).
    accepted: list[RowResult] = []
    rejected: list[RowResult] = []
    reasons: Counter[str] = Counter()
    parts: Counter[int] = Counter()
    for i, r in enumerate(items):
        if i % (every * 20) == 0:
            yield total, total
        if r.status == ACCEPTED:
            accepted.append(r)
            parts[r.segments or 0] += 1
        else:
            rejected.append(r)
            reasons[r.reason or ""] += 1
    report._totals = _Totals.of(len(items), accepted, rejected, reasons, sum(k * v for k, v in parts.items()))
    if template is not None and rules.personal and accepted:
        report.baseline_segments = parts.most_common(1)[0][0]
        yield from _flag_message_growth(report, template, every * 20)
    return report


def _flag_message_growth(report: Report, template: Template, every: int) -> Iterator[tuple[int, int]]:
    """Flag rows whose merge values force UCS-2 or push the message past the usual part count."""
    accepted = report.accepted_items
    base_encoding = analyze(template.literal_text).encoding
    baseline = report.baseline_segments
    for i, r in enumerate(accepted):
        if i % every == 0:
            yield report.rows, report.rows
        extra: list[str] = []
        if r.encoding == UCS2 and base_encoding == GSM7:
            extra.append("ucs2")
        if (r.segments or 0) > baseline:
            extra.append("extra_segment")
        if extra:
            r.flags = r.flags + tuple(extra)
            for f in extra:
                report.by_flag[f] += 1


def flag_text(flags: Iterable[str]) -> str:
    return "; ".join(FLAG_LABELS.get(f, f) for f in flags)
