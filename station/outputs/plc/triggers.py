"""Triggers from the PLC waiting for the inspection loop: up to 8, none dropped silently.

The Modbus server's thread pushes, the inspection loop pops. A trigger that finds
the queue full is not queued: its id is kept as dropped, and the loop answers it
with a NO DECISION (and the station faults), so every trigger gets one result.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from station.outputs.plc.config import MAX_PENDING


class TriggerQueue:
    """FIFO of trigger ids with room for `capacity`; overflow is remembered, not lost."""

    def __init__(self, capacity: int = MAX_PENDING) -> None:
        self.capacity = capacity
        self._ids: deque[int] = deque()
        self._dropped: deque[int] = deque()
        self._ready = threading.Condition()

    def push(self, trigger_id: int) -> bool:
        """Queue `trigger_id`; False when the queue is full (then it is kept as dropped)."""
        with self._ready:
            if len(self._ids) >= self.capacity:
                self._dropped.append(trigger_id)
                self._ready.notify_all()
                return False
            self._ids.append(trigger_id)
            self._ready.notify_all()
            return True

    def pop(self, timeout_s: float) -> int | None:
        """The oldest queued trigger id, waiting up to `timeout_s`; None when none came."""
        deadline = time.monotonic() + max(timeout_s, 0.0)
        with self._ready:
            while not self._ids:
                left = deadline - time.monotonic()
                if left <= 0 or self._dropped:
                    return None
                self._ready.wait(left)
            return self._ids.popleft()

    def take_dropped(self) -> list[int]:
        """Trigger ids dropped on overflow since the last call, oldest first."""
        with self._ready:
            dropped = list(self._dropped)
            self._dropped.clear()
            return dropped

    def has_dropped(self) -> bool:
        with self._ready:
            return bool(self._dropped)

    def clear(self) -> list[int]:
        """Empty the queue (inspection stopped); the ids that were waiting, oldest first."""
        with self._ready:
            waiting = list(self._ids)
            self._ids.clear()
            return waiting

    def __len__(self) -> int:
        with self._ready:
            return len(self._ids)
