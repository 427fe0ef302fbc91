"""The holding registers' values, shared by the Modbus server's thread and the station's.

One lock guards them: a PLC reading 0-11 in one request sees one whole result, never
the result of one part beside the counters of another.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from station.outputs.plc import register_map as rm


class PlcRegisters:
    """`SIZE` 16-bit values, all 0 at start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = [0] * rm.SIZE

    def read(self, address: int = 0, count: int = rm.SIZE) -> list[int]:
        """A consistent copy of registers [address, address + count)."""
        with self._lock:
            return self._values[address : address + count]

    def get(self, address: int) -> int:
        with self._lock:
            return self._values[address]

    def write(self, updates: Mapping[int, int]) -> None:
        """Set several registers at once: no reader sees some of them changed and not others."""
        with self._lock:
            for address, value in updates.items():
                self._values[address] = int(value) & 0xFFFF

    def increment(self, address: int) -> int:
        """+1 modulo 65536 (the heartbeat); the new value."""
        with self._lock:
            self._values[address] = rm.wrap16(self._values[address] + 1)
            return self._values[address]
