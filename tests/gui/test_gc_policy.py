"""The GUI thread's collector waits while a big table is read or checked (walking a fresh
100,000-row table is a long pause), and collects again afterwards."""

from __future__ import annotations

import gc

from smsdesk.ui import gc_policy


def _garbage() -> list[object]:
    t0, _t1, _t2 = gc.get_threshold()
    return [[] for _ in range(t0 * 3)]  # well over the young generation's threshold


def test_a_held_collector_leaves_the_young_generation_alone(qapp) -> None:
    policy = gc_policy.GuiThreadGc()
    try:
        gc_policy.hold()
        kept = _garbage()
        young = gc.get_count()[0]
        policy.check()
        assert gc.get_count()[0] >= young  # nothing walked while held
        gc_policy.release()
        del kept
        _garbage()
        policy.check()
        assert gc.get_count()[0] < gc.get_threshold()[0]  # collecting again
    finally:
        policy.stop()
        gc.unfreeze()
