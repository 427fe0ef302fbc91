"""The station without a window: the same pipeline, stepped on the main thread.

For a cabinet PC or a container: no Qt is imported. One status line per second
goes to stderr; the run ends on `request_stop` (SIGINT/SIGTERM), after a
duration or a number of parts, at the end of a replay, or when the camera
refuses its configuration, always through the pipeline's shutdown, so every
acquired part is inspected and committed and the stop is logged.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from station.core.decision import Outcome
from station.core.thresholds import ThresholdSet
from station.pipeline.acquisition import REPLAY_FINISHED
from station.pipeline.engine import InspectionPipeline
from station.pipeline.latency import LatencyRecorder
from station.pipeline.results import CameraState, CameraStatus, PartResult
from station.pipeline.setup import PipelineSetup

STATUS_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a headless run did. Latency: frame available → outcome committed (log, outputs)."""

    inspected: int
    passed: int
    rejected: int
    no_decision: int
    elapsed_s: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    stop_reason: str
    camera_fault: str = ""
    plc: dict[str, int] | None = None
    """With a PLC: {clients, triggers, results, late} at the end."""
    shadow: dict[str, int] | None = None
    """With a `[shadow]` model: {parts, agree, now_rejected_would_pass, now_passed_would_reject,
    skipped} at the end (as `station report --json`'s "shadow")."""

    @property
    def parts_per_s(self) -> float:
        return self.inspected / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        """The JSON contract of `station run --headless` (keys exactly as documented)."""
        return {
            "inspected": self.inspected,
            "passed": self.passed,
            "rejected": self.rejected,
            "no_decision": self.no_decision,
            "elapsed_s": round(self.elapsed_s, 3),
            "parts_per_s": round(self.parts_per_s, 3),
            "latency_ms": {
                "p50": _round(self.latency_p50_ms),
                "p99": _round(self.latency_p99_ms),
            },
            **({} if self.plc is None else {"plc": self.plc}),
            **({} if self.shadow is None else {"shadow": self.shadow}),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


class _Tally:
    """The pipeline's events, counted for the status line and the summary."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self.counts = dict.fromkeys(Outcome, 0)
        self.latency = LatencyRecorder()
        self.camera = CameraStatus(CameraState.STOPPED)
        self.camera_fault = ""

    @property
    def inspected(self) -> int:
        return sum(self.counts.values())

    def part_inspected(self, part: PartResult) -> None:
        self.counts[part.outcome] += 1
        self.latency.add(part.committed_ms)

    def camera_changed(self, status: CameraStatus) -> None:
        if status.state is CameraState.FAULT:
            self.camera_fault = status.message
        if status.state is CameraState.LOST and self.camera.state is not CameraState.LOST:
            cause = status.message  # usually already "camera lost: ..." (its NO DECISION cause)
            said = cause if cause.startswith("camera lost") else f"camera lost: {cause}"
            self._say(f"{said}; reconnecting")
        self.camera = status

    def running_changed(self, running: bool) -> None:
        return None

    def thresholds_applied(self, thresholds: ThresholdSet) -> None:
        return None

    def fault(self, message: str) -> None:
        first = message.splitlines()[0] if message else message
        self._say(first if first.startswith(REPLAY_FINISHED) else f"fault: {first}")


def camera_words(status: CameraStatus, fault: str = "") -> str:
    """The camera in the status line; `fault` (the run's camera fault) outlasts the camera's
    closing, so the last line still says why inspection stopped."""
    if status.state is CameraState.LOST:
        return f"camera lost (reconnect attempt {status.attempt})"
    if fault and status.state is CameraState.STOPPED:
        return "camera fault"
    return f"camera {status.state.value}"


NAP_S = 0.1
"""The longest a stop request waits while the camera is being reconnected."""


class HeadlessRunner:
    """Runs one pipeline until told to stop; `run()` returns what it did."""

    def __init__(
        self,
        setup: PipelineSetup,
        *,
        duration_s: float | None = None,
        max_parts: int | None = None,
        status: TextIO | None = None,
        status_interval_s: float = STATUS_INTERVAL_S,
        status_extra: Callable[[], str] | None = None,
    ) -> None:
        """`status_extra` adds a phrase to each status line (the central forwarder's backlog)."""
        self._out = status if status is not None else sys.stderr
        self._say_lock = threading.Lock()
        self._tally = _Tally(self._say)
        self._pipeline = InspectionPipeline(setup, self._tally)
        self._line = setup.line
        self._shadow = setup.shadow
        self._duration_s = duration_s
        self._max_parts = max_parts
        self._interval_s = status_interval_s
        self._status_extra = status_extra
        self._done = threading.Event()
        self._stop_reason = ""

    def request_stop(self, reason: str) -> None:
        """Stop after the part in progress. Safe from a signal handler: it only sets plain
        flags (no lock the interrupted main thread might hold)."""
        if not self._stop_reason:
            self._stop_reason = reason
        self._pipeline.interrupt()  # a read on this thread (trigger mode) stops waiting

    def run(self) -> RunSummary:
        pipeline, tally = self._pipeline, self._tally
        t0 = time.perf_counter()
        reason = ""
        ticker = threading.Thread(target=self._tick, name="status-line", daemon=True)
        try:
            pipeline.begin()
            pipeline.start(self._max_parts)
            ticker.start()
            while True:
                reason = self._why_stop(t0)
                if reason:
                    break
                wait_s = pipeline.step()
                if wait_s is not None and wait_s > 0:  # the camera is being reconnected
                    self._nap(min(wait_s, self._left(t0)))
        finally:
            pipeline.shutdown(reason or "headless run ended")
            self._done.set()
            if ticker.is_alive():
                ticker.join()
        elapsed = time.perf_counter() - t0
        c = tally.counts
        return RunSummary(
            inspected=tally.inspected,
            passed=c[Outcome.PASS],
            rejected=c[Outcome.REJECT],
            no_decision=c[Outcome.NO_DECISION],
            elapsed_s=elapsed,
            latency_p50_ms=tally.latency.percentile(50),
            latency_p99_ms=tally.latency.percentile(99),
            stop_reason=reason,
            camera_fault=tally.camera_fault,
            plc=None if self._line is None else self._line.stats().to_json(),
            shadow=None if self._shadow is None else self._shadow.counts.as_dict(),
        )

    def _tick(self) -> None:
        """One status line per interval, on its own thread: a blocking read cannot delay it."""
        start = last = (time.perf_counter(), self._tally.inspected)
        while not self._done.wait(self._interval_s):
            now = time.perf_counter()
            self._status_line(now, last)
            last = (now, self._tally.inspected)
        self._status_line(time.perf_counter(), start)  # the last line: the whole run's rate

    def _nap(self, seconds: float) -> None:
        """Wait for a reconnect in slices of NAP_S, ending early on a stop request."""
        end = time.perf_counter() + seconds
        while not self._stop_reason and (left := end - time.perf_counter()) > 0:
            time.sleep(min(left, NAP_S))

    def _left(self, t0: float) -> float:
        if self._duration_s is None:
            return float("inf")
        return max(0.0, t0 + self._duration_s - time.perf_counter())

    def _why_stop(self, t0: float) -> str:
        if self._stop_reason:
            return self._stop_reason
        if self._max_parts is not None and self._tally.inspected >= self._max_parts:
            return f"{self._max_parts} part{'s' if self._max_parts != 1 else ''} inspected"
        if self._duration_s is not None and time.perf_counter() - t0 >= self._duration_s:
            return f"{self._duration_s:g} s elapsed"
        if not self._pipeline.running:
            return self._tally.camera_fault or "inspection stopped"
        return ""

    def _status_line(self, now: float, last: tuple[float, int]) -> None:
        t = self._tally
        dt = now - last[0]
        rate = (t.inspected - last[1]) / dt if dt > 0 else 0.0
        c = t.counts
        extra = f" · {self._status_extra()}" if self._status_extra is not None else ""
        self._say(
            f"inspected {t.inspected} · passed {c[Outcome.PASS]} · "
            f"rejected {c[Outcome.REJECT]} · no decision {c[Outcome.NO_DECISION]} · "
            f"{rate:.1f} parts/s · {camera_words(t.camera, t.camera_fault)}{extra}"
            f"{self._plc_words()}"
            f"{self._shadow_words()}"
        )

    def _plc_words(self) -> str:
        if self._line is None:
            return ""
        p = self._line.stats()
        return (
            f" · PLC {p.clients} connected, {p.triggers} triggers, "
            f"{p.results} results, {p.late} late"
        )

    def _shadow_words(self) -> str:
        return "" if self._shadow is None else f" · {self._shadow.counts.words()}"

    def _say(self, line: str) -> None:
        with self._say_lock:  # the status thread and the pipeline both speak
            print(f"station: {line}", file=self._out, flush=True)
