"""Scores a sample off the GUI thread: a plain job function, progress and cancel.

As in Orange3's concurrent helpers, the long work is a plain function
`job(progress) -> result` (no Qt in it); this worker only runs it on a
QThread and reports `progress(done, total)`, `finished(result)` or
`failed(message)`. Deliver these signals to slots of QObjects living on the
GUI thread (the view-model), never to lambdas.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from station.core.errors import StationError

Progress = Callable[[int, int], None]


class CancelledError(Exception):
    """Raised inside a job by `progress` once cancel was asked."""


class ScoringWorker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Callable[[Progress], Any]):
        super().__init__()
        self._job = job
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def _progress(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise CancelledError
        self.progress.emit(int(done), int(total))

    @Slot()
    def run(self) -> None:
        try:
            result = self._job(self._progress)
        except CancelledError:
            self.failed.emit("cancelled")
        except StationError as e:
            self.failed.emit(str(e))
        except Exception as e:  # a bug: say so, never swallow it silently
            self.failed.emit(f"{type(e).__name__}: {e}")
        else:
            self.finished.emit(result)


class JobRunner(QObject):
    """Owns one QThread per job; `wait()` joins it (tests, shutdown)."""

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: ScoringWorker | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, job: Callable[[Progress], Any]) -> None:
        if self.running:
            raise StationError("a sample is already being scored; wait or cancel it")
        thread = QThread()
        thread.setObjectName("ScoringWorker")
        worker = ScoringWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        thread.start()

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self._join()
        self.finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._join()
        self.failed.emit(message)

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread = None
        self._worker = None

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def wait(self) -> None:
        self.cancel()
        self._join()
