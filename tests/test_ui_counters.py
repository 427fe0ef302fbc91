"""Shift counters and frame checks: the arithmetic behind the window, without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from station.core.counters import CounterSnapshot, ShiftTally
from station.core.decision import Outcome
from station.pipeline.frame_check import frame_problem

P, R, N = Outcome.PASS, Outcome.REJECT, Outcome.NO_DECISION


def test_empty_tally_has_no_yield_and_no_rate() -> None:
    assert ShiftTally().snapshot() == CounterSnapshot()


def test_counts_and_yield_count_no_decision_as_not_passed() -> None:
    tally = ShiftTally()
    for i, outcome in enumerate([P, P, R, N, P]):
        snap = tally.add(outcome, float(i), "s1")
    assert (snap.inspected, snap.passed, snap.rejected, snap.no_decision) == (5, 3, 1, 1)
    assert snap.yield_pct == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0.0], None),  # one part: no interval yet
        ([0.0, 0.0], None),  # no time elapsed
        ([0.0, 1.0, 2.0, 3.0], 60.0),  # one part a second
        ([0.0, 0.5, 1.0], 120.0),
        ([0.0, 100.0, 101.0, 102.0], 60.0),  # parts older than the 60 s window drop out
    ],
)
def test_parts_per_minute_over_the_last_minute(times: list[float], expected: float | None) -> None:
    tally = ShiftTally()
    for t in times:
        snap = tally.add(P, t, "s1")
    assert snap.parts_per_min == (pytest.approx(expected) if expected is not None else None)


def test_a_new_shift_starts_from_zero() -> None:
    tally = ShiftTally()
    tally.add(R, 0.0, "2026-01-01/early")
    tally.add(P, 1.0, "2026-01-01/early")
    snap = tally.add(P, 2.0, "2026-01-01/late")
    assert (snap.shift_id, snap.inspected, snap.passed, snap.rejected) == (
        "2026-01-01/late",
        1,
        1,
        0,
    )


def test_seeded_from_the_log_then_counting_on() -> None:
    tally = ShiftTally()
    tally.seed("s1", passed=90, rejected=8, no_decision=2)
    snap = tally.add(P, 0.0, "s1")
    assert (snap.inspected, snap.passed) == (101, 91)
    assert snap.yield_pct == pytest.approx(100 * 91 / 101)


GOOD = np.zeros((120, 160, 3), np.uint8)


@pytest.mark.parametrize(
    ("image", "expected_wh", "problem"),
    [
        (GOOD, (160, 120), None),
        (GOOD, None, None),
        (GOOD, (0, 0), None),  # camera did not say its size
        (np.zeros((120, 160), np.uint8), (160, 120), None),  # mono
        (
            np.zeros((60, 80, 3), np.uint8),
            (160, 120),
            "wrong-size frame: 80×60, camera delivers 160×120",
        ),
        (
            np.zeros((120, 160, 3), np.uint16),
            None,
            "corrupt frame: pixel type uint16, expected uint8",
        ),
        (
            np.zeros((120, 160, 4), np.uint8),
            None,
            "corrupt frame: shape (120, 160, 4), expected (H, W) or (H, W, 3)",
        ),
        (np.zeros((0, 160, 3), np.uint8), None, "corrupt frame: empty image"),
        (np.zeros(10, np.uint8), None, "corrupt frame: shape (10,), expected (H, W) or (H, W, 3)"),
    ],
)
def test_frame_problem_in_words(
    image: np.ndarray, expected_wh: tuple[int, int] | None, problem: str | None
) -> None:
    assert frame_problem(image, expected_wh) == problem
