"""What the tuning view-model holds and emits: the saved and dragged threshold sets.

`TuningState` is the base of `TuningViewModel`: the signals, the two threshold sets
(saved: in force on the line; dragged: on the sliders), the selected class and the
figures at the dragged set. Every number comes from the core through `trial` (a
SizedSample: the sample under the size rules tried). The view-model's other concerns
(`SampleTuning`, `SetChanges`) are mixins that see this class as their base when
type-checked. By cost:

- `point_moved(Figures)`: on every slider move; confusion, cost, the operating
  point, the changed parts. This is the per-frame path (~2-4 ms on 100k x 8).
- `curves_changed(Curves)`: when the selected class or another class's
  threshold changes: the histogram and the FAR/FRR curves.
- `sample_changed()`, `saved_changed()`, `banner_changed(str)`, `message(str)`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal, Slot

from station.core.costs import Costs
from station.core.thresholds import ThresholdSet
from station.services.threshold_change import ThresholdChanger
from station.services.tuning_samples import LoadedSample
from station.ui.tuning.apply_vm import ThresholdApplier
from station.ui.tuning.figures import DEFAULT_KEY, Figures, PartDetail
from station.ui.tuning.live_monitor import LiveMonitor
from station.ui.tuning.recommending import ThresholdSearch
from station.ui.tuning.sample_figures import SampleFigures
from station.ui.tuning.sample_loader import SampleLoader
from station.ui.tuning.sized_sample import SizedSample


class TuningState(QObject):
    point_moved = Signal(object)  # Figures
    curves_changed = Signal(object)  # Curves
    sample_changed = Signal()
    saved_changed = Signal()
    dragged_reset = Signal()  # the dragged set moved as a whole (recommendation, apply, undo)
    banner_changed = Signal(str)
    message = Signal(str)
    busy = Signal(bool, str)
    progress = Signal(int, int)
    live_changed = Signal(str)
    drift_changed = Signal(object)  # DriftReport
    samples_listed = Signal(object)  # list[SampleEntry]
    sizes_changed = Signal()  # the size rules tried, or whether the sample can try them

    # Set by TuningViewModel.__init__.
    class_names: tuple[str, ...]
    model_sha256: str
    rejecting: npt.NDArray[np.bool_]
    costs: Costs
    changer: ThresholdChanger | None
    samples: SampleLoader
    applier: ThresholdApplier
    search: ThresholdSearch
    monitor: LiveMonitor
    saved: ThresholdSet
    dragged: ThresholdSet
    trial: SizedSample
    selected: str
    last_figures: Figures | None

    # ---- state ------------------------------------------------------------------------------
    @property
    def banner(self) -> str:
        if not self.saved.needs_retuning(self.model_sha256):
            return ""
        sha = self.saved.model_sha256
        tuned = f"model {sha[:12]}" if sha else "no recorded model"
        return (
            f"Thresholds need re-tuning: they were tuned on {tuned}, "
            f"this model is {self.model_sha256[:12]}. Tune on a sample and apply a new set."
        )

    @property
    def can_apply(self) -> bool:
        return self.changer is not None

    def threshold(self, key: str) -> float:
        if key == DEFAULT_KEY:
            return self.dragged.default_threshold
        return self.dragged.threshold_for(key)

    def saved_threshold(self, key: str) -> float:
        if key == DEFAULT_KEY:
            return self.saved.default_threshold
        return self.saved.threshold_for(key)

    def default_users(self) -> tuple[str, ...]:
        """Classes whose threshold is the default (not listed in the set)."""
        return tuple(c for c in self.class_names if c not in self.dragged.class_thresholds)

    def vector(self, ts: ThresholdSet) -> npt.NDArray[np.float32]:
        return ts.vector(self.class_names)

    @property
    def loaded(self) -> LoadedSample | None:
        """The sample as scored under the size rules tried."""
        return self.trial.loaded

    @property
    def _figures(self) -> SampleFigures | None:
        return self.trial.figures

    # ---- moving thresholds ------------------------------------------------------------------
    @Slot(str)
    def select(self, key: str) -> None:
        if key == DEFAULT_KEY:
            users = self.default_users()
            if not users:
                return
            key = users[0] if self.selected not in users else self.selected
        if key != self.selected:
            self.selected = key
            self.refresh()

    @Slot(str, float)
    def set_threshold(self, key: str, value: float) -> None:
        """A slider moved: `key` is a class name or DEFAULT_KEY."""
        if key == DEFAULT_KEY:
            self.dragged = ThresholdSet(
                self.dragged.class_thresholds, value, self.dragged.model_sha256
            )
            self.select(DEFAULT_KEY)
        else:
            self.dragged = self.dragged.with_thresholds({key: value})
            self.selected = key
        self.refresh()

    def set_dragged(self, ts: ThresholdSet) -> None:
        """Move every slider to `ts` (recommendation, undo, revert)."""
        self.dragged = ts
        self.dragged_reset.emit()
        self.refresh()

    def refresh(self, force_curves: bool = False) -> None:
        """Recompute and emit the figures (and the curves when they changed or when forced)."""
        c = self.class_names.index(self.selected) if self.selected in self.class_names else 0
        shown = self.trial.at(self.vector(self.dragged), c, self.costs, force_curves)
        if shown is None:
            return
        figures, curves = shown
        if curves is not None:
            self.curves_changed.emit(curves)
        self.last_figures = figures
        self.point_moved.emit(figures)

    def part_detail(self, i: int) -> PartDetail:
        assert self._figures is not None
        return self._figures.part_detail(i, self.vector(self.saved), self.vector(self.dragged))
