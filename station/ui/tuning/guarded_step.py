"""A PIN-guarded step (a threshold change, a model change) as a job on the job runner.

The supervisor PIN is checked with scrypt, slow on purpose, and the step writes the
recipe and the audit trail, so it runs off the GUI thread. Refusals that need no PIN
(a blank answer, a step already under way) are said at once. A step in flight is
joined, never cut short: `wait` lets the transaction finish. `busy(True, doing)` when
a step starts, `busy(False, "")` when it ends; a refusal from the step is one
`message`, prefixed with what was refused unless it is about the PIN itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from station.core.jobs import Job
from station.ui.jobs import JobRunner

PIN_REFUSALS = ("wrong PIN", "too many wrong PINs")


class GuardedStep(QObject):
    """Subclasses name the step (`STEP`, `UNDER_WAY`) and say what a result means (`_done`)."""

    STEP = "a change"  # "a threshold change needs a reason"
    UNDER_WAY = "a change is already under way"

    message = Signal(str)
    busy = Signal(bool, str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(name, self)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self._refused = ""  # what a failure of the step in flight says was not done

    def _start(
        self, job: Job, refused: str, doing: str, answers: Sequence[tuple[str, str]] = ()
    ) -> bool:
        """Start `job` unless an answer (name, value) is blank or a step is under way;
        False (with a message) when refused before it starts."""
        for name, value in answers:
            if not value.strip():
                self.message.emit(f"{refused}: {name}: {self.STEP} needs a {name}")
                return False
        if self.runner.running:
            self.message.emit(self.UNDER_WAY)
            return False
        self._refused = refused
        self.runner.start(job)
        self.busy.emit(True, doing)
        return True

    def wait(self) -> None:
        """Join a step in flight: a transaction is finished, never cut short."""
        self.runner.join()

    def _done(self, result: object) -> None:
        """What the finished step's result means (the subclass says it)."""
        raise NotImplementedError

    @Slot(object)
    def _on_done(self, done: object) -> None:
        self.busy.emit(False, "")
        self._done(done)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.busy.emit(False, "")
        wrong_pin = message.startswith(PIN_REFUSALS)
        self.message.emit(message if wrong_pin else f"{self._refused}: {message}")
