"""Reports at scale: the 1,000,000-message database of ``conversations_scale``, with prices.

``python bench/run.py reports_scale [--home DIR] [--source DIR] [--runs N] [--regen]``

Prepares (once; reused while the source database is unchanged) a copy of the
``conversations_scale`` database with migration 13 applied, a price per part on every
outgoing message and one 20,000-recipient bulk run. Then, with the real Reports page
offscreen in this process, reports as JSON:

- ``page_30d_*_ms`` / ``page_all_*_ms``: choosing the period until the figures, the four
  charts and the sends list are filled and painted (target <= 500 ms);
- ``service_30d_*_ms`` / ``service_all_*_ms``: the same report built without the page;
- ``send_detail_*_ms``: the per-send view of the 20,000-recipient run, read and shown (<= 300 ms);
- ``csv_rows_per_s``: a CSV export of every message, median of 3 (>= 200,000 rows/s); ``xlsx_rows_per_s``
  for 100,000 of them (national formatting, once per distinct number);
- ``migrate_s``: migration 13 over the million messages (once, when preparing).

``*_first_*`` is the first run; the others are medians of the following runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RUN_SIZE = 20_000
TARGETS = {
    "page_30d_median_ms": 500,
    "page_all_median_ms": 500,
    "send_detail_median_ms": 300,
    "csv_rows_per_s": 200_000,
}


def _prepare(source: Path, home: Path, regen: bool) -> dict[str, Any]:
    """A priced copy of the conversations database with one big bulk run (cached)."""
    marker = home / "bench-params.json"
    src_db = source / "smsdesk.sqlite3"
    params = {"source_size": src_db.stat().st_size, "source_mtime": int(src_db.stat().st_mtime), "run": RUN_SIZE}
    if not regen and marker.exists() and json.loads(marker.read_text()).get("params") == params:
        return dict(json.loads(marker.read_text())["facts"])
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    shutil.copy(src_db, home / "smsdesk.sqlite3")
    for name in ("settings.toml",):
        if (source / name).exists():
            shutil.copy(source / name, home / name)
    from smsdesk.domain.status import Status
    from smsdesk.storage import messages as msg_store
    from smsdesk.storage.db import Database
    from smsdesk.storage.records import NewOutgoing

    t = time.perf_counter()
    db = Database(home / "smsdesk.sqlite3")  # migrations up to the newest
    facts: dict[str, Any] = {"migrate_s": round(time.perf_counter() - t, 2)}
    account = int(db.query_one("SELECT id FROM accounts ORDER BY id")[0])  # type: ignore[index]
    t = time.perf_counter()
    db.write_sync(
        lambda c: c.execute("UPDATE messages SET price_per_part = '0.04', currency = 'GBP' WHERE direction = 'out'"),
        timeout=None,
    )
    facts["price_all_s"] = round(time.perf_counter() - t, 2)
    now = db.query_one("SELECT max(created_at) FROM messages")[0]  # type: ignore[index]

    def big_run(c: Any) -> None:
        run = c.execute(
            """INSERT INTO bulk_runs (account_id, source, template, state, created_at, updated_at)
               VALUES (?, 'everyone.csv', 'Hi {{name}}', 'done', ?, ?)""",
            (account, now, now),
        ).lastrowid
        items = [
            NewOutgoing(account, f"+44791{i:07d}", "", f"Hi P{i}", 1, "GSM-7", Status.QUEUED, run_id=run)
            for i in range(RUN_SIZE)
        ]
        ids = msg_store.insert_outgoing(c, items)
        c.executemany(
            """INSERT INTO bulk_run_items (run_id, row_no, status, number, name, message_id)
               VALUES (?, ?, 'accepted', ?, ?, ?)""",
            [(run, i, items[i].remote, f"P{i}", mid) for i, mid in enumerate(ids)],
        )
        c.executemany(
            "UPDATE messages SET status = ?, error = ? WHERE id = ?",
            [("failed" if i % 40 == 0 else "delivered", "Number not in service" if i % 40 == 0 else "", mid)
             for i, mid in enumerate(ids)],
        )  # fmt: skip

    db.write_sync(big_run, timeout=None)
    db.close()
    marker.write_text(json.dumps({"params": params, "facts": facts}))
    return facts


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 1)


def main(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="reports_scale")
    p.add_argument("--source", default=str(Path(tempfile.gettempdir()) / "smsdesk-bench-conv"))
    p.add_argument("--home", default=str(Path(tempfile.gettempdir()) / "smsdesk-bench-reports"))
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--regen", action="store_true")
    args = p.parse_args(argv)
    source = Path(args.source)
    if not (source / "smsdesk.sqlite3").exists():
        sys.path.insert(0, str(HERE))
        from _gen_conversations import generate

        generate(source, 1_000_000, 50_000, 10_000)
        (source / "bench-params.json").write_text(
            json.dumps({"messages": 1_000_000, "conversations": 50_000, "big": 10_000})
        )
    out: dict[str, Any] = _prepare(source, Path(args.home), args.regen)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from smsdesk.app import build_window, gui_thread_first
    from smsdesk.runtime import Runtime
    from smsdesk.services.report_export import export_log
    from smsdesk.services.reports import LogFilter, PeriodKind, period
    from smsdesk.ui import aio
    from smsdesk.ui.views.reports.view import ReportsView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    gc_policy = gui_thread_first(app)  # as smsdesk-gui runs: garbage collected on the GUI thread only
    rt = Runtime.open(args.home)
    loop = aio.create_loop(app)  # type: ignore[arg-type]
    window, _ctx = build_window(rt)
    window.resize(1280, 860)
    window.show()
    view = window.show_page("reports")
    assert isinstance(view, ReportsView)
    svc = rt.reports
    today = svc.today()

    def page_ms(kind: PeriodKind) -> float:
        """Choose the period as a person does, until the page is filled and painted."""
        shown = view.report
        t = time.perf_counter()
        view.period.setCurrentIndex(view.period.findData(kind.value))
        if view.period.currentData() == kind.value and shown is not None and shown.period.kind is kind:
            view.reload()
        while view.report is shown or view.report is None or view.report.period.kind is not kind:
            loop.run_until_complete(_tick())
        view.repaint()
        return (time.perf_counter() - t) * 1000

    async def _tick() -> None:
        import asyncio

        await asyncio.sleep(0.001)

    with tempfile.TemporaryDirectory() as tmp:  # first, as someone who opens the window to export
        rates = []
        for _ in range(3):  # on a worker thread, as the page runs it, with the window's loop going
            t = time.perf_counter()
            n = loop.run_until_complete(asyncio.to_thread(export_log, svc, LogFilter(), Path(tmp) / "all.csv"))
            rates.append(n / (time.perf_counter() - t))
        out["csv_rows"] = n
        out["csv_rows_per_s"] = round(statistics.median(rates))
        out["csv_rows_per_s_runs"] = [round(r) for r in rates]

    for kind, key in ((PeriodKind.DAYS_30, "30d"), (PeriodKind.ALL, "all")):
        times = []
        for _ in range(args.runs):
            times.append(page_ms(kind))
            other = PeriodKind.TODAY
            page_ms(other)
        out[f"page_{key}_first_ms"] = round(times[0], 1)
        out[f"page_{key}_median_ms"] = _median(times[1:])
        st = []
        for _ in range(args.runs):
            t = time.perf_counter()
            svc.build(period(kind, today))
            st.append((time.perf_counter() - t) * 1000)
        out[f"service_{key}_median_ms"] = _median(st)
    assert view.report is not None

    all_time = svc.build(period(PeriodKind.ALL, today))
    [big] = [s for s in all_time.sends if s.recipients == RUN_SIZE]
    details = []
    for _ in range(args.runs):
        t = time.perf_counter()
        detail = svc.send_detail(big.source, big.run_id)
        assert detail is not None
        view._show_send(detail, "all")
        dialog = view._dialogs[-1]
        dialog.repaint()
        details.append((time.perf_counter() - t) * 1000)
        dialog.close()
        loop.run_until_complete(_tick())
    out["send_detail_first_ms"] = round(details[0], 1)
    out["send_detail_median_ms"] = _median(details[1:])
    out["send_detail_rows"] = RUN_SIZE

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()  # once more, after the page and the big send's detail were opened many times
        n = loop.run_until_complete(asyncio.to_thread(export_log, svc, LogFilter(), Path(tmp) / "all.csv"))
        out["csv_rows_per_s_after_page_work"] = round(n / (time.perf_counter() - t))
        start = rt.reports.bounds(period(PeriodKind.ALL, today))[0]
        first_ids = LogFilter(start=start, end="2024-03-01")  # about 100,000 of the oldest
        t = time.perf_counter()
        n = loop.run_until_complete(
            asyncio.to_thread(export_log, svc, first_ids, Path(tmp) / "some.xlsx", zone=svc.zone(), region="GB")
        )
        out["xlsx_rows"] = n
        out["xlsx_rows_per_s"] = round(n / (time.perf_counter() - t))
    window.close()
    rt.close()
    gc_policy.stop()
    out["targets"] = TARGETS
    return out
