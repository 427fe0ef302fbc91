"""The tuning view-model: a scored sample, the saved and the dragged threshold sets.

Every number shown comes from the core (`SweepCache.evaluate`, `expected_cost`,
the recommenders, `DriftMonitor`); widgets only render the frozen snapshots
this object emits. Three signals, by cost:

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

from station.core import outcomes, recommend
from station.core.costs import Costs
from station.core.drift import DriftMonitor, DriftReport
from station.core.errors import StationError
from station.core.thresholds import ThresholdSet, reject_mask
from station.services.threshold_change import AppliedChange, ThresholdChange, ThresholdChanger
from station.services.tuning_samples import LoadedSample, SampleCatalog, SampleEntry
from station.ui.jobs import CANCELLED, JobRunner
from station.ui.tuning.apply_vm import ThresholdApplier
from station.ui.tuning.figures import (
    DEFAULT_KEY,
    MAX_CHANGED_SHOWN,
    ChangedParts,
    Curves,
    Figures,
    PartDetail,
    escape_text,
    scrap_text,
)
from station.ui.tuning.live import LiveEstimate
from station.ui.tuning.recommending import (
    ESCAPE_CAP,
    MIN_COST,
    Searched,
    recommendation_line,
    search_job,
)
from station.ui.tuning.sample_figures import SampleFigures
from station.ui.tuning.sample_loader import SampleLoader

__all__ = [
    "DEFAULT_KEY",
    "MAX_CHANGED_SHOWN",
    "ChangedParts",
    "Costs",
    "Curves",
    "Figures",
    "PartDetail",
    "TuningViewModel",
    "escape_text",
    "scrap_text",
]


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
        self.rec_runner = JobRunner("Search", self)
        self.rec_runner.progress.connect(self.progress)
        self.rec_runner.finished.connect(self._on_recommended)
        self.rec_runner.failed.connect(self._on_rec_failed)
        self.saved = saved
        self.dragged = saved
        self.selected = self.class_names[0] if self.class_names else DEFAULT_KEY
        self.loaded: LoadedSample | None = None
        self._figures: SampleFigures | None = None
        self._curve_key: tuple[Any, ...] | None = None
        self._last_curves: Curves | None = None
        self.last_figures: Figures | None = None
        self.drift: DriftMonitor | None = None
        self.live = LiveEstimate()

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
        )

    # ---- state ------------------------------------------------------------------------------
    @property
    def banner(self) -> str:
        if not self.saved.needs_retuning(self.model_sha256):
            return ""
        tuned = (self.saved.model_sha256 or "no recorded model")[:12]
        return (
            f"Thresholds need re-tuning: they were tuned on model {tuned}, "
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
        self.loaded = loaded
        self.samples.remember(loaded)
        self._figures = SampleFigures(loaded, self.rejecting)
        self._figures.set_saved(self.vector(self.saved))
        self._curve_key = None
        # Parts without a decision have no scores: the drift reference skips them.
        self.drift = DriftMonitor(self.class_names, s.scores)
        self.sample_changed.emit()
        self.banner_changed.emit(self.banner)
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
        self.set_dragged(self.saved)
        self.message.emit("sliders back at the saved thresholds")

    def refresh(self, force_curves: bool = False) -> None:
        """Recompute and emit the figures (and the curves when they changed or when forced)."""
        fig = self._figures
        if fig is None:
            return
        t = self.vector(self.dragged)
        c = self.class_names.index(self.selected) if self.selected in self.class_names else 0
        # Curves depend on the other classes' thresholds only: recompute them (a sweep) when
        # those change; a drag of the selected class only needs the confusion.
        others = tuple(float(x) for i, x in enumerate(t) if i != c)
        key = (c, others, fig.ranking_problem)
        new_curves = key != self._curve_key or force_curves
        conf, sweep = fig.confusion_and_sweep(t, c, with_sweep=new_curves)
        if new_curves:
            self._curve_key = key
            self._last_curves = fig.curves(c, sweep)
            self.curves_changed.emit(self._last_curves)
        figures = fig.figures(t, c, conf, self.costs)
        self.last_figures = figures
        self.point_moved.emit(figures)

    def part_detail(self, i: int) -> PartDetail:
        assert self._figures is not None
        return self._figures.part_detail(i, self.vector(self.saved), self.vector(self.dragged))

    # ---- recommendations --------------------------------------------------------------------
    def _check_recommendable(self) -> str | None:
        if self._figures is None or self.loaded is None:
            return "no sample loaded"
        return self._figures.ranking_problem

    @Slot()
    def recommend_min_cost(self) -> None:
        self._recommend(MIN_COST)

    @Slot()
    def recommend_escape_cap(self) -> None:
        if self.costs.max_escape_rate is None:
            self.message.emit("no recommendation: the recipe sets no escape-rate cap")
            return
        self._recommend(ESCAPE_CAP)

    @property
    def cancellable(self) -> bool:
        """A sample is being scored or thresholds searched (an apply is never cut short)."""
        return self.samples.runner.running or self.rec_runner.running

    @Slot()
    def cancel_jobs(self) -> None:
        """Stop scoring or searching at the job's next progress report."""
        self.samples.runner.cancel()
        self.rec_runner.cancel()

    def _recommend(self, which: str) -> None:
        """Search off the GUI thread with progress (cancellable); sliders move when done."""
        why = self._check_recommendable()
        if why:
            self.message.emit(f"no recommendation: {why}")
            return
        assert self.loaded is not None
        if self.rec_runner.running:
            self.message.emit("a recommendation is already being searched")
            return
        current = self.vector(self.dragged)
        self.rec_runner.start(
            search_job(which, self.loaded.sample, self.rejecting, self.costs, current)
        )
        self.busy.emit(True, "searching thresholds")

    @Slot(str)
    def _on_rec_failed(self, message: str) -> None:
        self.busy.emit(False, "")
        if message == CANCELLED:
            self.message.emit("recommendation search cancelled")
        else:
            self.message.emit(f"no recommendation: {message}")

    @Slot(object)
    def _on_recommended(self, result: object) -> None:
        self.busy.emit(False, "")
        assert isinstance(result, Searched)
        rec = result.result
        if isinstance(rec, recommend.NoRecommendation):
            self.message.emit(f"no recommendation: {rec.reason}")
            return
        # Exact levels, not rounded to the slider's 0.01 grid: where scores crowd together
        # (a weak model), rounding can cost dozens of parts. The next drag snaps to the grid.
        exact = {name: float(v) for name, v in rec.thresholds.items()}
        ts = ThresholdSet(
            {**self.dragged.class_thresholds, **exact},
            self.dragged.default_threshold,
            self.dragged.model_sha256,
        )
        self.set_dragged(ts)
        assert self.last_figures is not None
        line = recommendation_line(result.which, rec, self.last_figures, self.costs.max_escape_rate)
        self.message.emit(line)

    # ---- apply / undo -----------------------------------------------------------------------
    def figures_dict(self) -> dict[str, object]:
        f = self.last_figures
        if f is None:
            return {}
        c = f.confusion
        return {
            "sample": self.loaded.label if self.loaded else None,
            "parts": c.parts,
            "escapes": c.false_accepts,
            "defective_parts": c.defective_parts,
            "scrap": c.false_rejects,
            "good_parts": c.good_parts,
            "escape_text": f.escape_text,
            "scrap_text": f.scrap_text,
            "cost_per_1000": None if f.cost is None else round(f.cost.per_1000_parts, 3),
        }

    def apply_summary(self) -> str:
        change = ThresholdChange("", "", self.saved, self.dragged, self.model_sha256)
        lines = [change.describe()]
        if self.last_figures is not None:
            lines += [self.last_figures.escape_text, self.last_figures.scrap_text]
        return "\n".join(lines)

    def apply(self, who: str, pin: str, reason: str) -> bool:
        """Start the apply transaction off the GUI thread; False (with a message) when refused
        before it starts. `applied` follows when it went through."""
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

    # ---- live on the line -------------------------------------------------------------------
    @Slot(object)
    def on_part(self, result: Any) -> None:
        """A `PartResult` (or an `Inspection`) from the running station."""
        insp = getattr(result, "inspection", result)
        if self.live.new_shift(insp.shift_id) and self.drift is not None:
            self.drift.reset()
        # A part without a decision has no scores (NaN, even where an old log says -inf).
        self.live_scores(outcomes.decided_scores(insp.outcome, insp.max_scores))
        if insp.truth_defective is not None:
            self.live.add_line_part(bool(insp.truth_defective), insp.outcome)
        self.live_changed.emit(self.live.text())

    @Slot(bool, bool)
    def on_confirmation(self, defective: bool, shipped: bool) -> None:
        """An operator confirmed a logged part: really defective / really good; `shipped`:
        whether the station passed it."""
        self.live.confirmed.add(defective, shipped)
        self.live_changed.emit(self.live.text())

    @Slot(object)
    def on_part_confirmed(self, confirmation: Any) -> None:
        """A `PartConfirmation` from the part view: counted once per part (its latest
        verdict), and only when the part is of the shift the live estimate covers."""
        c = confirmation
        if self.live.replace_verdict(c.row_id, c.shift_id, c.defective, c.shipped):
            self.on_confirmation(c.defective, c.shipped)

    @Slot(object)
    def live_scores(self, max_scores: Any) -> None:
        """Per-class max scores of one live part (`Inspection.max_scores`) for the drift alarm;
        a part without a decision (NaN) is skipped by the monitor."""
        if self.drift is None:
            return
        self.drift.add(np.asarray(max_scores, dtype=np.float32))
        # A report is a few dozen numbers: cheap enough for every part of a line.
        self.drift_changed.emit(self.drift.report())

    def drift_report(self) -> DriftReport | None:
        return None if self.drift is None else self.drift.report()

    def live_text(self) -> str:
        return self.live.text()
