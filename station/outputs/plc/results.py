"""Results as the PLC reads them, and the require_ack buffer between station and PLC.

A result's registers (result, reject_classes, the shift counters) and its result_id
are written under one lock, result_id last: a PLC that polls result_id alone and
then reads the rest finds that result's values there. With `require_ack` the next
result is shown only after the PLC wrote the shown result_id to result_ack; up to
`MAX_PENDING` results wait, and one more is an overrun (the caller faults).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from station.outputs.plc import register_map as rm
from station.outputs.plc.config import MAX_PENDING
from station.outputs.plc.registers import PlcRegisters


@dataclass(frozen=True, slots=True)
class LineResult:
    """One part's result for the PLC; the counters are the shift's, this part included."""

    result_id: int
    result: rm.PlcResult
    reject_classes: int = 0
    passed: int = 0
    rejected: int = 0
    no_decision: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.result_id <= 0xFFFF:
            raise ValueError(f"result_id {self.result_id}: expected 1..65535")

    def registers(self) -> dict[int, int]:
        """Register values, in write order: result_id last."""
        values = {rm.RESULT: int(self.result), rm.REJECT_CLASSES: self.reject_classes & 0xFFFF}
        for address, count in (
            (rm.PASSED, self.passed),
            (rm.REJECTED, self.rejected),
            (rm.NO_DECISION, self.no_decision),
        ):
            values[address], values[address + 1] = rm.uint32_words(count)
        values[rm.RESULT_ID] = self.result_id
        return values


class ResultBoard:
    """Shows results in the registers, one at a time; with `require_ack`, after each ack."""

    def __init__(
        self, registers: PlcRegisters, *, require_ack: bool, max_pending: int = MAX_PENDING
    ) -> None:
        self._registers = registers
        self._require_ack = require_ack
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._waiting: deque[LineResult] = deque()
        self._unacked = False
        self.shown = 0
        """Results written to the registers so far."""

    @property
    def pending(self) -> int:
        """Results the PLC has not acknowledged yet (0 without require_ack)."""
        with self._lock:
            return len(self._waiting) + int(self._unacked)

    def post(self, result: LineResult) -> bool:
        """Show `result` now, or queue it behind an unacknowledged one; False on overrun
        (already `max_pending` results pending: `result` is not shown)."""
        with self._lock:
            if not self._require_ack:
                self._show(result)
                return True
            if not self._unacked:
                self._unacked = True
                self._show(result)
            elif len(self._waiting) + 1 >= self._max_pending:
                return False
            else:
                self._waiting.append(result)
            self._set_pending()
            return True

    def ack(self, result_id: int) -> bool:
        """The PLC consumed `result_id`; False when that is not the shown result (refused).

        Acknowledging the shown result again is harmless (a PLC may write cyclically).
        """
        with self._lock:
            if not self._require_ack:
                return True
            if result_id != self._registers.get(rm.RESULT_ID) or result_id == 0:
                return False
            if self._unacked:
                self._unacked = False
                if self._waiting:
                    self._unacked = True
                    self._show(self._waiting.popleft())
                self._set_pending()
            return True

    def _show(self, result: LineResult) -> None:
        self._registers.write(result.registers())
        self.shown += 1

    def _set_pending(self) -> None:
        self._registers.write({rm.RESULTS_PENDING: len(self._waiting) + int(self._unacked)})
