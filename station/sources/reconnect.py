"""Reopening a lost camera with exponential backoff: 0.5, 1, 2, 4, 5, 5 ... seconds.

Qt-free so the inspection worker (a QThread) and the tests share it. Waiting is an
injected `wait(seconds) -> stop_requested` (a `threading.Event().wait` fits), so a
stop request ends the wait at once and tests never sleep.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from station.core.ports import CameraInfo, CameraLost, FrameSource


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Delays before reopening attempts: `first_s * factor**n`, capped at `max_s` (inclusive)."""

    first_s: float = 0.5
    factor: float = 2.0
    max_s: float = 5.0

    def delays(self) -> Iterator[float]:
        """The delay before each attempt, without end."""
        delay = self.first_s
        while True:
            yield min(delay, self.max_s)
            delay = min(delay * self.factor, self.max_s)


def reopen_with_backoff(
    source: FrameSource,
    *,
    policy: BackoffPolicy | None = None,
    wait: Callable[[float], bool] | None = None,
    on_failure: Callable[[int, CameraLost, float], None] | None = None,
) -> CameraInfo | None:
    """Closes `source`, then calls `open()` until it succeeds; None if a stop was requested.

    Before each attempt it waits the policy's next delay through `wait`, which returns
    True when the caller wants to stop (default: a never-set Event, i.e. a plain sleep).
    Only CameraLost is retried; a StationError (a wrong option) propagates, because
    retrying cannot fix it. `on_failure(attempt, error, next_delay_s)` lets the caller
    log each failed attempt and show "camera lost, retrying in 2 s".
    """
    wait = wait if wait is not None else threading.Event().wait
    delays = (policy or BackoffPolicy()).delays()
    with contextlib.suppress(CameraLost):
        source.close()
    delay = next(delays)
    attempt = 0
    while True:
        if wait(delay):
            return None
        attempt += 1
        try:
            return source.open()
        except CameraLost as exc:
            delay = next(delays)
            if on_failure is not None:
                on_failure(attempt, exc, delay)
