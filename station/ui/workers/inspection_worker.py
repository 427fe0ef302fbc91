"""The window's inspection pipeline on its own QThread: scheduling and signals only.

The pipeline itself (`station.pipeline.InspectionPipeline`) is Qt-free; this worker
steps it on a single-shot timer, one part per turn of the thread's event loop, so
commands queued by the GUI (start, stop, trigger, new thresholds, shutdown) run
*between* two parts and never in the middle of one, and re-emits what the pipeline
reports as signals for the view-model on the GUI thread.
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from station.core.thresholds import ThresholdSet
from station.pipeline import InspectionPipeline, PipelineSetup
from station.pipeline.acquisition import one_line
from station.pipeline.results import CameraStatus, PartResult


class _Relay:
    """The pipeline's events as the worker's signals (emitted on the worker's thread)."""

    def __init__(self, worker: InspectionWorker) -> None:
        self._w = worker

    def part_inspected(self, part: PartResult) -> None:
        self._w.part_inspected.emit(part)

    def camera_changed(self, status: CameraStatus) -> None:
        self._w.camera_changed.emit(status)

    def running_changed(self, running: bool) -> None:
        self._w.running_changed.emit(running)

    def thresholds_applied(self, thresholds: ThresholdSet) -> None:
        self._w.thresholds_applied.emit(thresholds)

    def fault(self, message: str) -> None:
        self._w.fault.emit(message)


class InspectionWorker(QObject):
    """Lives on its QThread; talk to it only through queued signals (see StationViewModel)."""

    part_inspected = Signal(object)  # PartResult
    camera_changed = Signal(object)  # CameraStatus
    running_changed = Signal(bool)
    thresholds_applied = Signal(object)  # ThresholdSet
    fault = Signal(str)  # an error the operator must see (log down, bad thresholds, bug)
    finished = Signal()

    def __init__(self, setup: PipelineSetup) -> None:
        super().__init__()
        self._pipeline = InspectionPipeline(setup, _Relay(self))
        self._timer: QTimer | None = None
        self._shut = False

    # ---- lifecycle (all on the worker thread) ---------------------------------------------

    @Slot()
    def on_thread_started(self) -> None:
        """Create the timer here so it belongs to the worker's thread."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._step)
        self._pipeline.begin()

    @Slot(str)
    def shutdown(self, reason: str) -> None:
        """Stop, close camera and log (logging why), and end the thread's event loop."""
        if self._shut:
            return
        self._shut = True
        if self._timer is not None:
            self._timer.stop()
        self._pipeline.shutdown(reason)
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
        self._pipeline.start()
        self._schedule(0.0)

    @Slot()
    def stop(self) -> None:
        self._pipeline.stop()

    @Slot()
    def trigger(self) -> None:
        self._pipeline.trigger()
        self._schedule(0.0)

    @Slot(object)
    def set_thresholds(self, thresholds: ThresholdSet) -> None:
        self._pipeline.set_thresholds(thresholds)

    # ---- the loop ---------------------------------------------------------------------------

    def _schedule(self, wait_s: float | None) -> None:
        if self._timer is None or self._shut:
            return
        if wait_s is None:
            self._timer.stop()
        else:
            self._timer.start(max(0, round(wait_s * 1000)))

    @Slot()
    def _step(self) -> None:
        try:
            wait_s = self._pipeline.step()
        except Exception as exc:  # a bug in the loop: report it and keep going
            self.fault.emit(f"inspection loop error: {one_line(exc)}\n{traceback.format_exc()}")
            wait_s = 0.0 if self._pipeline.running else None
        self._schedule(wait_s)
