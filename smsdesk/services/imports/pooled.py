"""A big file's rows judged in worker processes, fed and read back a little at a time.

``validate.py`` makes the in-order pass; this module keeps the worker processes
(:mod:`smsdesk.services.cpu_pool`) a few chunks ahead of it. What matters for the window is
where the pickling happens:

- ``concurrent.futures`` pickles a task's arguments on its feeder thread and unpickles a
  result on its management thread. Both take turns with the GUI thread at the GIL, and a
  5,000-row chunk held it for ~3 ms at a time, often just as the GUI thread wanted it back:
  the window's 99th-percentile pause grew by about that much.
- So the rows go over, and the verdicts come back, as small pickled blobs (:data:`BLOB`
  rows each) that those threads only pass along. The generator packs and unpacks them
  itself, one blob per step, inside the GUI loop's few-millisecond slices.

The blobs come from smsdesk's own worker processes, so unpickling them trusts nothing more
than ``concurrent.futures`` itself does.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Generator, Sequence
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future
from typing import Any, NamedTuple

from smsdesk.services.imports.judge import Judged, RowRules, judge_rows
from smsdesk.services.imports.readers import Table

log = logging.getLogger(__name__)

CHUNK = 5000  # rows per task handed to a worker process
BLOB = 500  # rows per pickled blob (packing or unpacking one is a fraction of a millisecond)
AHEAD = 3  # tasks handed over ahead of the in-order pass


class Pending(NamedTuple):
    """Yielded by a validation while it waits for a worker process: a GUI awaits ``wait`` (no
    spinning), a synchronous caller blocks on it."""

    done: int
    total: int
    wait: Future[Any]


CheckStep = tuple[int, int] | Pending  # what a validation yields: (done, total), or a wait


def judge_packed(blobs: Sequence[bytes], rules: RowRules) -> list[bytes]:
    """Judge pickled pieces of rows (in a worker process); the verdicts pickled the same way."""
    return [pickle.dumps(judge_rows(pickle.loads(blob), rules), pickle.HIGHEST_PROTOCOL) for blob in blobs]


class PooledJudging:
    """The table's rows judged by ``pool``, :data:`AHEAD` tasks ahead of the in-order pass.

    A task the pool cannot take or finish (a worker died, smsdesk is closing) is judged here
    instead: slower, never wrong.
    """

    def __init__(self, pool: Executor, table: Table, rules: RowRules) -> None:
        self.pool, self.table, self.rules = pool, table, rules
        self.futures: dict[int, Future[list[bytes]]] = {}
        self.handed = 0  # rows handed over so far
        self.broken = False

    def _hand_over(self, upto: int, done: int, total: int) -> Generator[CheckStep, None, None]:
        rows = self.table.rows
        while not self.broken and self.handed < min(upto, len(rows)):
            start = self.handed
            blobs: list[bytes] = []
            for at in range(start, min(start + CHUNK, len(rows)), BLOB):
                blobs.append(pickle.dumps(rows[at : at + BLOB], pickle.HIGHEST_PROTOCOL))
                yield done, total
            try:
                self.futures[start] = self.pool.submit(judge_packed, blobs, self.rules)
            except (BrokenExecutor, RuntimeError) as exc:  # broken, or shut down (smsdesk is closing)
                log.warning("validating in worker processes failed (%s); validating here", exc)
                self.broken = True
                return
            self.handed += CHUNK

    def start(self) -> Generator[CheckStep, None, bool]:
        """Hand the first tasks over; False when the pool takes nothing (judge here)."""
        yield from self._hand_over(AHEAD * CHUNK, 0, len(self.table.rows))
        return bool(self.futures)

    def take(self, index: int, total: int) -> Generator[CheckStep, None, list[Judged]]:
        """The judged rows from ``index`` on (a :class:`Pending` while the worker is on them)."""
        future = self.futures.pop(index, None)
        yield from self._hand_over(index + (AHEAD + 1) * CHUNK, index, total)
        if future is not None:
            if not future.done():
                yield Pending(index, total, future)
            try:
                blobs = future.result()
            except (BrokenExecutor, CancelledError, OSError) as exc:
                log.warning("a worker process could not judge rows from %d (%s); judging them here", index, exc)
            else:
                judged: list[Judged] = []
                for blob in blobs:
                    judged += pickle.loads(blob)
                    yield index, total
                return judged
        return judge_rows(self.table.rows[index : index + CHUNK], self.rules)

    def cancel(self) -> None:
        """Drop what is still waiting (a cancelled validation)."""
        for future in self.futures.values():
            future.cancel()
