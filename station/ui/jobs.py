"""The one job runner for background work in the window: a plain job on its own QThread.

A job is a Qt-free function `job(progress) -> result` (`station.core.jobs`);
the runner gives it a `JobState` and reports `progress(done, total)`,
`finished(result)` or `failed(message)` ("cancelled" after `cancel`). Deliver
these signals to slots of QObjects living on the GUI thread (view-models),
never to lambdas. The runner registers everything that stops a thread
(its worker, the quit on completion) before the thread starts, and never
terminates one: `cancel` makes the job stop at its next progress report.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

from station.core.errors import StationError
from station.core.jobs import Job, JobCancelledError, JobState

CANCELLED = "cancelled"


class _JobWorker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job
        self.state = JobState(self.progress.emit)

    @Slot()
    def run(self) -> None:
        try:
            result = self._job(self.state)
        except JobCancelledError:
            self.failed.emit(CANCELLED)
        except StationError as e:
            self.failed.emit(str(e))
        except Exception as e:  # a bug: say so, never swallow it silently
            self.failed.emit(f"{type(e).__name__}: {e}")
        else:
            self.finished.emit(result)


class JobRunner(QObject):
    """Runs one job at a time on its own QThread; `wait()` cancels and joins (shutdown, tests)."""

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, name: str = "Job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._thread: QThread | None = None
        self._worker: _JobWorker | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, job: Job) -> None:
        if self.running:
            raise StationError(f"{self.name}: a job is already running; wait or cancel it")
        thread = QThread()
        thread.setObjectName(f"{self.name}Worker")
        worker = _JobWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker  # registered: `wait` can stop it
        thread.start()

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        if self._current():
            self._join()
            self.finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._current():
            self._join()
            self.failed.emit(message)

    def _current(self) -> bool:
        """False for a result queued by a job that `wait` already gave up on."""
        return self._worker is not None and self.sender() is self._worker

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread = None
        self._worker = None

    def cancel(self) -> None:
        """Ask the job to stop at its next progress report (`failed("cancelled")` follows)."""
        if self._worker is not None:
            self._worker.state.cancel()

    def wait(self) -> None:
        """Cancel the job and join its thread: returns once the job reached a progress report."""
        self.cancel()
        self._join()

    def join(self) -> None:
        """Let the job finish and join its thread; its result is dropped (shutdown)."""
        self._join()
