"""Thread priority and CPU headroom: background work (a shadow model, the reject archive)
yields the cores to the inspection loop.

Linux schedules threads by their own nice value, so one thread of the station can
step aside for the inspection loop without touching the rest of the process. A nice
value only orders who runs; `ProcessLoad` tells background work whether the station is
using the machine at all, so optional work (deflating an archived frame) can wait for a
line that has time to spare.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

LOWEST = 19
SWITCH_INTERVAL_S = 0.0005
"""How long a Python thread may hold the GIL while another waits (CPython's default: 5 ms).
An inference lane back from onnxruntime waits for the GIL to decode its part; 5 ms of
the logger's or archiver's Python is a model run's worth of idle core (docs/benchmarks.md)."""


def lower_this_thread(nice: int = LOWEST) -> None:
    """Nice the calling thread (Linux; elsewhere, or when refused, it stays as it was).

    An unprivileged thread cannot raise its priority back: call this from the thread's
    own loop, for the thread's whole life.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def thread_nice(native_id: int) -> int | None:
    """The nice value of a thread of this process (None where it cannot be read)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, native_id)
    except (AttributeError, OSError):
        return None


def quick_handoffs() -> None:
    """Let waiting threads take the GIL after `SWITCH_INTERVAL_S` (process-wide: the station's
    threads are an inspection line, not a batch job)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def usable_cpus() -> int:
    """CPUs this process may run on (affinity / cpuset aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


class ProcessLoad:
    """This process's share of the machine's CPUs (0..1) over the last `window_s` to
    2 x `window_s` seconds: process CPU time over wall time times usable CPUs. 1.0: every
    core busy with the station (a line running flat out); ~0.05: a line waiting for parts.
    """

    def __init__(self, window_s: float = 0.5) -> None:
        self._cpus = usable_cpus()
        self._window_s = window_s
        self._current = self._previous = (time.monotonic(), time.process_time())

    def share(self) -> float:
        now = (time.monotonic(), time.process_time())
        if now[0] - self._current[0] >= self._window_s:  # roll: never measure a sliver
            self._previous, self._current = self._current, now
        wall = now[0] - self._previous[0]
        if wall <= 0:
            return 1.0
        return min(1.0, (now[1] - self._previous[1]) / (wall * self._cpus))
