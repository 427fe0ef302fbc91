"""Shift counters for the operator window: counts, yield and line rate, without Qt.

The window only displays a `CounterSnapshot`; the arithmetic lives here so it
is tested without a GUI. Yield is passed / inspected: a NO DECISION part is
not a pass, so it lowers the yield like a reject does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from station.core.decision import Outcome
from station.core.outcomes import yield_of

RATE_WINDOW_S = 60.0
"""Parts per minute are measured over the parts of the last minute."""


@dataclass(frozen=True, slots=True)
class CounterSnapshot:
    """What the counters panel shows. `yield_pct` and `parts_per_min` are None until defined."""

    shift_id: str = ""
    inspected: int = 0
    passed: int = 0
    rejected: int = 0
    no_decision: int = 0
    yield_pct: float | None = None
    parts_per_min: float | None = None


class ShiftTally:
    """Counts outcomes of the current shift; a part from a new shift starts a fresh tally."""

    def __init__(self, rate_window_s: float = RATE_WINDOW_S) -> None:
        self._window_s = rate_window_s
        self._shift_id = ""
        self._counts = {o: 0 for o in Outcome}
        self._times: deque[float] = deque()

    def reset(self, shift_id: str = "") -> None:
        self._shift_id = shift_id
        self._counts = {o: 0 for o in Outcome}
        self._times.clear()

    def seed(self, shift_id: str, passed: int, rejected: int, no_decision: int) -> None:
        """Start from counts already in the log (a restart in the middle of a shift)."""
        self.reset(shift_id)
        self._counts[Outcome.PASS] = passed
        self._counts[Outcome.REJECT] = rejected
        self._counts[Outcome.NO_DECISION] = no_decision

    def add(self, outcome: Outcome, time_s: float, shift_id: str = "") -> CounterSnapshot:
        """Count one part decided at `time_s` (seconds, any monotonic-enough clock)."""
        if shift_id != self._shift_id:
            self.reset(shift_id)
        self._counts[outcome] += 1
        self._times.append(time_s)
        while self._times and self._times[0] < time_s - self._window_s:
            self._times.popleft()
        return self.snapshot()

    def parts_per_min(self) -> float | None:
        """Line rate over the last window: (n - 1) intervals over their span, per minute."""
        if len(self._times) < 2:
            return None
        span = self._times[-1] - self._times[0]
        if span <= 0.0:
            return None
        return 60.0 * (len(self._times) - 1) / span

    def snapshot(self) -> CounterSnapshot:
        passed = self._counts[Outcome.PASS]
        rejected = self._counts[Outcome.REJECT]
        no_dec = self._counts[Outcome.NO_DECISION]
        inspected = passed + rejected + no_dec
        y = yield_of(passed, inspected)
        return CounterSnapshot(
            shift_id=self._shift_id,
            inspected=inspected,
            passed=passed,
            rejected=rejected,
            no_decision=no_dec,
            yield_pct=None if y is None else 100.0 * y,
            parts_per_min=self.parts_per_min(),
        )
