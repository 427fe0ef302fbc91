"""Thread priority: background work (a shadow model, the reject archive) yields the cores.

Linux schedules threads by their own nice value, so one thread of the station can
step aside for the inspection loop without touching the rest of the process.
"""

from __future__ import annotations

import contextlib
import os
import threading

LOWEST = 19


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
