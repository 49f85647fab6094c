"""Worker processes for CPU-heavy work the window would otherwise feel.

Python runs one thread at a time (the GIL). Work done in a thread still takes turns with the
GUI thread, and every Python call Qt makes during a repaint waits for its turn; work done
on the GUI loop in slices spreads the cost but still spends the GUI thread's time. Worker
processes have their own interpreter: the GUI thread only hands rows over and takes the
answers back, a chunk at a time (unpickling 100,000 results at once would be a stall of its
own).

Rules this pool keeps:

- **Spawned, never forked.** smsdesk runs threads (the database writer, the receiver, Qt's),
  and a forked child inherits their locks in whatever state they were.
- **Started after the first paint**, once the services are up (``smsdesk-gui`` calls
  :meth:`CpuPool.warm` then): starting a process and loading ``phonenumbers`` in it takes a
  few hundred milliseconds of another core, and doing that when a big file has just been
  read, while its pages are being filled, made the window's longest pause 5-10 ms longer.
  Elsewhere (tests) the first work handed to the pool starts them; the command line checks
  files in its own process and never starts them.
- **Behind the window for the CPU.** Each worker lowers its priority (``nice`` 10) first, so
  on a two-core laptop the GUI thread wins when both want a core.
- **The frozen build** calls ``multiprocessing.freeze_support()`` first thing
  (``packaging/launcher.py``), so a worker started from the bundle runs its task, not a
  second smsdesk.
- **Nothing depends on it.** With one core, or when the processes cannot start or die, the
  caller does the work itself (:meth:`CpuPool.executor` answers None, or the future fails).

Qt-free; used by the bulk import's validation (``services/imports/judge.py``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor

log = logging.getLogger(__name__)

MOST_WORKERS = 4
WORKER_NICENESS = 10  # lower priority than the window (0): the OS runs the GUI thread first


def _worker_start() -> None:
    """Each worker's first act: step back behind the window's process for the CPU, then load
    what the work needs, before the first chunk arrives."""
    if hasattr(os, "nice"):  # POSIX: on a 2-core laptop the window's thread must win a tie
        os.nice(WORKER_NICENESS)
    from smsdesk.services.imports.judge import warm

    warm()


def default_workers() -> int:
    """One per core but one (the GUI thread keeps a core of its own), at most 4; 0 on one core."""
    return min(MOST_WORKERS, (os.cpu_count() or 1) - 1)


class CpuPool:
    """A pool of spawned worker processes, shared by the app's CPU-heavy work: started by
    :meth:`warm`, or else by the first work handed to it."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def executor(self) -> Executor | None:
        """The pool (its processes start with the first work handed to it), or None: no second
        core, or smsdesk is closing."""
        if self.workers < 1 or self._closed:
            return None
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_start,
                )
            return self._pool

    def warm(self) -> None:
        """Start the workers now, without waiting for them (``smsdesk-gui`` once its services
        are up). Safe from any thread."""
        pool = self.executor()
        if pool is None:
            return
        try:
            for _ in range(self.workers):
                pool.submit(os.getpid)
        except (BrokenExecutor, RuntimeError) as exc:  # the check will say so and do it here
            log.info("worker processes did not start: %s", exc)

    def close(self) -> None:
        """Stop the workers (work not begun is dropped; callers then do it themselves)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
