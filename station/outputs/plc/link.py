"""The PLC side of the station: the Modbus server, the heartbeat, triggers in, results out.

The inspection loop talks to one `PlcLink`: it takes triggers, says when a part
starts, publishes each committed result (after the log commit, before the window)
and reports faults. The link never touches the log: what happened on the wire
(a PLC connected, a trigger overflowed, a result overran) waits in `take_events`
for the loop to record on its own thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from station.core.decision import Outcome
from station.outputs.plc import register_map as rm
from station.outputs.plc.config import MAX_PENDING, PlcConfig
from station.outputs.plc.heartbeat import Heartbeat
from station.outputs.plc.registers import PlcRegisters
from station.outputs.plc.results import LineResult, ResultBoard
from station.outputs.plc.server import ModbusPlcServer, Refusal
from station.outputs.plc.stats import PlcEvent, PlcStats
from station.outputs.plc.triggers import TriggerQueue

CAMERA_FAULT = "camera"
"""The fault that also stops the heartbeat (the issue: it stops when the camera is lost)."""
OVERRUN_FAULT = "result overrun"
OVERFLOW_FAULT = "trigger overflow"


class PlcLink:
    """One PLC connection point. `triggered`: parts are inspected on the PLC's trigger_id.

    `stall_after_s`: the heartbeat stops when the loop has not called `pulse` (or
    `take_trigger`) for this long.
    """

    def __init__(
        self,
        config: PlcConfig,
        *,
        triggered: bool,
        stall_after_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.triggered = triggered
        self.registers = PlcRegisters()
        self.board = ResultBoard(self.registers, require_ack=config.require_ack)
        self.triggers = TriggerQueue(MAX_PENDING)
        period_s = config.heartbeat_ms / 1000.0
        self._stall_after_s = stall_after_s if stall_after_s is not None else max(3 * period_s, 2.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._busy = False
        self._faults: dict[str, str] = {}
        self._last_pulse = clock()
        self._events: deque[PlcEvent] = deque()
        self._clients = 0
        self._n_triggers = 0
        self._n_results = 0
        self._n_late = 0
        self._last_trigger: int | None = None
        self._part_number = 0
        self._server = ModbusPlcServer(
            self.registers,
            self,
            self,
            host=config.host,
            port=config.port,
            unit_id=config.unit_id,
        )
        self._heartbeat = Heartbeat(self.registers, period_s, self._healthy)
        self.on_trigger: Callable[[int], None] | None = None
        """Called (on the server's thread) with each trigger_id that was queued."""

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> int:
        """Listen and beat; the bound port. StationError when the address is taken."""
        port = self._server.start()
        self._heartbeat.start()
        self._event("plc_listening", f"PLC link listening on {self.config.host}:{port}", port=port)
        return port

    def stop(self) -> None:
        """State 0, no more beats, every connection closed."""
        self.set_running(False)
        self._heartbeat.stop()
        self._server.stop()

    @property
    def port(self) -> int:
        return self._server.port

    # ---- what the inspection loop says ----------------------------------------------------

    def set_running(self, running: bool) -> None:
        with self._lock:
            self._running = running
            self._busy = False
            self._last_pulse = self._clock()
        self._update_state()

    def pulse(self) -> None:
        """The loop is alive (called every turn)."""
        with self._lock:
            self._last_pulse = self._clock()

    def part_started(self) -> None:
        with self._lock:
            self._busy = True
            self._last_pulse = self._clock()
        self._update_state()

    def part_finished(self) -> None:
        """The part in progress ended without a result of its own (answered at its deadline)."""
        with self._lock:
            self._busy = False
        self._update_state()

    def set_fault(self, key: str, message: str | None) -> None:
        """Raise (message) or clear (None) one fault; state is 3 while any is raised."""
        with self._lock:
            if message is None:
                self._faults.pop(key, None)
            else:
                self._faults[key] = message
        self._update_state()

    @property
    def faults(self) -> dict[str, str]:
        with self._lock:
            return dict(self._faults)

    def take_trigger(self, timeout_s: float) -> int | None:
        """The next trigger_id (waits up to `timeout_s`); None when none came."""
        self.pulse()
        trigger_id = self.triggers.pop(timeout_s)
        self.pulse()
        if not len(self.triggers) and not self.triggers.has_dropped():
            self.set_fault(OVERFLOW_FAULT, None)  # every dropped trigger has been answered
        return trigger_id

    def take_dropped(self) -> list[int]:
        """Trigger ids the full queue had to drop: each is owed a NO DECISION result."""
        return self.triggers.take_dropped()

    def next_part_id(self) -> int:
        """The result_id of a free-running part: its number modulo 65536, 0 skipped."""
        with self._lock:
            self._part_number = self._part_number % 0xFFFF + 1
            return self._part_number

    def publish(
        self,
        result_id: int,
        outcome: Outcome,
        reject_class_ids: Sequence[int] = (),
        *,
        passed: int,
        rejected: int,
        no_decision: int,
        late: bool = False,
    ) -> bool:
        """Show one committed result to the PLC; False on a result overrun (faulted)."""
        result = LineResult(
            result_id=result_id,
            result=rm.RESULT_OF_OUTCOME[outcome],
            reject_classes=rm.reject_class_bits(tuple(reject_class_ids)),
            passed=passed,
            rejected=rejected,
            no_decision=no_decision,
        )
        shown = self.board.post(result)
        with self._lock:
            self._busy = False
            self._n_late += int(late)
            self._n_results += int(shown)
        if not shown:
            why = (
                f"result overrun: result {result_id} not sent, {MAX_PENDING} results unacknowledged"
            )
            self.set_fault(OVERRUN_FAULT, why)
            self._event("plc_result_overrun", why, result_id=result_id)
        else:
            self._update_state()
        return shown

    def stats(self) -> PlcStats:
        with self._lock:
            return PlcStats(
                clients=self._clients,
                triggers=self._n_triggers,
                results=self._n_results,
                late=self._n_late,
                last_trigger=self._last_trigger,
                heartbeat=self.registers.get(rm.HEARTBEAT),
                port=self._server.port,
                fault="; ".join(self._faults.values()),
            )

    def take_events(self) -> list[PlcEvent]:
        """What happened on the wire since the last call, oldest first."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    # ---- what the PLC does (on the server's thread) ---------------------------------------

    def write(self, address: int, values: Sequence[int]) -> Refusal | None:
        """A PLC write to 20-21: checked as a whole; a refusal changes nothing."""
        updates = dict(zip(range(address, address + len(values)), values, strict=True))
        trigger = updates.get(rm.TRIGGER_ID)
        if trigger is not None:
            if trigger == 0:
                return Refusal.VALUE
            with self._lock:
                accepting = self.triggered and self._running
            if not accepting:
                return Refusal.STATE
        ack = updates.get(rm.RESULT_ACK)
        if ack is not None and not self.board.ack(ack):
            return Refusal.VALUE
        if ack is not None and not self.board.pending:
            self.set_fault(OVERRUN_FAULT, None)  # the PLC caught up
        if trigger is not None and trigger != self.registers.get(rm.TRIGGER_ID):
            self._accept_trigger(trigger)
        self.registers.write(updates)
        return None

    def connected(self, peer: str) -> None:
        with self._lock:
            self._clients += 1
            n = self._clients
        self._event("plc_connected", f"PLC {peer} connected ({n} connected)", peer=peer)

    def disconnected(self, peer: str) -> None:
        with self._lock:
            self._clients = max(self._clients - 1, 0)
            n = self._clients
        self._event("plc_disconnected", f"PLC {peer} disconnected ({n} connected)", peer=peer)

    # ---- inside ---------------------------------------------------------------------------

    def _accept_trigger(self, trigger_id: int) -> None:
        with self._lock:
            self._n_triggers += 1
            self._last_trigger = trigger_id
        if self.triggers.push(trigger_id):
            if self.on_trigger is not None:
                self.on_trigger(trigger_id)
        else:
            why = (
                f"trigger overflow: trigger {trigger_id} dropped, "
                f"{self.triggers.capacity} triggers already waiting"
            )
            self.set_fault(OVERFLOW_FAULT, why)
            self._event("plc_trigger_overflow", why, trigger_id=trigger_id)

    def _healthy(self) -> bool:
        with self._lock:
            fresh = self._clock() - self._last_pulse <= self._stall_after_s
            return self._running and fresh and CAMERA_FAULT not in self._faults

    def _update_state(self) -> None:
        with self._lock:
            if not self._running:
                state = rm.PlcState.STOPPED
            elif self._faults:
                state = rm.PlcState.FAULT
            elif self._busy:
                state = rm.PlcState.BUSY
            else:
                state = rm.PlcState.READY
        self.registers.write({rm.STATE: int(state)})

    def _event(self, kind: str, message: str, **details: Any) -> None:
        with self._lock:
            self._events.append(PlcEvent(kind, message, details))
