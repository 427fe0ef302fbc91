"""The operator window's state, on the GUI thread, between the widgets and the worker.

Widgets read properties and listen to this object's signals; they never touch
the worker. The worker's signals are connected to this object's slots only
(a QObject living on the GUI thread), so every result is handled here, on the
GUI thread. Commands go the other way through this object's private signals,
which Qt queues to the worker's thread: they run between two parts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from station.core.counters import CounterSnapshot, ShiftTally
from station.core.decision import Outcome
from station.core.ports import ModelInfo
from station.core.thresholds import ThresholdSet
from station.pipeline import CameraState, CameraStatus, PartResult, PipelineSetup
from station.ui.view_models.banner import BannerKind, BannerState, banner_for
from station.ui.workers.inspection_worker import InspectionWorker

RECENT_REJECTS = 8
SHUTDOWN_WAIT_MS = 15000
_PARKED: list[tuple[QThread, QObject]] = []
"""Threads that did not stop in time, kept referenced so Qt never destroys a running one."""


@dataclass(frozen=True, slots=True)
class StationContext:
    """Facts about this station's set-up that the window displays."""

    recipe_name: str
    recipe_path: str
    product: str
    model: ModelInfo
    camera_kind: str = ""
    db_path: str = ""


class StationViewModel(QObject):
    """Owns the worker thread; turns worker results into the window's state."""

    part_inspected = Signal(object)  # PartResult
    counters_changed = Signal(object)  # CounterSnapshot
    rejects_changed = Signal()
    banner_changed = Signal(object)  # BannerState
    camera_changed = Signal(object)  # CameraStatus
    running_changed = Signal(bool)
    thresholds_changed = Signal(object)  # ThresholdSet
    latency_changed = Signal(float)
    fault_raised = Signal(str)

    # Commands to the worker (queued to its thread).
    _start_requested = Signal()
    _stop_requested = Signal()
    _trigger_requested = Signal()
    _thresholds_requested = Signal(object)
    _shutdown_requested = Signal(str)

    def __init__(
        self,
        setup: PipelineSetup,
        context: StationContext,
        parent: QObject | None = None,
        *,
        launch: bool = True,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self._tally = ShiftTally()
        self._counters = self._tally.snapshot()
        self._latest: PartResult | None = None
        self._rejects: deque[PartResult] = deque(maxlen=RECENT_REJECTS)
        self._banner = BannerState(BannerKind.IDLE, "STOPPED", "press F5 to start inspection")
        self._camera = CameraStatus(CameraState.STOPPED)
        self._running = False
        self._thresholds = setup.thresholds
        self._latency_ms: float | None = None
        self._faults: deque[str] = deque(maxlen=20)
        self._closed = False
        self._launched = False

        self._thread = QThread()
        self._thread.setObjectName("InspectionWorker")
        self._worker = InspectionWorker(setup)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.on_thread_started)

        w = self._worker
        w.part_inspected.connect(self._on_part)
        w.camera_changed.connect(self._on_camera)
        w.running_changed.connect(self._on_running)
        w.thresholds_applied.connect(self._on_thresholds)
        w.fault.connect(self._on_fault)
        self._start_requested.connect(w.start)
        self._stop_requested.connect(w.stop)
        self._trigger_requested.connect(w.trigger)
        self._thresholds_requested.connect(w.set_thresholds)
        self._shutdown_requested.connect(w.shutdown)
        if launch:
            self.launch()

    def launch(self) -> None:
        """Start the inspection thread. A composition root calls this once whatever stops
        it (the window's close, `shutdown`) is in place; `launch=True` does it at once."""
        if not self._launched:
            self._launched = True
            self._thread.start()

    # ---- state ------------------------------------------------------------------------------

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.context.model.class_names

    @property
    def latest_part(self) -> PartResult | None:
        """The newest part; the live view polls this on a timer (latest wins)."""
        return self._latest

    @property
    def counters(self) -> CounterSnapshot:
        return self._counters

    @property
    def recent_rejects(self) -> tuple[PartResult, ...]:
        """Newest first."""
        return tuple(reversed(self._rejects))

    @property
    def banner(self) -> BannerState:
        return self._banner

    @property
    def camera(self) -> CameraStatus:
        return self._camera

    @property
    def running(self) -> bool:
        return self._running

    @property
    def thresholds(self) -> ThresholdSet:
        return self._thresholds

    @property
    def thresholds_need_retuning(self) -> bool:
        return self._thresholds.needs_retuning(self.context.model.sha256)

    @property
    def latency_ms(self) -> float | None:
        return self._latency_ms

    @property
    def faults(self) -> tuple[str, ...]:
        return tuple(self._faults)

    @property
    def closed(self) -> bool:
        return self._closed

    # ---- commands ---------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        if not self._closed:
            self._start_requested.emit()

    @Slot()
    def stop(self) -> None:
        if not self._closed:
            self._stop_requested.emit()

    @Slot()
    def trigger(self) -> None:
        if not self._closed:
            self._trigger_requested.emit()

    def seed_counters(self, shift_id: str, passed: int, rejected: int, no_decision: int) -> None:
        """Start the shift counters from what the log already holds (a restart mid-shift)."""
        self._tally.seed(shift_id, passed, rejected, no_decision)
        self._counters = self._tally.snapshot()
        self.counters_changed.emit(self._counters)

    def apply_thresholds(self, thresholds: ThresholdSet) -> None:
        """Judge parts from the next one on with `thresholds` (never the part in progress)."""
        if not self._closed:
            self._thresholds_requested.emit(thresholds)

    def shutdown(self, reason: str = "window closed") -> bool:
        """Stop inspecting, log why, close camera and log, and end the thread. True if it ended."""
        if self._closed:
            return not self._thread.isRunning()
        self.launch()  # never launched: the worker still has to close the camera and the log
        self._closed = True
        self._shutdown_requested.emit(reason)
        ended = bool(self._thread.wait(SHUTDOWN_WAIT_MS))
        if not ended:
            # A camera read that never returns. Never terminate a thread (it could die inside
            # a log commit); leave it parked, and say so. Every part it logged is committed.
            _PARKED.append((self._thread, self._worker))
            self._on_fault(
                f"the inspection thread did not stop within {SHUTDOWN_WAIT_MS / 1000:g} s "
                "(a camera read that never returns); it is left to end with the process"
            )
        return ended

    # ---- worker results (GUI thread) --------------------------------------------------------

    @Slot(object)
    def _on_part(self, part: PartResult) -> None:
        ins = part.inspection
        self._latest = part
        self._counters = self._tally.add(ins.outcome, ins.time_utc, ins.shift_id)
        if ins.latency_ms > 0:
            self._latency_ms = ins.latency_ms
            self.latency_changed.emit(ins.latency_ms)
        if ins.outcome is Outcome.REJECT:
            self._rejects.append(part)
            self.rejects_changed.emit()
        self._set_banner(banner_for(part))
        self.part_inspected.emit(part)
        self.counters_changed.emit(self._counters)

    @Slot(object)
    def _on_camera(self, status: CameraStatus) -> None:
        self._camera = status
        if status.state is CameraState.LOST:
            why = status.message.split(": ", 1)[-1] if status.message else "no frames"
            detail = f"{why}\nreconnecting, attempt {status.attempt}\nno part passes meanwhile"
            self._set_banner(BannerState(BannerKind.CAMERA_LOST, "CAMERA LOST", detail))
        elif status.state is CameraState.FAULT:
            detail = f"{status.message.removeprefix('camera configuration: ')}\ninspection stopped"
            self._set_banner(BannerState(BannerKind.CAMERA_LOST, "CAMERA FAULT", detail))
        elif status.state is CameraState.CONNECTED and self._banner.kind is BannerKind.CAMERA_LOST:
            self._set_banner(
                BannerState(BannerKind.IDLE, "CAMERA BACK", "waiting for the next part")
            )
        elif status.state is CameraState.STOPPED and not self._running:
            self._set_banner(
                BannerState(BannerKind.IDLE, "STOPPED", "press F5 to start inspection")
            )
        self.camera_changed.emit(status)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._running = running
        if running and self._banner.kind is BannerKind.IDLE:
            self._set_banner(BannerState(BannerKind.IDLE, "RUNNING", "waiting for the first part"))
        elif not running:
            self._set_banner(
                BannerState(BannerKind.IDLE, "STOPPED", "press F5 to start inspection")
            )
        self.running_changed.emit(running)

    @Slot(object)
    def _on_thresholds(self, thresholds: ThresholdSet) -> None:
        self._thresholds = thresholds
        self.thresholds_changed.emit(thresholds)

    @Slot(str)
    def _on_fault(self, message: str) -> None:
        self._faults.append(message)
        self.fault_raised.emit(message)

    def _set_banner(self, banner: BannerState) -> None:
        self._banner = banner
        self.banner_changed.emit(banner)
