"""A big file's rows judged in worker processes give the very report judging them here gives.

Real spawned processes (:class:`CpuPool`), a 25,000-row file with every reason a row is
rejected for (bad and mangled numbers, landlines, duplicates across chunk borders, opt-outs,
saved contacts, empty merge fields) and flags (repairs, UCS-2, an extra part).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from smsdesk.domain.template import compile_template
from smsdesk.services.cpu_pool import CpuPool
from smsdesk.services.imports.mapping import ColumnMapping
from smsdesk.services.imports.pooled import Pending
from smsdesk.services.imports.readers import Table
from smsdesk.services.imports.validate import (
    POOL_MIN_ROWS,
    Report,
    ValidationContext,
    validate,
    validate_steps,
)

ROWS = 25_000
TEMPLATE = compile_template("Hi {{first_name}}, your visit to {{town|us}} is due {{due}}.")


def _table() -> Table:
    rng = random.Random(7)
    rows: list[list[str]] = []
    for i in range(ROWS):
        r = rng.random()
        if r < 0.03 and rows:
            number = rng.choice(rows)[1]  # a duplicate, often in another chunk
        elif r < 0.04:
            number = rng.choice(["", "n/a", "12345"])
        elif r < 0.05:
            number = f"020 7946 {i % 10_000:04d}"  # a landline
        elif r < 0.06:
            number = f"7911 1{i % 100_000:05d}"  # lost its leading zero
        else:
            number = f"07911 1{i % 100_000:05d}" if i < 100_000 else ""
        name = rng.choice(["Amy", "Ben Hall", "Zoë", "", "Łukasz"])
        long_due = "next Tuesday at ten in the morning, please bring your card and arrive early " * (r > 0.98)
        rows.append([name, number, rng.choice(["Leeds", ""]), long_due or "Mon"])
    return Table(["First Name", "Mobile", "Town", "Due"], rows, list(range(1, ROWS + 1)))


def _mapping() -> ColumnMapping:
    return ColumnMapping(1, {"first_name": 0, "mobile": 1, "town": 2, "due": 3}, "GB", {"first_name"})


def _context() -> ValidationContext:
    return ValidationContext(
        optouts=frozenset({"+447911100017", "+447911104242"}),
        contacts=frozenset({"+447911100020", "+447911112345"}),
        optout_how={"+447911100017": "replied STOP on 3 Nov 2026"},
    )


def _verdicts(report: Report) -> list[tuple[object, ...]]:
    return [
        (i.row, i.index, i.status, i.raw, i.number, i.reason, i.detail, i.flags, i.text, i.segments, i.encoding)
        for i in report.items
    ]


@pytest.fixture(scope="module")
def cpu() -> Iterator[CpuPool]:
    pool = CpuPool(workers=1)
    try:
        yield pool
    finally:
        pool.close()


def test_worker_processes_judge_a_big_file_exactly_as_the_window_would(cpu: CpuPool) -> None:
    table, mapping = _table(), _mapping()
    here = validate(table, mapping, TEMPLATE, _context())
    steps = validate_steps(table, mapping, TEMPLATE, _context(), pool=cpu.executor())
    waited = 0
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            there: Report = stop.value
            break
        if isinstance(step, Pending):
            waited += 1
            step.wait.result(timeout=120)
    assert waited >= 1  # the rows really went to the worker (the first chunk is not back at once)
    assert _verdicts(there) == _verdicts(here)
    assert (there.accepted, there.rejected, there.by_reason, dict(there.by_flag)) == (
        here.accepted,
        here.rejected,
        here.by_reason,
        dict(here.by_flag),
    )
    reasons = set(here.by_reason)
    assert {"duplicate", "opted_out", "invalid_number", "not_mobile", "empty_merge_field"} <= reasons
    assert {"lost_leading_zero", "existing_contact", "ucs2", "extra_segment"} <= set(here.by_flag)


def test_a_pool_that_cannot_take_work_leaves_the_rows_to_be_judged_here(expect_warnings: list[bool]) -> None:
    table, mapping = _table(), _mapping()
    closed = ProcessPoolExecutor(max_workers=1)
    closed.shutdown()
    report = validate(table, mapping, TEMPLATE, _context(), pool=closed)
    assert report.rows == ROWS and report.complete
    assert _verdicts(report) == _verdicts(validate(table, mapping, TEMPLATE, _context()))


def test_a_small_file_is_judged_here_without_waiting_for_a_process(cpu: CpuPool) -> None:
    table = _table()
    small = Table(table.headers, table.rows[: POOL_MIN_ROWS - 1], table.row_numbers[: POOL_MIN_ROWS - 1])
    steps = validate_steps(small, _mapping(), TEMPLATE, _context(), pool=cpu.executor())
    assert not any(isinstance(step, Pending) for step in steps)
