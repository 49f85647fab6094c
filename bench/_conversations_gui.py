"""Child process of ``conversations_scale``: the real GUI, offscreen, over a big database.

``python bench/_conversations_gui.py HOME T0`` where T0 is the parent's ``time.time()`` just
before it started this process (so interpreter start and imports count). Builds the window
as ``smsdesk-gui --home HOME --no-demo`` does, shows the Conversations page, and reports as
one JSON line: time to the list being populated and painted, opening the big thread, a
search for a common word, and peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time

T0 = float(sys.argv[2])
HOME = sys.argv[1]

T_START = time.time()  # interpreter up
from PySide6.QtWidgets import QApplication  # noqa: E402 - timing starts before imports

from smsdesk.app import build_window  # noqa: E402
from smsdesk.runtime import Runtime  # noqa: E402
from smsdesk.ui import aio  # noqa: E402

BIG_NUMBER = "+447911000000"
COMMON_WORD = "thanks"


def median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2]


def main() -> None:
    phases: dict[str, float] = {"interpreter_s": T_START - T0, "imports_s": time.time() - T_START}
    t = time.time()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    rt = Runtime.open(HOME)
    loop = aio.create_loop(app)
    phases["qapp_and_db_open_s"] = time.time() - t
    t = time.time()
    window, _ctx = build_window(rt)
    phases["main_window_s"] = time.time() - t
    t = time.time()
    page = window.show_page("conversations")
    window.resize(1200, 760)
    window.show()
    phases["conversations_page_s"] = time.time() - t
    out: dict[str, float] = {k: round(v, 3) for k, v in phases.items()}

    async def measure() -> None:
        import asyncio

        # Polling the GUI as a person would see it (there is no event for "list shown").
        while not (page.list_model.rowCount() > 0 and page.list.isVisible()):  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        page.list.viewport().repaint()  # painted, not just populated
        out["start_to_list_s"] = round(time.time() - T0, 3)
        out["list_rows_loaded"] = page.list_model.rowCount()
        await rt.start(sandbox=False)
        account = rt.accounts.by_name("Sandbox")
        conv = rt.conversations.find(account.id, BIG_NUMBER)
        assert conv is not None
        other = page.list_model.conversation_at(0)
        assert other is not None
        opens = []
        for _ in range(6):
            page.open_conversation(other.id)
            await asyncio.sleep(0.02)  # let mark-read etc. run; never processEvents in a coroutine
            t = time.perf_counter()
            page.open_conversation(conv.id)
            page.thread_view.viewport().repaint()
            opens.append((time.perf_counter() - t) * 1000)
        out["open_big_thread_first_ms"] = round(opens[0], 1)
        out["open_big_thread_median_ms"] = round(median(opens[1:]), 1)
        out["big_thread_rows_loaded"] = page.thread_view.thread_model.rowCount()
        t = time.perf_counter()
        page.thread_view.load_older()
        out["load_older_page_ms"] = round((time.perf_counter() - t) * 1000, 1)
        searches = []
        hits = 0
        for _ in range(6):
            t = time.perf_counter()
            hits = len(rt.conversations.search(COMMON_WORD))
            searches.append((time.perf_counter() - t) * 1000)
        out["search_common_word_first_ms"] = round(searches[0], 1)
        out["search_common_word_median_ms"] = round(median(searches[1:]), 1)
        out["search_hits"] = hits
        t = time.perf_counter()
        page.search.setText(COMMON_WORD)
        page.run_search()
        page.results.viewport().repaint()
        out["search_in_gui_ms"] = round((time.perf_counter() - t) * 1000, 1)
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        await rt.stop()

    try:
        with loop:
            loop.run_until_complete(measure())
    finally:
        rt.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
