"""Paces a simulated or replayed line at a fixed rate without drifting.

Due times are computed from the start (`start + n * period`), not from the previous
frame, so a slow read is caught up instead of shifting every later part. Clock and
sleep are injected so tests check the schedule without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SLICE_S = 0.05
"""The longest an interrupted wait goes on (a stop waits at most this for a paced frame)."""


class Pacer:
    """Waits until frame n is due; `rate_per_s = 0` means never wait (tests, benchmarks)."""

    def __init__(
        self,
        rate_per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.period_s = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self._clock = clock
        self._interrupted = False  # a plain flag: set from a signal handler, no lock taken
        self._sleep = sleep or self._sleep_until_interrupted
        self._start: float | None = None
        self._n = 0

    def restart(self) -> None:
        self._start = None
        self._n = 0
        self._interrupted = False

    def interrupt(self) -> None:
        """Cut the wait in progress (and any later one until `restart`) short; any thread,
        a signal handler too."""
        self._interrupted = True

    def wait_next(self) -> bool:
        """Blocks until the next frame is due (the first one is due at once); False when
        `interrupt()` cut the wait short (the frame is then not taken)."""
        if self._interrupted:
            return False
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._n * self.period_s
        self._n += 1
        if self.period_s > 0 and due > now:
            self._sleep(due - now)
            if self._interrupted:
                self._n -= 1
                return False
        elif self.period_s > 0 and now - due > self.period_s:
            # More than a period late (the reader was paused): resume the pace from now
            # instead of bursting out every missed frame.
            self._start = now
            self._n = 1
        return True

    def _sleep_until_interrupted(self, seconds: float) -> None:
        """`time.sleep` in slices of at most SLICE_S, ending early once interrupted."""
        end = time.monotonic() + seconds
        while not self._interrupted and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, SLICE_S))
