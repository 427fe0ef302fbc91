"""The tuning view-model: a scored sample, the saved and the dragged threshold sets.

Every number shown comes from the core (`SweepCache.evaluate`, `expected_cost`,
the recommenders, `DriftMonitor`) through its parts: `SampleFigures` (the
numbers on one sample, under the size rules tried: `trial`, a SizedSample),
`samples` (SampleLoader), `search` (ThresholdSearch),
`applier` (ThresholdApplier) and `monitor` (LiveMonitor: the live estimate and
the drift alarm; the station connects its parts and confirmations there).
Widgets only render the frozen snapshots this object emits. By cost:

- `point_moved(Figures)`: on every slider move; confusion, cost, the operating
  point, the changed parts. This is the per-frame path (~2-4 ms on 100k x 8).
- `curves_changed(Curves)`: when the selected class or another class's
  threshold changes: the histogram and the FAR/FRR curves.
- `sample_changed()`, `saved_changed()`, `banner_changed(str)`, `message(str)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal, Slot

from station.core import recommendation
from station.core.costs import Costs
from station.core.drift import DriftMonitor
from station.core.errors import StationError
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet, reject_mask
from station.services.threshold_change import AppliedChange, ThresholdChange, ThresholdChanger
from station.services.tuning_samples import LoadedSample, SampleCatalog, SampleEntry
from station.ui.jobs import JobRunner
from station.ui.tuning.apply_vm import ThresholdApplier, change_summary, figures_for_audit
from station.ui.tuning.figures import (
    DEFAULT_KEY,
    Figures,
    PartDetail,
)
from station.ui.tuning.live import LiveEstimate
from station.ui.tuning.live_monitor import LiveMonitor
from station.ui.tuning.recommending import (
    ESCAPE_CAP,
    MIN_COST,
    Searched,
    ThresholdSearch,
    recommendation_line,
)
from station.ui.tuning.sample_figures import SampleFigures
from station.ui.tuning.sample_loader import SampleLoader
from station.ui.tuning.sized_sample import SizedSample


class TuningViewModel(QObject):
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
    applied = Signal(object)  # ThresholdSet now in force
    samples_listed = Signal(object)  # list[SampleEntry]
    sizes_changed = Signal()  # the size rules tried, or whether the sample can try them

    def __init__(
        self,
        class_names: Sequence[str],
        saved: ThresholdSet,
        model_sha256: str,
        reject_classes: Sequence[str] | None = None,
        costs: Costs | None = None,
        changer: ThresholdChanger | None = None,
        catalog: SampleCatalog | None = None,
        parent: QObject | None = None,
        size_rules: SizeRules | None = None,
    ):
        super().__init__(parent)
        self.class_names = tuple(class_names)
        saved.check_classes(self.class_names)
        self.model_sha256 = model_sha256
        self.reject_classes = tuple(reject_classes) if reject_classes is not None else None
        self.rejecting = reject_mask(self.class_names, self.reject_classes)
        self.costs = costs or Costs()
        self.changer = changer
        self.catalog = catalog
        self.samples = SampleLoader(catalog, self)
        self.samples.loaded.connect(self._on_loaded)
        for name in ("busy", "progress", "message", "samples_listed"):
            getattr(self.samples, name).connect(getattr(self, name))
        self.applier = ThresholdApplier(changer, self)
        self.applier.applied.connect(self._on_applied)
        self.applier.message.connect(self.message)
        self.applier.busy.connect(self.busy)
        self.search = ThresholdSearch(self)
        self.search.found.connect(self._on_recommended)
        for name in ("busy", "progress", "message"):
            getattr(self.search, name).connect(getattr(self, name))
        self.saved = saved
        self.dragged = saved
        self.trial = SizedSample(self.class_names, self.rejecting, size_rules or SizeRules())
        self.selected = self.class_names[0] if self.class_names else DEFAULT_KEY
        self.last_figures: Figures | None = None
        self.monitor = LiveMonitor(self)
        self.monitor.live_changed.connect(self.live_changed)
        self.monitor.drift_changed.connect(self.drift_changed)

    @classmethod
    def from_recipe(
        cls,
        recipe: Any,
        class_names: Sequence[str],
        model_sha256: str,
        changer: ThresholdChanger | None = None,
        catalog: SampleCatalog | None = None,
    ) -> TuningViewModel:
        return cls(
            class_names,
            recipe.thresholds,
            model_sha256,
            recipe.reject_classes,
            recipe.costs,
            changer,
            catalog,
            size_rules=recipe.size_rules,
        )

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

    # ---- sample -----------------------------------------------------------------------------
    @property
    def runner(self) -> JobRunner:
        """The sample-scoring job runner."""
        return self.samples.runner

    def sample_entries(self) -> list[SampleEntry]:
        return self.samples.entries()

    def load_default_sample(self) -> bool:
        """Score the shipped sample at start-up (drift reference) unless one is loaded."""
        return self.samples.load_default()

    @Slot(object)
    def load_sample(self, entry: SampleEntry) -> None:
        self.samples.load(entry)

    @Slot(object)
    def _on_loaded(self, loaded: LoadedSample) -> None:
        try:
            self.set_sample(loaded)
        except StationError as e:
            self.message.emit(f"sample not loaded: {e}")

    def shutdown(self) -> None:
        """Cancel a scoring or search job in flight (window closing, tests): each stops at its
        next progress report. An apply in flight is finished, never cut mid-transaction."""
        self.samples.runner.wait()
        self.rec_runner.wait()
        self.applier.wait()

    def pin_is_set(self) -> bool:
        return self.applier.pin_is_set()

    def set_sample(self, loaded: LoadedSample) -> None:
        s = loaded.sample
        if tuple(s.class_names) != self.class_names:
            raise StationError(
                f"sample {loaded.label}: classes {list(s.class_names)} differ from the "
                f"model's {list(self.class_names)}"
            )
        self.samples.remember(loaded)
        self.trial.use(loaded, self.vector(self.saved))
        assert self.loaded is not None
        # Parts without a decision have no scores: the drift reference skips them.
        self.monitor.set_reference(self.class_names, self.loaded.sample.scores)
        self.sample_changed.emit()
        self.sizes_changed.emit()
        self.banner_changed.emit(self.banner)
        self.refresh()

    # ---- size rules (station.core.size_rules): `trial` ----------------------------------------
    @property
    def loaded(self) -> LoadedSample | None:
        """The sample as scored under the size rules tried."""
        return self.trial.loaded

    @property
    def sizes(self) -> SizeRules:
        return self.trial.sizes

    @property
    def saved_sizes(self) -> SizeRules:
        return self.trial.saved_sizes

    @property
    def size_problem(self) -> str | None:
        """Why other size rules cannot be tried on the loaded sample, or None."""
        return self.trial.problem

    @property
    def _figures(self) -> SampleFigures | None:
        return self.trial.figures

    @Slot(str, str, float)
    def set_size_rule(self, class_name: str, measure: str, value: float) -> None:
        """A size control moved: `measure` "min_area" or "min_length", in the recipe's unit.

        The loaded sample's per-class maxima are recomputed from its cached detections."""
        if self.size_problem is not None:
            self.message.emit(f"size rules not changed: {self.size_problem}")
            self.sizes_changed.emit()
            return
        try:
            self.trial.try_rule(class_name, measure, value)
        except StationError as e:
            self.message.emit(f"size rule not changed: {e}")
        self._use_sizes()
        self.sizes_changed.emit()

    def _use_sizes(self) -> None:
        self.trial.rebuild(self.vector(self.saved))
        self.refresh()

    @property
    def ranking_problem(self) -> str | None:
        return None if self._figures is None else self._figures.ranking_problem

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

    @Slot()
    def revert(self) -> None:
        if self.trial.revert():
            self._use_sizes()
            self.sizes_changed.emit()
        self.set_dragged(self.saved)
        self.message.emit("sliders back at the saved thresholds and size rules")

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

    @property
    def cancellable(self) -> bool:
        """A sample is being scored or thresholds searched (an apply is never cut short)."""
        return self.samples.runner.running or self.rec_runner.running

    @Slot()
    def cancel_jobs(self) -> None:
        """Stop scoring or searching at the job's next progress report."""
        self.samples.runner.cancel()
        self.rec_runner.cancel()

    @property
    def rec_runner(self) -> JobRunner:
        """The threshold search's job runner."""
        return self.search.runner

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

    # ---- apply / undo -----------------------------------------------------------------------
    def figures_dict(self) -> dict[str, object]:
        label = self.loaded.label if self.loaded else None
        return figures_for_audit(self.last_figures, label)

    def apply_summary(self) -> str:
        return change_summary(self.saved, self.dragged, self.model_sha256, self.last_figures)

    def apply(self, who: str, pin: str, reason: str) -> bool:
        """Start the apply transaction off the GUI thread; False (with a message) when refused
        before it starts. `applied` follows when it went through."""
        if self.trial.tried:  # the figures assume size rules the line lacks
            self.message.emit(
                "not applied: the figures assume size rules the recipe does not have "
                f"({self.sizes.describe() or 'none'}); write them into the recipe's "
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
        self.applied.emit(done.applied)
        verb = "undone" if done.change.undo else "applied"
        self.message.emit(f"thresholds {verb}: {done.change.describe()}")
        self.refresh()

    # ---- live on the line: `monitor` (LiveMonitor) ------------------------------------------
    @property
    def live(self) -> LiveEstimate:
        return self.monitor.live

    @property
    def drift(self) -> DriftMonitor | None:
        return self.monitor.drift

    def live_text(self) -> str:
        return self.monitor.live.text()
