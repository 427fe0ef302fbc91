"""Applying and undoing a threshold set from the tuning view, off the GUI thread.

The transaction (`ThresholdChanger`: PIN, audit, recipe, running line) is a
PIN-guarded step on the job runner (`GuardedStep`): `applied(AppliedChange)`
follows when it went through, `message` says why not.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from station.core.jobs import Progress
from station.core.thresholds import ThresholdSet
from station.services.threshold_change import AppliedChange, ThresholdChange, ThresholdChanger
from station.ui.tuning.figures import Figures
from station.ui.tuning.guarded_step import GuardedStep


class ThresholdApplier(GuardedStep):
    STEP = "a threshold change"
    UNDER_WAY = "a threshold change is already being applied"

    applied = Signal(object)  # AppliedChange

    def __init__(self, changer: ThresholdChanger | None, parent: QObject | None = None) -> None:
        super().__init__("Apply", parent)
        self.changer = changer

    @property
    def can_undo(self) -> bool:
        return self.changer is not None and bool(self.changer.history)

    def pin_is_set(self) -> bool:
        return self.changer is not None and self.changer.pin_is_set()

    def apply(self, change: ThresholdChange, pin: str) -> bool:
        """Start applying `change`; False (with a message) when refused before it starts."""
        return self._begin(change.who, change.reason, pin, change, None)

    def undo(self, who: str, reason: str, pin: str, current: ThresholdSet) -> bool:
        """Start re-applying the set in force before the last change (audited too)."""
        return self._begin(who, reason, pin, None, current)

    def _begin(
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

        def job(progress: Progress) -> AppliedChange:
            if change is not None:
                return changer.apply(change, pin)
            assert current is not None
            return changer.undo_change(who, reason, pin, current)

        answers = (("reason", reason), ("who", who))
        return self._start(job, "not applied", "checking the PIN", answers)

    def _done(self, result: object) -> None:
        self.applied.emit(result)


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
