"""The inspection loop on its own QThread: camera → detector → decision → log → GUI.

The worker owns the camera, the detector session and the log connection;
every call to them happens on the worker's thread. One part is inspected per
turn of the thread's event loop (a zero-interval timer), so commands queued
by the GUI (start, stop, trigger, new thresholds, shutdown) run *between*
two parts and never in the middle of one.

Fail safe: whatever goes wrong with a part (camera lost, model error, NaN
score, corrupt or wrong-size frame, log failure) makes it NO DECISION with
the reason in words; the loop goes on. A lost camera is reopened with
backoff and inspection resumes by itself. The outcome reaches the GUI only
after the log has the record; a part the log refused is shown as NO DECISION.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from station.core.decision import Decision, DecisionPolicy, Outcome, no_decision
from station.core.detections import Detections
from station.core.inspection import Inspection, threshold_set_id
from station.core.ports import CameraInfo, CameraLost, Detector, DetectorError, Frame, FrameSource
from station.core.shifts import ShiftSchedule
from station.core.thresholds import ThresholdSet
from station.sources.errors import CorruptFrame, SourceExhausted
from station.ui.workers.frame_check import frame_problem

DEFAULT_BACKOFF_S: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)


class InspectionLog(Protocol):
    """What the worker needs of the log (station.storage.log.SqliteInspectionLog)."""

    def record(self, inspection: Inspection) -> Any: ...

    def record_event(self, kind: str, message: str, **details: Any) -> Any: ...

    def register_thresholds(self, thresholds: ThresholdSet) -> Any: ...

    def close(self) -> None: ...


class CameraState(StrEnum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """The camera as the operator should see it. `retry_in_s` is set while reconnecting."""

    state: CameraState
    info: CameraInfo | None = None
    message: str = ""
    attempt: int = 0
    retry_in_s: float | None = None


@dataclass(frozen=True, slots=True)
class PartResult:
    """One inspected part as the GUI shows it, emitted after the log committed it.

    `detections` is everything the detector returned, near misses included;
    `thresholds` and `rejecting` are the per-class vectors the part was judged with.
    `image` is the read-only frame (None when there was no frame).
    """

    inspection: Inspection
    image: npt.NDArray[np.uint8] | None
    detections: Detections
    thresholds: npt.NDArray[np.float32]
    rejecting: npt.NDArray[np.bool_]
    logged: bool = True
    row_id: int | None = None

    @property
    def outcome(self) -> Outcome:
        return self.inspection.outcome


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """Everything the worker needs, built by the composition root (station.app).

    `open_log` is called on the worker thread, so the SQLite connection lives there.
    `read_timeout_s` bounds one camera read; `backoff_s` are the waits between
    reconnect attempts (the last one repeats).
    """

    source: FrameSource
    detector: Detector
    thresholds: ThresholdSet
    reject_classes: tuple[str, ...] | None
    open_log: Callable[[], InspectionLog]
    station_id: str = "station"
    product: str = ""
    shifts: ShiftSchedule = field(default_factory=ShiftSchedule)
    read_timeout_s: float = 2.0
    backoff_s: tuple[float, ...] = DEFAULT_BACKOFF_S


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__


class InspectionWorker(QObject):
    """Lives on its QThread; talk to it only through queued signals (see StationViewModel)."""

    part_inspected = Signal(object)  # PartResult
    camera_changed = Signal(object)  # CameraStatus
    running_changed = Signal(bool)
    thresholds_applied = Signal(object)  # ThresholdSet
    fault = Signal(str)  # an error the operator must see (log down, bad thresholds, bug)
    finished = Signal()

    def __init__(self, setup: WorkerSetup) -> None:
        super().__init__()
        self._setup = setup
        self._class_names = tuple(setup.detector.info.class_names)
        self._thresholds = setup.thresholds
        self._policy = DecisionPolicy.build(
            setup.thresholds, self._class_names, setup.reject_classes
        )
        self._ts_id = threshold_set_id(setup.thresholds)
        self._log: InspectionLog | None = None
        self._camera: CameraInfo | None = None
        self._expected_wh: tuple[int, int] | None = None
        self._running = False
        self._triggers = 0
        self._attempt = 0
        self._lost = False
        self._last_sequence = 0
        self._loop: QTimer | None = None
        self._retry: QTimer | None = None
        self._shut = False

    # ---- lifecycle (all on the worker thread) ---------------------------------------------

    @Slot()
    def on_thread_started(self) -> None:
        """Create the timers here so they belong to the worker's thread."""
        self._loop = QTimer(self)
        self._loop.setInterval(0)
        self._loop.timeout.connect(self._step)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._try_open)
        self._open_log()
        self._event("station_started", "station started", product=self._setup.product)
        self.camera_changed.emit(CameraStatus(CameraState.STOPPED))
        self.thresholds_applied.emit(self._thresholds)

    @Slot(str)
    def shutdown(self, reason: str) -> None:
        """Stop, close camera and log (logging why), and end the thread's event loop."""
        if self._shut:
            return
        self._shut = True
        self._halt(f"inspection stopped: {reason}")
        self._event("station_stopped", f"station stopped: {reason}")
        if self._log is not None:
            try:
                self._log.close()
            except Exception as exc:  # report, never swallow
                self.fault.emit(f"log: could not close: {_one_line(exc)}")
            self._log = None
        self.finished.emit()
        # Hand the object back to the GUI thread so its deletion there is legal.
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()

    # ---- commands from the GUI (queued: they run between two parts) -----------------------

    @Slot()
    def start(self) -> None:
        if self._shut or self._running:
            return
        self._running = True
        self._event("inspection_started", "inspection started")
        self.running_changed.emit(True)
        self._kick()

    @Slot()
    def stop(self) -> None:
        if self._shut or not self._running:
            return
        self._halt("inspection stopped by operator")

    @Slot()
    def trigger(self) -> None:
        """Inspect one part now (when stopped; while running every part is inspected anyway)."""
        if self._shut or self._running:
            return
        self._triggers += 1
        self._kick()

    @Slot(object)
    def set_thresholds(self, thresholds: ThresholdSet) -> None:
        """Judge the next part with `thresholds` (this slot never runs mid-part)."""
        try:
            policy = DecisionPolicy.build(thresholds, self._class_names, self._setup.reject_classes)
        except Exception as exc:
            self.fault.emit(f"thresholds not applied: {_one_line(exc)}")
            return
        self._policy = policy
        self._thresholds = thresholds
        self._ts_id = threshold_set_id(thresholds)
        self._register(thresholds)
        self._event(
            "thresholds_changed",
            "thresholds changed",
            threshold_set_id=self._ts_id,
            thresholds=thresholds.resolved(self._class_names),
        )
        self.thresholds_applied.emit(thresholds)

    # ---- the loop ---------------------------------------------------------------------------

    def _wanted(self) -> bool:
        return self._running or self._triggers > 0

    def _kick(self) -> None:
        if not self._wanted() or self._shut:
            return
        if self._camera is None:
            if self._retry is not None and not self._retry.isActive():
                self._try_open()
            return
        if self._loop is not None and not self._loop.isActive():
            self._loop.start()

    def _halt(self, message: str) -> None:
        was_running = self._running
        self._running = False
        self._triggers = 0
        if self._loop is not None:
            self._loop.stop()
        if self._retry is not None:
            self._retry.stop()
        self._close_camera()
        self._lost = False
        self._attempt = 0
        self.camera_changed.emit(CameraStatus(CameraState.STOPPED))
        if was_running:
            self._event("inspection_stopped", message)
            self.running_changed.emit(False)

    @Slot()
    def _try_open(self) -> None:
        if not self._wanted() or self._shut:
            return
        self.camera_changed.emit(CameraStatus(CameraState.CONNECTING, attempt=self._attempt))
        try:
            info = self._setup.source.open()
        except Exception as exc:
            self._camera_lost(f"camera unavailable: {_one_line(exc)}")
            return
        self._camera = info
        self._expected_wh = (info.width, info.height) if info.width and info.height else None
        if self._lost:
            self._event("camera_found", f"camera {info.name} reconnected", attempts=self._attempt)
        self._lost = False
        self._attempt = 0
        self.camera_changed.emit(CameraStatus(CameraState.CONNECTED, info))
        self._kick()

    def _camera_lost(self, why: str) -> None:
        """Close the camera, record the loss once, and schedule the next attempt."""
        self._close_camera()
        if self._loop is not None:
            self._loop.stop()
        if not self._lost:
            self._lost = True
            self._event("camera_lost", why)
        backoff = self._setup.backoff_s or DEFAULT_BACKOFF_S
        wait_s = backoff[min(self._attempt, len(backoff) - 1)]
        self._attempt += 1
        self.camera_changed.emit(
            CameraStatus(CameraState.LOST, message=why, attempt=self._attempt, retry_in_s=wait_s)
        )
        if self._retry is not None and self._wanted():
            self._retry.start(max(1, round(wait_s * 1000)))

    def _close_camera(self) -> None:
        if self._camera is None:
            return
        self._camera = None
        try:
            self._setup.source.close()
        except Exception as exc:
            self.fault.emit(f"camera: could not close: {_one_line(exc)}")

    @Slot()
    def _step(self) -> None:
        if not self._wanted() or self._camera is None:
            if self._loop is not None:
                self._loop.stop()
            if self._wanted():
                self._kick()
            return
        if not self._running:
            self._triggers -= 1
        try:
            self._inspect_one()
        except Exception as exc:  # a bug in this loop: report it and keep going
            self.fault.emit(f"inspection loop error: {_one_line(exc)}\n{traceback.format_exc()}")

    def _inspect_one(self) -> None:
        n = len(self._class_names)
        try:
            frame = self._setup.source.read(self._setup.read_timeout_s)
        except CorruptFrame as exc:
            why = f"corrupt frame: {_one_line(exc)}"
            self._finish(None, no_decision(why), Detections.empty(), 0.0, exc.sequence)
            return
        except SourceExhausted as exc:
            self._halt(f"replay finished: {_one_line(exc)}")
            self.fault.emit(f"replay finished: {_one_line(exc)}")
            return
        except CameraLost as exc:
            why = f"camera lost: {_one_line(exc)}"
            self._finish(None, no_decision(why), Detections.empty(), 0.0, self._last_sequence + 1)
            self._camera_lost(why)
            return
        except Exception as exc:
            why = f"camera error: {_one_line(exc)}"
            self._finish(None, no_decision(why), Detections.empty(), 0.0, self._last_sequence + 1)
            self._camera_lost(why)
            return
        image = frame.image
        problem = frame_problem(image, self._expected_wh)
        if problem is not None:
            self._finish(frame, no_decision(problem), Detections.empty(), 0.0)
            return
        if self._expected_wh is None:
            self._expected_wh = (image.shape[1], image.shape[0])
        t0 = time.perf_counter()
        try:
            dets = self._setup.detector.detect(image)
        except DetectorError as exc:
            latency = (time.perf_counter() - t0) * 1e3
            self._finish(
                frame, no_decision(f"model error: {_one_line(exc)}"), Detections.empty(), latency
            )
            return
        except Exception as exc:
            latency = (time.perf_counter() - t0) * 1e3
            why = f"model error: {type(exc).__name__}: {_one_line(exc)}"
            self._finish(frame, no_decision(why), Detections.empty(), latency)
            return
        latency = (time.perf_counter() - t0) * 1e3
        decision = self._policy.decide(dets)
        if n and len(dets) and decision.outcome is not Outcome.NO_DECISION:
            bad_box = ~np.isfinite(dets.xyxy).all(axis=1)
            if bad_box.any():
                decision = no_decision("model returned a box with NaN or infinite coordinates")
        self._finish(frame, decision, dets, latency)

    def _finish(
        self,
        frame: Frame | None,
        decision: Decision,
        dets: Detections,
        latency_ms: float,
        sequence: int | None = None,
    ) -> None:
        """Log the part, then (only then) tell the GUI."""
        n = len(self._class_names)
        now = time.time()
        seq = frame.sequence if frame is not None else (sequence or 0)
        self._last_sequence = max(self._last_sequence, seq)
        image = frame.image if frame is not None else None
        keep_image = image is not None and decision.outcome is not Outcome.PASS
        if len(dets) and n:
            in_range = (dets.class_id >= 0) & (dets.class_id < n)
            max_scores = dets.select(in_range).max_score_per_class(n)
        else:
            max_scores = np.full(n, -np.inf, dtype=np.float32)
        truth = frame.truth.defective if frame is not None and frame.truth is not None else None
        inspection = Inspection(
            time_utc=now,
            station_id=self._setup.station_id,
            product=self._setup.product,
            sequence=seq,
            decision=decision,
            class_names=self._class_names,
            max_scores=max_scores,
            threshold_set_id=self._ts_id,
            model_sha256=self._setup.detector.info.sha256,
            latency_ms=float(latency_ms) if math.isfinite(latency_ms) else 0.0,
            frame=image if keep_image else None,
            truth_defective=truth,
            shift_id=self._setup.shifts.shift_at(now).id,
        )
        row_id = self._record(inspection)
        logged = row_id is not None
        if not logged:
            why = "log unavailable: part not recorded"
            inspection = replace(inspection, decision=no_decision(why), frame=image)
        self.part_inspected.emit(
            PartResult(
                inspection=inspection,
                image=image,
                detections=dets,
                thresholds=self._policy.thresholds,
                rejecting=self._policy.rejecting,
                logged=logged,
                row_id=row_id,
            )
        )

    # ---- the log ----------------------------------------------------------------------------

    def _open_log(self) -> bool:
        if self._log is not None:
            return True
        try:
            self._log = self._setup.open_log()
        except Exception as exc:
            self.fault.emit(f"log unavailable: {_one_line(exc)}")
            return False
        return True

    def _record(self, inspection: Inspection) -> int | None:
        """The row id once committed; None (and a fault) when the log refused the part."""
        if not self._open_log() or self._log is None:
            return None
        try:
            row = self._log.record(inspection)
        except Exception as exc:
            self.fault.emit(f"log unavailable: {_one_line(exc)}")
            return None
        return int(row) if isinstance(row, int) else -1

    def _register(self, thresholds: ThresholdSet) -> None:
        """Store the set under its id, so a logged part shows every class's threshold."""
        self._write_log(lambda log: log.register_thresholds(thresholds))

    def _event(self, kind: str, message: str, **details: Any) -> None:
        self._write_log(lambda log: log.record_event(kind, message, **details))

    def _write_log(self, write: Callable[[InspectionLog], object]) -> None:
        """`write(log)` now; a failure becomes a fault for the operator, never a crash."""
        if self._log is None and not self._open_log():
            return
        assert self._log is not None
        try:
            write(self._log)
        except Exception as exc:
            self.fault.emit(f"log unavailable: {_one_line(exc)}")
