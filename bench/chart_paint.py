"""Chart painting cost: how long the Reports page's charts take to draw, offscreen.

    python bench/run.py chart_paint [--runs 30]

Paints into a QImage (what the screen's backing store and a PDF export do) and reports the
median of ``--runs`` paints, in milliseconds:

- ``stacked_90d_ms``: 90 days of delivered / failed / pending stacked bars at 1200 x 400,
  layout included (a resize or new data);
- ``stacked_90d_repaint_ms``: the same with the layout kept (a hover or focus repaint);
- ``line_90d_ms``: two 90-day lines with markers off (dense) at 1200 x 400;
- ``hours_24_ms``: the 24-hour bar chart at 1200 x 300;
- ``stacked_90d_300dpi_ms``: the 90-day chart at A4 width and 300 DPI (2480 x 1000), as the
  PDF export would draw it.

``import_ms`` is the extra start-up cost of ``import smsdesk.ui.charts`` once PySide6's
QtWidgets is loaded (``python -X importtime``, cumulative), i.e. what opening a page with
charts adds.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: font caches, first glyphs
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 2)


def import_ms() -> float | None:
    """Cumulative import time of smsdesk.ui.charts with QtWidgets already imported."""
    code = "import PySide6.QtWidgets, PySide6.QtGui; import smsdesk.ui.charts"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    values = [
        int(m.group(1))
        for line in proc.stderr.splitlines()
        if (m := re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*smsdesk\.ui\.charts$", line))
    ]
    return round(values[-1] / 1000, 2) if values else None


def main(argv: list[str]) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="chart_paint")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from smsdesk.ui.charts import Chart, ChartKind, Tone, by_day, by_hour
    from smsdesk.ui.theme import build_palette

    app = QApplication.instance() or QApplication(sys.argv[:1])
    palette = build_palette("light")
    days = [date(2026, 3, 1) + timedelta(d) for d in range(90)]
    messages = by_day(
        days,
        {
            "Delivered": [40 + (d * 37) % 120 for d in range(90)],
            "Failed": [(d * 7) % 11 for d in range(90)],
            "Pending": [0] * 88 + [14, 30],
        },
        tones={"Delivered": Tone.POSITIVE, "Failed": Tone.NEGATIVE, "Pending": Tone.PENDING},
        stacked=True,
    )
    replies = by_day(
        days,
        {
            "Replies": [(d * 13) % 25 for d in range(90)],
            "Answered": [(d * 5) % 19 for d in range(90)],
        },
    )
    hours = by_hour({"Replies": [max(0, 30 - abs(h - 13) * 3) for h in range(24)]})

    def painter_for(image: QImage, chart: Chart, keep_layout: bool = False) -> Callable[[], object]:
        rect = QRectF(0, 0, image.width(), image.height())
        probe = QPainter(image)
        geo = chart.paint(probe, rect, palette)
        probe.end()

        def paint() -> None:
            painter = QPainter(image)
            chart.paint(painter, rect, palette, geometry=geo if keep_layout else None)
            painter.end()

        return paint

    def image(width: int, height: int, dpi: int = 96) -> QImage:
        img = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        img.setDotsPerMeterX(round(dpi / 0.0254))
        img.setDotsPerMeterY(round(dpi / 0.0254))
        return img

    stacked = Chart(messages)
    result = {
        "stacked_90d_ms": _median_ms(painter_for(image(1200, 400), stacked), args.runs),
        "stacked_90d_repaint_ms": _median_ms(painter_for(image(1200, 400), stacked, keep_layout=True), args.runs),
        "line_90d_ms": _median_ms(painter_for(image(1200, 400), Chart(replies, ChartKind.LINE)), args.runs),
        "hours_24_ms": _median_ms(painter_for(image(1200, 300), Chart(hours)), args.runs),
        "stacked_90d_300dpi_ms": _median_ms(painter_for(image(2480, 1000, 300), stacked), max(5, args.runs // 3)),
        "runs": args.runs,
        "import_ms": import_ms(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    del app
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(main(sys.argv[1:]), sort_keys=True))
