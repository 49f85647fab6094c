"""Worker-thread loops rest now and then when the process asked for pacing (the desktop app),
and never otherwise (the command line)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsdesk.domain import pacing


@pytest.fixture
def rests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    taken: list[float] = []
    monkeypatch.setattr(pacing.time, "sleep", taken.append)
    yield taken
    pacing.set_pace(0.0, 0.0)


def test_unpaced_loops_never_rest(rests: list[float]) -> None:
    pacing.set_pace(0.0, 0.0)
    pacer = pacing.Pacer()
    for _ in range(10_000):
        pacer.tick()
    assert rests == []


def test_a_paced_loop_rests_once_it_has_run_long_enough(rests: list[float]) -> None:
    pacing.set_pace(1e-9, 0.002)  # any run is long enough: a rest at each clock reading
    pacer = pacing.Pacer()
    for _ in range(320):
        pacer.tick()
    assert rests == [0.002] * 10  # the clock is read every 32 ticks


def test_pacing_applies_to_pacers_made_after_it_is_asked_for(rests: list[float]) -> None:
    before = pacing.Pacer()
    pacing.set_pace(1e-9, 0.001)
    for _ in range(64):
        before.tick()
    assert rests == []
    after = pacing.Pacer()
    for _ in range(64):
        after.tick()
    assert rests == [0.001, 0.001]
