"""Soak the real qasync event loop with tens of thousands of signals and timer callbacks.

PySide6 6.12.0 on Python 3.11 drops a reference to ``True`` /
``None`` on every ``Signal.emit()`` of a bool and every ``QTimer.singleShot(callable)``; after
a few thousand events the process aborts (``Fatal Python error: bool_dealloc``). Short test
runs pass anyway, so this test drives the same paths the app uses (direct and queued
signal connections carrying bools, including emits from a worker thread as the webhook
receiver's bridge does, zero-delay single-shot timers, and asyncio tasks interleaved on the
qasync loop) far past that point.

The soak runs in a child process: if the bug is back, the abort kills the child, and this
test reports it by name instead of the whole pytest run dying without a summary. The child
also compares the reference counts of ``True`` and ``None`` before and after, which catches
the leak even when the count did not reach zero (on 3.12+ they are immortal and constant).

Run it by hand with ``python tests/gui/test_soak.py [N]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

N_EVENTS = 30_000  # of each kind: direct emits, queued emits, single-shot timers
N_TASKS = 600  # asyncio tasks, each also emitting and awaiting in between
N_THREAD_EMITS = 5_000  # bools emitted from a worker thread (queued to the GUI thread)
DELIVERY_WAIT_S = 60.0  # after the last emit, for the queue to drain
CHILD_TIMEOUT_S = 120  # generous for a loaded 2-core CI box; a healthy run takes a few seconds


def soak(n: int = N_EVENTS) -> dict[str, int | float]:
    """Drive the qasync loop through ``n`` events of each kind; return what was delivered."""
    # PySide6 before qasync: qasync binds to whichever Qt binding is imported first.
    from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
    from PySide6.QtWidgets import QApplication

    import qasync  # isort: skip
    import asyncio

    class Source(QObject):
        sig_toggled = Signal(bool)
        sig_worker_toggled = Signal(bool)

    class Sink(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.direct = [0, 0]  # [False count, True count]
            self.queued = [0, 0]
            self.worker = [0, 0]
            self.worker_wrong_thread = 0

        @Slot(bool)
        def on_direct(self, flag: bool) -> None:
            self.direct[flag is True] += 1

        @Slot(bool)
        def on_queued(self, flag: bool) -> None:
            self.queued[flag is True] += 1

        @Slot(bool)
        def on_worker(self, flag: bool) -> None:
            if threading.current_thread() is not threading.main_thread():
                self.worker_wrong_thread += 1
            self.worker[flag is True] += 1

    app = QApplication.instance() or QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    source, sink = Source(), Sink()
    source.sig_toggled.connect(sink.on_direct)
    source.sig_toggled.connect(sink.on_queued, Qt.ConnectionType.QueuedConnection)
    source.sig_worker_toggled.connect(sink.on_worker, Qt.ConnectionType.QueuedConnection)
    fired = {"timer": 0, "task": 0, "call_soon": 0}

    def on_timer() -> None:
        fired["timer"] += 1

    def on_call_soon() -> None:
        fired["call_soon"] += 1

    async def task_body(i: int) -> None:
        await asyncio.sleep(0)
        source.sig_toggled.emit(i % 2 == 0)
        QTimer.singleShot(0, on_timer)
        await asyncio.sleep(0.001)
        fired["task"] += 1

    def worker() -> None:
        for i in range(N_THREAD_EMITS):
            source.sig_worker_toggled.emit(i % 2 == 1)

    async def until(predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not delivered within {DELIVERY_WAIT_S} s: {fired}")
            await asyncio.sleep(0.01)

    async def main() -> None:
        thread = threading.Thread(target=worker, name="soak-worker")
        thread.start()
        tasks = []
        per_task = max(1, n // N_TASKS)
        for i in range(n):
            source.sig_toggled.emit(i % 2 == 0)
            QTimer.singleShot(0, on_timer)
            if i % per_task == 0 and len(tasks) < N_TASKS:
                tasks.append(asyncio.ensure_future(task_body(len(tasks))))
                loop.call_soon(on_call_soon)
            if i % 200 == 0:
                await asyncio.sleep(0)  # let Qt and asyncio interleave while the queue is deep
        await asyncio.gather(*tasks)
        await asyncio.to_thread(thread.join)
        total = n + len(tasks)
        await until(lambda: fired["timer"] >= total, "single-shot timers")
        await until(lambda: sum(sink.queued) >= total, "queued bool signals")
        await until(lambda: sum(sink.worker) >= N_THREAD_EMITS, "bool signals from a thread")

    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    started = time.monotonic()
    with loop:
        loop.run_until_complete(main())
    asyncio.set_event_loop(None)
    return {
        "n": n,
        "tasks": fired["task"],
        "call_soon": fired["call_soon"],
        "timers": fired["timer"],
        "direct_false": sink.direct[0],
        "direct_true": sink.direct[1],
        "queued_false": sink.queued[0],
        "queued_true": sink.queued[1],
        "worker_false": sink.worker[0],
        "worker_true": sink.worker[1],
        "worker_wrong_thread": sink.worker_wrong_thread,
        "true_refs_lost": true_before - sys.getrefcount(True),
        "none_refs_lost": none_before - sys.getrefcount(None),
        "seconds": round(time.monotonic() - started, 2),
    }


@pytest.mark.soak
def test_event_loop_survives_tens_of_thousands_of_signals_and_timers(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.run(
        [sys.executable, __file__, str(N_EVENTS)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    if proc.returncode != 0:
        import PySide6

        pytest.fail(
            f"the soak process died (exit {proc.returncode}) on Python "
            f"{sys.version.split()[0]} with PySide6 {PySide6.__version__}. An abort with "
            "'bool_dealloc' or 'none_dealloc' is PySide6 6.12's reference leak on Python 3.11 "
            f"(6.8.3-6.11.3 are clean): pin PySide6 below 6.12 for Python 3.11.\nstderr (tail):\n{proc.stderr[-3000:]}"
        )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    n, tasks = result["n"], result["tasks"]
    assert tasks == N_TASKS and result["call_soon"] == N_TASKS
    assert result["timers"] == n + tasks
    # Every bool arrived, and arrived as the value that was sent.
    half = n // 2 + tasks // 2
    assert (result["direct_true"], result["direct_false"]) == (half, n + tasks - half)
    assert (result["queued_true"], result["queued_false"]) == (half, n + tasks - half)
    assert (result["worker_true"], result["worker_false"]) == (
        N_THREAD_EMITS // 2,
        N_THREAD_EMITS - N_THREAD_EMITS // 2,
    )
    assert result["worker_wrong_thread"] == 0, "queued slots must run on the GUI thread"
    # A few references may move with ordinary objects; the bug loses one per event.
    assert result["true_refs_lost"] < 1_000, f"True is leaking references: {result}"
    assert result["none_refs_lost"] < 1_000, f"None is leaking references: {result}"


if __name__ == "__main__":
    print(json.dumps(soak(int(sys.argv[1]) if len(sys.argv) > 1 else N_EVENTS)), flush=True)
