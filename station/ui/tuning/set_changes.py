"""The tuning view-model's whole-set changes: recommended onto the sliders, applied, undone.

A mixin of `TuningViewModel`. A recommendation (`search`, ThresholdSearch) moves
every slider to the set it found; apply and undo (`applier`, ThresholdApplier: the
PIN-guarded transaction) make the dragged set the one in force, audited with the
figures the supervisor saw. Each ends in `dragged_reset`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot

from station.core import recommendation
from station.services.threshold_change import AppliedChange, ThresholdChange
from station.ui.tuning.apply_vm import change_summary, figures_for_audit
from station.ui.tuning.recommending import (
    ESCAPE_CAP,
    MIN_COST,
    Searched,
    recommendation_line,
)

if TYPE_CHECKING:
    from station.ui.tuning.tuning_state import TuningState as _Base
else:
    _Base = object


@dataclass(frozen=True, slots=True)
class Actions:
    """Which whole-set changes the tab offers now, and why Apply is not offered."""

    apply: bool
    apply_tip: str
    undo: bool
    revert: bool


class SetChanges(_Base):
    def actions(self, changing_model: bool) -> Actions:
        """Apply when the sliders differ from the set in force or the model changed under it;
        no apply or undo while a promotion or rollback is in flight (`changing_model`);
        revert when sliders or size controls moved."""
        differs = self.dragged != self.saved
        free = not changing_model
        return Actions(
            apply=self.can_apply and (differs or bool(self.banner)) and free,
            apply_tip="" if self.can_apply else "applying needs the station's recipe and log",
            undo=self.can_undo and free,
            revert=differs or self.trial.tried,
        )

    # ---- recommendations: `search` (ThresholdSearch) ------------------------------------------
    @Slot()
    def recommend_min_cost(self) -> None:
        self._recommend(MIN_COST)

    @Slot()
    def recommend_escape_cap(self) -> None:
        self._recommend(ESCAPE_CAP)

    def _recommend(self, which: str) -> None:
        """Search off the GUI thread with progress (cancellable); sliders move when done."""
        self.search.recommend(which, self.trial, self.costs, self.vector(self.dragged))

    @Slot(object)
    def _on_recommended(self, result: object) -> None:
        assert isinstance(result, Searched)
        rec = result.result
        assert isinstance(rec, recommendation.Recommendation)
        # Exact levels, not rounded to the slider's 0.01 grid: where scores crowd together
        # (a weak model), rounding can cost dozens of parts. The next drag snaps to the grid.
        exact = {name: float(v) for name, v in rec.thresholds.items()}
        self.set_dragged(self.dragged.with_thresholds(exact))
        assert self.last_figures is not None
        line = recommendation_line(result.which, rec, self.last_figures, self.costs.max_escape_rate)
        self.message.emit(line)

    # ---- apply / undo: `applier` (ThresholdApplier) -------------------------------------------
    def pin_is_set(self) -> bool:
        return self.applier.pin_is_set()

    def figures_dict(self) -> dict[str, object]:
        label = self.loaded.label if self.loaded else None
        return figures_for_audit(self.last_figures, label)

    def apply_summary(self) -> str:
        return change_summary(self.saved, self.dragged, self.model_sha256, self.last_figures)

    def apply(self, who: str, pin: str, reason: str) -> bool:
        """Start the apply transaction off the GUI thread; False (with a message) when refused
        before it starts; the changer delivers the new set when it went through."""
        if self.trial.tried:  # the figures assume size rules the line lacks
            self.message.emit(
                "not applied: the figures assume size rules the recipe does not have "
                f"({self.trial.sizes.describe() or 'none'}); write them into the recipe's "
                "[size_rules] and reopen it, or Revert the size controls"
            )
            return False
        change = ThresholdChange(
            who, reason, self.saved, self.dragged, self.model_sha256, self.figures_dict()
        )
        return self.applier.apply(change, pin)

    def undo(self, who: str, pin: str, reason: str) -> bool:
        return self.applier.undo(who, reason, pin, self.saved)

    @property
    def can_undo(self) -> bool:
        return self.applier.can_undo

    @Slot(object)
    def _on_applied(self, done: object) -> None:
        assert isinstance(done, AppliedChange)
        self.saved = done.applied
        self.dragged = done.applied
        if self._figures is not None:
            self._figures.set_saved(self.vector(self.saved))
        self.saved_changed.emit()
        self.dragged_reset.emit()
        self.banner_changed.emit(self.banner)
        verb = "undone" if done.change.undo else "applied"
        self.message.emit(f"thresholds {verb}: {done.change.describe()}")
        self.refresh()
