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

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal, Slot

from station.core import metrics, recommend
from station.core.drift import DriftMonitor, DriftReport
from station.core.errors import StationError
from station.core.thresholds import ThresholdSet, reject_mask
from station.services.threshold_change import (
    AppliedChange,
    ThresholdChange,
    ThresholdChanger,
    WrongPinError,
)
from station.services.tuning_samples import (
    LoadedSample,
    SampleCatalog,
    SampleEntry,
    loaded_from_any,
)
from station.ui.tuning.figures import (
    DEFAULT_KEY,
    MAX_CHANGED_SHOWN,
    ChangedParts,
    Costs,
    Curves,
    Figures,
    PartDetail,
    escape_text,
    read_yolo_boxes,
    scrap_text,
)
from station.ui.tuning.live import LiveEstimate
from station.ui.tuning.scoring_worker import JobRunner

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

HIST_BINS = 50


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
        self.runner = JobRunner(self)
        self.runner.progress.connect(self.progress)
        self.runner.finished.connect(self._on_scored)
        self.runner.failed.connect(self._on_score_failed)
        self.rec_runner = JobRunner(self)
        self.rec_runner.finished.connect(self._on_recommended)
        self.rec_runner.failed.connect(self._on_rec_failed)
        self._scored: dict[tuple[str, str], LoadedSample] = {}
        self._loading: SampleEntry | None = None
        self.saved = saved
        self.dragged = saved
        self.selected = self.class_names[0] if self.class_names else DEFAULT_KEY
        self.loaded: LoadedSample | None = None
        self._cache: metrics.SweepCache | None = None
        self._saved_rejected: npt.NDArray[np.bool_] | None = None
        self._nan_row = np.zeros(0, dtype=bool)
        self._hits = np.zeros((0, 8), dtype=np.uint8)
        self._hits_t = np.zeros(0, dtype=np.float32)
        self._hist: dict[int, tuple[Any, ...]] = {}
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
        c = recipe.costs
        return cls(
            class_names,
            recipe.thresholds,
            model_sha256,
            recipe.reject_classes,
            Costs(float(c.escape), float(c.scrap), c.max_escape_rate),
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
    def sample_entries(self) -> list[SampleEntry]:
        if self.catalog is not None:
            return self.catalog.entries()
        if self.loaded is not None:
            s = self.loaded.sample
            return [SampleEntry(self.loaded.kind, self.loaded.label, None, s.n_parts)]
        return []

    def load_default_sample(self) -> bool:
        """Score the first listed sample (the shipped one) unless one is loaded or loading.

        Called at start-up so the drift alarm has its reference without the tab being
        opened, and when the tab is first shown. True when a job was started.
        """
        if self.loaded is not None or self.runner.running:
            return False
        entries = self.sample_entries()
        if not entries:
            return False
        self.load_sample(entries[0])
        return self.runner.running

    @Slot(object)
    def load_sample(self, entry: SampleEntry) -> None:
        """Switch to `entry`; scores it off the GUI thread unless already scored."""
        done = self._scored.get(entry.key)
        if done is not None:
            self.set_sample(done)
            return
        if self.catalog is None:
            self.message.emit("no model attached: cannot score a sample here")
            return
        try:
            job = self.catalog.job(entry)
            self.runner.start(job)
        except StationError as e:
            self.message.emit(f"sample not loaded: {e}")
            return
        self._loading = entry
        self.busy.emit(True, f"scoring {entry.display}")

    @Slot(object)
    def _on_scored(self, result: object) -> None:
        entry, self._loading = self._loading, None
        try:
            loaded = loaded_from_any(result)
            if entry is not None:
                self._scored[entry.key] = loaded
                if self.catalog is not None:
                    self.catalog.remember(entry, loaded.sample.n_parts)
            self.set_sample(loaded)
        except StationError as e:
            self.busy.emit(False, f"sample not loaded: {e}")
            return
        self.busy.emit(False, f"sample: {loaded.label}, {loaded.size_text}")
        self.samples_listed.emit(self.sample_entries())

    @Slot(str)
    def _on_score_failed(self, message: str) -> None:
        self._loading = None
        self.busy.emit(False, f"sample not loaded: {message}")

    def shutdown(self) -> None:
        """Stop a scoring or search job in flight (window closing, tests)."""
        self.runner.wait()
        self.rec_runner.wait()

    def pin_is_set(self) -> bool:
        return self.changer is not None and self.changer.pin_is_set()

    def set_sample(self, loaded: LoadedSample) -> None:
        s = loaded.sample
        if tuple(s.class_names) != self.class_names:
            raise StationError(
                f"sample {loaded.label}: classes {list(s.class_names)} differ from the "
                f"model's {list(self.class_names)}"
            )
        self.loaded = loaded
        self._scored.setdefault((loaded.kind, loaded.label), loaded)
        self._cache = metrics.SweepCache(s, self.rejecting)
        self._hist = {}
        self._curve_key = None
        self._nan_row = s.no_decision
        n_words = max(1, -(-s.n_classes // 8))
        self._hits = np.zeros((s.n_parts, 8 * n_words), dtype=np.uint8)
        self._hits_t = np.full(s.n_classes, np.nan, dtype=np.float32)  # NaN != anything: all move
        self._saved_rejected = self._rejected(self.vector(self.saved))
        self.drift = DriftMonitor(self.class_names, s.scores)
        self.sample_changed.emit()
        self.banner_changed.emit(self.banner)
        self.refresh()

    def _rejected(self, t: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """Which sample parts `t` does not ship (rejected or no decision), for any set."""
        assert self.loaded is not None
        s = self.loaded.sample
        hits = (s.scores >= t) & self.rejecting
        return np.asarray(hits.any(axis=1) | self._nan_row)

    def _dragged_rejected(self, t: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """`_rejected(t)` for the dragged set, updating only the classes whose T moved.

        Hits are kept one byte per class, eight classes to a 64-bit word, so
        "rejected by any class" is one compare per part (a slider move costs
        one column compare, not the whole matrix).
        """
        assert self.loaded is not None
        s = self.loaded.sample
        moved = np.flatnonzero(t != self._hits_t)
        for c in moved:
            col = (s.scores[:, c] >= t[c]) & self.rejecting[c]
            self._hits[:, c] = col.view(np.uint8)
        self._hits_t = t.copy()
        words = self._hits.view(np.uint64)
        hit = words[:, 0] != 0 if words.shape[1] == 1 else (words != 0).any(axis=1)
        return np.asarray(hit | self._nan_row)

    @property
    def ranking_problem(self) -> str | None:
        return None if self._cache is None else self._cache.ranking_problem

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
        if self._cache is None or self.loaded is None:
            return
        t = self.vector(self.dragged)
        c = self.class_names.index(self.selected) if self.selected in self.class_names else 0
        problem = self._cache.ranking_problem
        # Curves depend on the other classes' thresholds only: recompute them (a sweep) when
        # those change; a drag of the selected class only needs the confusion.
        others = tuple(float(x) for i, x in enumerate(t) if i != c)
        key = (c, others, problem)
        if problem is None and (key != self._curve_key or force_curves):
            conf, sweep = self._cache.evaluate(t, c)
            self._curve_key = key
            self._last_curves = self._curves(c, sweep, problem)
            self.curves_changed.emit(self._last_curves)
        else:
            conf = self._cache.confusion(t)
            if key != self._curve_key or force_curves:
                self._curve_key = key
                self._last_curves = self._curves(c, None, problem)
                self.curves_changed.emit(self._last_curves)
        cost = None
        if conf.parts:
            try:
                cost = metrics.expected_cost(conf, self.costs.escape, self.costs.scrap)
            except StationError:
                cost = None
        cost_text = (
            f"expected cost: {cost.per_1000_parts:,.1f} per 1,000 parts "
            f"(escape {self.costs.escape:g}, scrap {self.costs.scrap:g})"
            if cost is not None
            else "expected cost: n/a (empty sample)"
        )
        figures = Figures(
            confusion=conf,
            cost=cost,
            escape_text=escape_text(conf.far),
            scrap_text=scrap_text(conf.frr),
            cost_text=cost_text,
            selected=self.class_names[c],
            threshold=float(t[c]),
            far=conf.far.value,
            frr=conf.frr.value,
            changed=self._changed(t),
        )
        self.last_figures = figures
        self.point_moved.emit(figures)

    def _changed(self, t: npt.NDArray[np.float32]) -> ChangedParts:
        assert self.loaded is not None and self._saved_rejected is not None
        now = self._dragged_rejected(t)
        before = self._saved_rejected
        defective = (
            self._cache.defective if self._cache is not None else self.loaded.sample.defective
        )
        newly_rej = np.flatnonzero(now & ~before)
        newly_pass = np.flatnonzero(~now & before)
        caught = int(defective[newly_rej].sum())
        escaping = int(defective[newly_pass].sum())
        return ChangedParts(
            newly_rej,
            newly_pass,
            caught,
            int(newly_rej.size - caught),
            escaping,
            int(newly_pass.size - escaping),
        )

    def _curves(self, c: int, sweep: metrics.Sweep | None, problem: str | None) -> Curves:
        name = self.class_names[c]
        if problem is not None:
            return Curves(name, problem)
        if not self.rejecting[c]:
            return Curves(name, f"{name} is not a reject class in this recipe: it never rejects")
        if c not in self._hist:
            self._hist[c] = self._histogram(c)
        edges, hd, hg, nd, ng, nu = self._hist[c]
        return Curves(name, None, edges, hd, hg, nd, ng, nu, sweep)

    def _histogram(self, c: int) -> tuple[Any, ...]:
        """Share of parts per score bin: parts with a true `c` defect vs good parts."""
        assert self.loaded is not None and self._cache is not None
        s = self.loaded.sample
        col = s.scores[:, c]
        detected = np.isfinite(col)
        has_c = s.truth[:, c]
        good = ~self._cache.defective
        edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
        hd, _ = np.histogram(col[detected & has_c], bins=edges)
        hg, _ = np.histogram(col[detected & good], bins=edges)
        nd, ng = int(has_c.sum()), int(good.sum())
        hd_share = hd / nd if nd else hd.astype(np.float64)
        hg_share = hg / ng if ng else hg.astype(np.float64)
        return edges, hd_share, hg_share, nd, ng, int((~detected).sum())

    def part_detail(self, i: int) -> PartDetail:
        assert self.loaded is not None
        s = self.loaded.sample
        img = self.loaded.image_paths[i] if i < len(self.loaded.image_paths) else None
        lab = self.loaded.label_paths[i] if i < len(self.loaded.label_paths) else None
        t_saved, t_drag = self.vector(self.saved), self.vector(self.dragged)

        def outcome(t: npt.NDArray[np.float32]) -> str:
            row = s.scores[i]
            if np.isnan(row).any():
                return "NO DECISION"
            return "REJECT" if bool(((row >= t) & self.rejecting).any()) else "PASS"

        return PartDetail(
            index=i,
            part_id=s.part_ids[i],
            image_path=img,
            truth_boxes=read_yolo_boxes(lab, self.class_names),
            truth_classes=tuple(n for n, v in zip(self.class_names, s.truth[i], strict=True) if v),
            defective=bool(self._cache.defective[i]) if self._cache is not None else False,
            scores=tuple(
                (n, float(s.scores[i, c]), float(t_saved[c]), float(t_drag[c]))
                for c, n in enumerate(self.class_names)
            ),
            saved_outcome=outcome(t_saved),
            dragged_outcome=outcome(t_drag),
        )

    # ---- recommendations --------------------------------------------------------------------
    def _check_recommendable(self) -> str | None:
        if self._cache is None or self.loaded is None:
            return "no sample loaded"
        return self._cache.ranking_problem

    @Slot()
    def recommend_min_cost(self) -> None:
        why = self._check_recommendable()
        if why:
            self.message.emit(f"no recommendation: {why}")
            return
        self._recommend("min_cost")

    @Slot()
    def recommend_escape_cap(self) -> None:
        why = self._check_recommendable()
        if why:
            self.message.emit(f"no recommendation: {why}")
            return
        if self.costs.max_escape_rate is None:
            self.message.emit("no recommendation: the recipe sets no escape-rate cap")
            return
        self._recommend("escape_cap")

    def _recommend(self, which: str) -> None:
        """Search off the GUI thread (seconds on 100k parts); sliders move when it is done."""
        assert self._cache is not None and self.loaded is not None
        if self.rec_runner.running:
            self.message.emit("a recommendation is already being searched")
            return
        sample = self.loaded.sample
        current = self.vector(self.dragged)
        rejecting = self.rejecting.copy()
        costs = self.costs

        def job(progress: Callable[[int, int], None]) -> tuple[str, object]:
            if which == "min_cost":
                return which, recommend.recommend_min_cost(
                    sample, rejecting, costs.escape, costs.scrap, current=current
                )
            assert costs.max_escape_rate is not None
            return which, recommend.recommend_escape_cap(
                sample,
                rejecting,
                costs.max_escape_rate,
                costs.escape,
                costs.scrap,
                current=current,
            )

        self.rec_runner.start(job)
        self.busy.emit(True, "searching thresholds")

    @Slot(str)
    def _on_rec_failed(self, message: str) -> None:
        self.busy.emit(False, "")
        self.message.emit(f"no recommendation: {message}")

    @Slot(object)
    def _on_recommended(self, result: object) -> None:
        self.busy.emit(False, "")
        assert isinstance(result, tuple)
        which: str = result[0]
        rec: recommend.Recommendation | recommend.NoRecommendation = result[1]
        cap = self.costs.max_escape_rate
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
        f = self.last_figures
        assert f is not None
        c = f.confusion
        if which == "min_cost":
            line = (
                f"Minimum cost: {c.false_accepts} escapes and {c.false_rejects} scrapped "
                f"of {c.parts} parts, {f.cost_text.split(': ', 1)[1]}"
            )
        else:
            line = f"Least scrap with escapes ≤ {100 * (cap or 0):g}%: {f.escape_text}; " + (
                f"{c.false_rejects} good parts scrapped"
            )
        if (c.false_accepts, c.false_rejects) != (rec.escapes, rec.scrap):  # never expected
            line += f" (the search reported {rec.escapes} escapes, {rec.scrap} scrapped)"
        if rec.notes:
            line += ". Note: " + "; ".join(rec.notes)
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
        """Run the apply transaction; False (with a message) when refused."""
        if self.changer is None:
            self.message.emit("applying is not available here (no recipe/log attached)")
            return False
        change = ThresholdChange(
            who, reason, self.saved, self.dragged, self.model_sha256, self.figures_dict()
        )
        return self._run(lambda: self.changer.apply(change, pin) if self.changer else None)

    def undo(self, who: str, pin: str, reason: str) -> bool:
        if self.changer is None:
            self.message.emit("undo is not available here (no recipe/log attached)")
            return False
        saved = self.saved
        return self._run(
            lambda: self.changer.undo_change(who, reason, pin, saved) if self.changer else None
        )

    @property
    def can_undo(self) -> bool:
        return self.changer is not None and bool(self.changer.history)

    def _run(self, op: Callable[[], AppliedChange | None]) -> bool:
        try:
            done = op()
        except WrongPinError as e:
            self.message.emit(str(e))
            return False
        except StationError as e:
            self.message.emit(f"not applied: {e}")
            return False
        except OSError as e:
            self.message.emit(f"not applied: {e}")
            return False
        if done is None:
            return False
        self.saved = done.applied
        self.dragged = done.applied
        if self.loaded is not None:
            self._saved_rejected = self._rejected(self.vector(self.saved))
        self.saved_changed.emit()
        self.dragged_reset.emit()
        self.banner_changed.emit(self.banner)
        self.applied.emit(done.applied)
        verb = "undone" if done.change.undo else "applied"
        self.message.emit(f"thresholds {verb}: {done.change.describe()}")
        self.refresh()
        return True

    # ---- live on the line -------------------------------------------------------------------
    @Slot(object)
    def on_part(self, result: Any) -> None:
        """A `PartResult` (or an `Inspection`) from the running station."""
        insp = getattr(result, "inspection", result)
        if self.live.new_shift(insp.shift_id) and self.drift is not None:
            self.drift.reset()
        self.live_scores(insp.max_scores)
        if insp.truth_defective is not None:
            self.live.line.add(bool(insp.truth_defective), insp.outcome.value == "PASS")
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
        """Per-class max scores of one live part (`Inspection.max_scores`) for the drift alarm."""
        if self.drift is None:
            return
        self.drift.add(np.asarray(max_scores, dtype=np.float32))
        # A report is a few dozen numbers: cheap enough for every part of a line.
        self.drift_changed.emit(self.drift.report())

    def drift_report(self) -> DriftReport | None:
        return None if self.drift is None else self.drift.report()

    def live_text(self) -> str:
        return self.live.text()
