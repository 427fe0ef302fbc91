"""The heartbeat register: +1 every period while the station says it is healthy.

A PLC watches this register change; when it stops (inspection stopped, the loop
stalled, the camera lost, the process gone) the PLC stops trusting results. The
thread only counts; whether the station is healthy is the caller's `healthy()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from station.outputs.plc import register_map as rm
from station.outputs.plc.registers import PlcRegisters


class Heartbeat:
    """Increments register 0 every `period_s` while `healthy()` (wraps at 65535)."""

    def __init__(
        self, registers: PlcRegisters, period_s: float, healthy: Callable[[], bool]
    ) -> None:
        self._registers = registers
        self._period_s = period_s
        self._healthy = healthy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="plc-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No beat after this returns."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            if self._healthy():
                self._registers.increment(rm.HEARTBEAT)
