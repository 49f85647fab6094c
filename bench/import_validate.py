"""Bulk import: read, map and validate a generated 100,000-row CSV.

Prints ``seconds`` (smsdesk: read + guess mapping + validate every row; target <= 3 s) and
``cpu_seconds`` (its CPU time, which machine load does not inflate),
``naive_seconds`` (``csv.reader`` + ``phonenumbers`` parse / is_valid / format per row, the
loop one would write first, run in this same process) and ``ratio`` = naive / smsdesk.
``with_template_seconds`` adds a personalised template (render, segments, flags per row).

The list looks like a real export: UK mobiles in the shapes people type them, some foreign
numbers, ~2% duplicates, ~1% junk, some landlines and Excel damage.
Options: ``--rows N`` (default 100000), ``--seed S``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import phonenumbers

from smsdesk.domain import phone
from smsdesk.domain.template import compile_template
from smsdesk.services.imports import numbers
from smsdesk.services.imports.mapping import guess
from smsdesk.services.imports.readers import read_file
from smsdesk.services.imports.validate import ValidationContext, validate

FIRST = ["Amy", "Ben", "Chloé", "Dev", "Eve", "Finn", "Gita", "Hugo", "Isla", "Jack", "Kai", "Lena", "Mo", "Nia"]
UK_PREFIX = ["074", "075", "077", "078", "079"]
CPU: list[float] = []


def _uk(rng: random.Random) -> str:
    return rng.choice(UK_PREFIX) + f"{rng.randrange(10**8):08d}"


def _shape(rng: random.Random, national: str) -> str:
    r = rng.random()
    if r < 0.45:
        return f"{national[:5]} {national[5:]}"
    if r < 0.65:
        return f"+44 {national[1:5]} {national[5:]}"
    if r < 0.8:
        return "44" + national[1:]
    if r < 0.9:
        return f"({national[:5]}) {national[5:8]}-{national[8:]}"
    return national


def generate(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    written: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["First Name", "Mobile Phone", "City", "Due"])
        for _ in range(rows):
            r = rng.random()
            if r < 0.02 and written:
                cell = rng.choice(written)  # duplicate
            elif r < 0.025:
                cell = rng.choice(["", "n/a", "12345", "tbc"])
            elif r < 0.03:
                cell = f"020 7946 {rng.randrange(10**4):04d}"  # landline
            elif r < 0.033:
                cell = _uk(rng)[1:]  # lost leading zero
            elif r < 0.035:
                cell = f"4.47{rng.randrange(100, 999)}E+11"  # Excel rounded it
            elif r < 0.06:
                cell = (
                    rng.choice(["+49 151 ", "+33 6 ", "+1 415 555 "])
                    + f"{rng.randrange(10**4, 10**5)}{rng.randrange(10, 99)}"
                )
            else:
                cell = _shape(rng, _uk(rng))
            written.append(cell)
            w.writerow([rng.choice(FIRST), cell, rng.choice(["Leeds", "York", "Bath"]), f"{rng.randrange(1, 28)} Dec"])


def smsdesk_pass(path: Path, template: str | None = None) -> tuple[float, Any]:
    numbers.clear_cache()
    phone._parse_cached.cache_clear()
    t0, c0 = time.perf_counter(), time.process_time()
    table = read_file(path)
    mapping = guess(table, "GB")
    report = validate(table, mapping, compile_template(template) if template else None, ValidationContext())
    CPU.append(time.process_time() - c0)
    return time.perf_counter() - t0, report


def naive_pass(path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    ok = 0
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            try:
                n = phonenumbers.parse(row[1], "GB")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(n):
                phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
                ok += 1
    return time.perf_counter() - t0, ok


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="import_validate")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.csv"
        generate(path, args.rows, args.seed)
        seconds, report = smsdesk_pass(path)
        templ_seconds, templ_report = smsdesk_pass(path, "Hi {{first_name|there}}, your {{city}} order is due {{due}}.")
        naive_seconds, naive_ok = naive_pass(path)
    assert report.rows == report.accepted + report.rejected == args.rows
    return {
        "rows": report.rows,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "by_reason": report.by_reason,
        "seconds": round(seconds, 3),
        "with_template_seconds": round(templ_seconds, 3),
        "naive_seconds": round(naive_seconds, 3),
        "naive_valid": naive_ok,
        "ratio": round(naive_seconds / seconds, 2),
        # CPU time of the smsdesk pass and the machine's load: on 2 shared cores, wall time
        # also counts the time other processes had the CPU.
        "cpu_seconds": round(CPU[0], 3),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "target_seconds": 3.0,
    }
