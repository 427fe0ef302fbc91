"""The PLC as one of the pipeline's outputs, with the decision deadline it needs.

Each part has a result_id (its trigger_id, or its number in free run) and a start
(the trigger's arrival, or the frame's): a watchdog thread sends NO DECISION to the
PLC for any part not decided `deadline_ms` after its start. The pipeline `claim`s a
part before logging it: a part already answered at its deadline is logged as NO
DECISION with `late: N ms` (its model result beside it), and `send` does not send it
again, so the PLC, the log and the shift counters always agree.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from station.core.counters import ShiftTally
from station.core.decision import Outcome
from station.core.inspection import Inspection
from station.core.no_decision import NoDecisionCause, cause_of
from station.core.shifts import ShiftSchedule
from station.outputs.plc.config import PlcConfig
from station.outputs.plc.link import CAMERA_FAULT, PlcLink
from station.outputs.plc.parts import RESULT_ID_KEY
from station.outputs.plc.stats import PlcEvent, PlcStats

LOG_FAULT = "log"
MODEL_FAULT = "model"


class PlcOutput:
    """The line side of one station: triggers in, committed results out, the deadline kept."""

    name = "plc"

    def __init__(
        self,
        config: PlcConfig,
        *,
        triggered: bool,
        deadline_ms: int,
        shifts: ShiftSchedule,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.link = PlcLink(config, triggered=triggered, clock=clock)
        self.triggered = triggered
        self.deadline_ms = deadline_ms
        self._shifts = shifts
        self._clock = clock
        self._lock = threading.Condition()
        self._open: dict[int, float] = {}  # result_id -> start (clock seconds)
        self._late: dict[int, float] = {}  # result_id -> start, of parts answered at deadline
        self._answered: set[int] = set()  # claimed late: `send` must not send them again
        self._tally = ShiftTally()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.link.on_trigger = self._trigger_arrived

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> int:
        """Listen for the PLC and watch deadlines; the bound port."""
        port = self.link.start()
        self._stop.clear()
        self._watchdog = threading.Thread(target=self._watch, name="plc-deadline", daemon=True)
        self._watchdog.start()
        return port

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._watchdog is not None:
            self._watchdog.join()
            self._watchdog = None
        self.link.stop()

    def seed_counters(self, shift_id: str, passed: int, rejected: int, no_decision: int) -> None:
        """The shift's counts so far (from the log): the PLC's counters carry on after a restart."""
        with self._lock:
            self._tally.seed(shift_id, passed, rejected, no_decision)

    # ---- what the pipeline says -------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        self.link.set_running(running)

    def camera_ok(self, ok: bool, why: str = "") -> None:
        """The camera is delivering (or lost: state 3 and no heartbeat until it is back)."""
        self.link.set_fault(CAMERA_FAULT, None if ok else (why or "camera lost"))

    def open_part(self, trigger_id: int | None, started_s: float | None = None) -> int:
        """A part is being inspected: its result_id. In trigger mode its deadline runs from
        the trigger's arrival; in free run from `started_s` (perf_counter: the frame's)."""
        self.link.part_started()
        if trigger_id is not None:
            return trigger_id
        result_id = self.link.next_part_id()
        with self._lock:
            self._open[result_id] = self._clock() if started_s is None else started_s
            self._late.pop(result_id, None)
            self._lock.notify_all()
        return result_id

    def claim(self, result_id: int) -> float | None:
        """Take the part back from the watchdog before logging it: None when it is in time,
        else how long it took (ms): it was sent as NO DECISION at its deadline."""
        with self._lock:
            self._open.pop(result_id, None)
            t0 = self._late.pop(result_id, None)
            if t0 is None:
                return None
            self._answered.add(result_id)
            return (self._clock() - t0) * 1e3

    def send(self, inspection: Inspection, row_id: int | None) -> None:
        """Publish a committed part (unless its deadline already answered it)."""
        raw = inspection.extra.get(RESULT_ID_KEY)
        if raw is None:
            return  # not a part of the line's (no result_id was given to it)
        result_id = int(raw)
        self._note_faults(inspection, row_id)
        names = inspection.class_names
        reject_ids = [names.index(r.class_name) for r in inspection.decision.reasons]
        with self._lock:  # one order for the watchdog's results and these
            if result_id in self._answered:
                self._answered.discard(result_id)
                self.link.part_finished()
                return
            self._open.pop(result_id, None)
            counts = self._tally.add(inspection.outcome, time.monotonic(), inspection.shift_id)
            self.link.publish(
                result_id,
                inspection.outcome,
                reject_ids,
                passed=counts.passed,
                rejected=counts.rejected,
                no_decision=counts.no_decision,
            )

    def pulse(self) -> None:
        self.link.pulse()

    def take_trigger(self, timeout_s: float) -> int | None:
        return self.link.take_trigger(timeout_s)

    def take_dropped(self) -> list[int]:
        return self.link.take_dropped()

    def take_waiting(self) -> list[int]:
        """Triggers still queued (inspection is stopping): each is owed a result."""
        return self.link.triggers.clear()

    def take_events(self) -> list[PlcEvent]:
        return self.link.take_events()

    def stats(self) -> PlcStats:
        return self.link.stats()

    # ---- inside ---------------------------------------------------------------------------

    def _note_faults(self, inspection: Inspection, row_id: int | None) -> None:
        """State 3 while the log refuses parts or the model fails; cleared by the next part
        that was logged, or judged by the model."""
        self.link.set_fault(LOG_FAULT, "log unavailable" if row_id is None else None)
        why = inspection.decision.why if inspection.outcome is Outcome.NO_DECISION else ""
        if cause_of(why) is NoDecisionCause.MODEL_ERROR:
            self.link.set_fault(MODEL_FAULT, why)
        elif inspection.outcome is not Outcome.NO_DECISION:
            self.link.set_fault(MODEL_FAULT, None)

    def _trigger_arrived(self, trigger_id: int) -> None:
        with self._lock:
            self._open[trigger_id] = self._clock()
            self._late.pop(trigger_id, None)
            self._lock.notify_all()

    def _watch(self) -> None:
        deadline_s = self.deadline_ms / 1000.0
        with self._lock:
            while not self._stop.is_set():
                now = self._clock()
                expired = [rid for rid, t0 in self._open.items() if now - t0 >= deadline_s]
                for result_id in expired:
                    self._late[result_id] = self._open.pop(result_id)
                    self._send_no_decision(result_id)
                if self._open:
                    wait_s = min(t0 + deadline_s for t0 in self._open.values()) - now
                    self._lock.wait(max(wait_s, 0.001))
                else:
                    self._lock.wait()

    def _send_no_decision(self, result_id: int) -> None:
        """At the deadline: NO DECISION to the PLC, counted (the lock is held)."""
        now_utc = time.time()
        shift_id = self._shifts.shift_at(now_utc).id
        counts = self._tally.add(Outcome.NO_DECISION, time.monotonic(), shift_id)
        self.link.publish(
            result_id,
            Outcome.NO_DECISION,
            passed=counts.passed,
            rejected=counts.rejected,
            no_decision=counts.no_decision,
            late=True,
        )
