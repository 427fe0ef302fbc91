"""Applying and undoing a threshold set from the tuning view, off the GUI thread.

The transaction (`ThresholdChanger`: PIN, audit, recipe, running line) checks
the PIN with scrypt, slow on purpose, so it runs as a job on the job runner;
`applied(AppliedChange)` follows when it went through, `message` says why not.
Refusals that need no PIN (no reason, no name) are said at once.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from station.core.jobs import Progress
from station.core.thresholds import ThresholdSet
from station.services.threshold_change import AppliedChange, ThresholdChange, ThresholdChanger
from station.ui.jobs import JobRunner
from station.ui.tuning.figures import Figures


class ThresholdApplier(QObject):
    applied = Signal(object)  # AppliedChange
    message = Signal(str)
    busy = Signal(bool, str)

    def __init__(self, changer: ThresholdChanger | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.changer = changer
        self.runner = JobRunner("Apply", self)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)

    @property
    def can_undo(self) -> bool:
        return self.changer is not None and bool(self.changer.history)

    def pin_is_set(self) -> bool:
        return self.changer is not None and self.changer.pin_is_set()

    def apply(self, change: ThresholdChange, pin: str) -> bool:
        """Start applying `change`; False (with a message) when refused before it starts."""
        return self._start(change.who, change.reason, pin, change, None)

    def undo(self, who: str, reason: str, pin: str, current: ThresholdSet) -> bool:
        """Start re-applying the set in force before the last change (audited too)."""
        return self._start(who, reason, pin, None, current)

    def _start(
        self,
        who: str,
        reason: str,
        pin: str,
        change: ThresholdChange | None,
        current: ThresholdSet | None,
    ) -> bool:
        changer = self.changer
        if changer is None:
            self.message.emit("applying is not available here (no recipe/log attached)")
            return False
        for name, value in (("reason", reason), ("who", who)):
            if not value.strip():
                self.message.emit(f"not applied: {name}: a threshold change needs a {name}")
                return False
        if self.runner.running:
            self.message.emit("a threshold change is already being applied")
            return False

        def job(progress: Progress) -> AppliedChange:
            if change is not None:
                return changer.apply(change, pin)
            assert current is not None
            return changer.undo_change(who, reason, pin, current)

        self.runner.start(job)
        self.busy.emit(True, "checking the PIN")
        return True

    def wait(self) -> None:
        """Join an apply in flight: a transaction is finished, never cut short."""
        self.runner.join()

    @Slot(object)
    def _on_done(self, done: object) -> None:
        self.busy.emit(False, "")
        self.applied.emit(done)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.busy.emit(False, "")
        wrong_pin = message.startswith(("wrong PIN", "too many wrong PINs"))
        self.message.emit(message if wrong_pin else f"not applied: {message}")


def figures_for_audit(f: Figures | None, sample_label: str | None) -> dict[str, object]:
    """The numbers the supervisor saw when applying, as the audit trail records them."""
    if f is None:
        return {}
    c = f.confusion
    return {
        "sample": sample_label,
        "parts": c.parts,
        "escapes": c.false_accepts,
        "defective_parts": c.defective_parts,
        "scrap": c.false_rejects,
        "good_parts": c.good_parts,
        "escape_text": f.escape_text,
        "scrap_text": f.scrap_text,
        "cost_per_1000": None if f.cost is None else round(f.cost.per_1000_parts, 3),
    }


def change_summary(
    saved: ThresholdSet, dragged: ThresholdSet, model_sha256: str, f: Figures | None
) -> str:
    """What the apply dialog shows: the moves, then escapes and scrap at the new set."""
    lines = [ThresholdChange("", "", saved, dragged, model_sha256).describe()]
    if f is not None:
        lines += [f.escape_text, f.scrap_text]
    return "\n".join(lines)
