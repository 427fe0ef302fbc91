"""Part-level confusion, FAR/FRR with intervals, one-class threshold sweeps.

Everything works from a `ScoredSample` (the per-part, per-class maximum
scores), so a threshold set is evaluated without re-running the model. What
counts as defective, shipped, an escape or scrap is `station.core.outcomes`'
rule, never restated here: a part with a NaN score gets NO DECISION and is
not shipped (a good one is scrap). The four cells always add up to `parts`:

- false_accepts (escapes): defective parts shipped (passed).
- true_rejects: defective parts not shipped (rejected, or no decision).
- false_rejects (scrap): good parts not shipped (rejected, or no decision).
- true_passes: good parts shipped.

`no_decision` says how many parts were held back for a NaN score.
FAR = false_accepts / defective_parts, FRR = false_rejects / good_parts.
Costs live in `station.core.costs` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.costs import CostEstimate, check_costs, cost_weights, expected_cost
from station.core.errors import StationError
from station.core.rates import Rate
from station.core.sample import BoolArray, F32Array, ScoredSample

I64Array = npt.NDArray[np.int64]
F64Array = npt.NDArray[np.float64]

DEFAULT_GRID_POINTS = 1001


class RankingError(StationError):
    """The sample's scores rank nothing (constant or absent): no curve can be drawn."""


@dataclass(frozen=True, slots=True)
class Confusion:
    """Part-level outcome of one threshold set on a labeled sample (see module doc)."""

    parts: int
    defective_parts: int
    good_parts: int
    false_accepts: int
    false_rejects: int
    true_rejects: int
    true_passes: int
    no_decision: int
    far: Rate
    frr: Rate
    escapes_per_class: Mapping[str, tuple[int, int]]
    """Reject class name -> (parts with a true defect of that class, how many of them shipped)."""

    @classmethod
    def of(
        cls,
        counted: outcomes.Tally,
        no_decision: int,
        escapes_per_class: Mapping[str, tuple[int, int]],
    ) -> Confusion:
        """The confusion of a part tally (`outcomes.tally` of truth and shipping fate)."""
        return cls(
            parts=counted.parts,
            defective_parts=counted.defective,
            good_parts=counted.good,
            false_accepts=counted.escapes,
            false_rejects=counted.scrap,
            true_rejects=counted.defective - counted.escapes,
            true_passes=counted.good - counted.scrap,
            no_decision=no_decision,
            far=counted.escape_rate,
            frr=counted.scrap_rate,
            escapes_per_class=escapes_per_class,
        )


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """Where one class's threshold currently sits on its curve."""

    threshold: float
    escapes: int
    scrap: int
    far: Rate
    frr: Rate


@dataclass(frozen=True, slots=True, eq=False)
class Sweep:
    """FAR and FRR as one class's threshold moves over `grid`, the other classes held.

    Arrays are indexed like `grid` (float32, ascending, in [0, 1]); `escapes`
    and `scrap` are part counts; `far`/`frr` are NaN when their denominator
    (defective parts / good parts) is 0.
    """

    class_name: str
    class_index: int
    grid: F32Array
    escapes: I64Array
    scrap: I64Array
    far: F64Array
    frr: F64Array
    operating_point: OperatingPoint


def default_grid(points: int = DEFAULT_GRID_POINTS) -> F32Array:
    """`points` evenly spaced thresholds over [0, 1], both ends included, in float32."""
    return np.linspace(0.0, 1.0, points, dtype=np.float32)


def ranking_problem(sample: ScoredSample) -> str | None:
    """Why the sample's scores cannot support a threshold, or None when they can.

    A detector that reports one constant score (a heuristic blob detector's
    1.0) ranks nothing: moving a threshold only switches it fully on or off.
    """
    finite = sample.scores[np.isfinite(sample.scores)]
    if sample.n_parts == 0:
        return "the sample is empty: there are no scores to set a threshold on"
    if finite.size == 0:
        return (
            f"the model detected nothing on the {sample.n_parts} parts of the sample: "
            "there are no scores to set a threshold on"
        )
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        return (
            f"every score the model gave on this sample is {lo:g}: a constant score ranks "
            "nothing, so a threshold cannot trade escapes against scrap; judge this "
            "detector by its detections, not by a threshold curve"
        )
    constant: list[str] = []
    for c, name in enumerate(sample.class_names):
        col = sample.scores[:, c]
        levels = np.unique(col[np.isfinite(col)])
        if levels.size > 1:
            return None
        if levels.size == 1:
            constant.append(f"{name} always {float(levels[0]):g}")
    return (
        f"each class's score is constant on this sample ({', '.join(constant)}): the scores "
        "rank nothing, so a threshold cannot trade escapes against scrap"
    )


def _as_thresholds(thresholds_vec: npt.ArrayLike, n_classes: int) -> F32Array:
    t = np.asarray(thresholds_vec, dtype=np.float32).reshape(-1)
    if t.shape != (n_classes,):
        raise StationError(f"thresholds: expected {n_classes} values, got {t.shape[0]}")
    if not bool(np.all((t >= 0) & (t <= 1))):  # also catches NaN, which would pass everything
        raise StationError(f"thresholds: expected values in [0, 1], got {t.tolist()}")
    return t


def _as_rejecting(rejecting: npt.ArrayLike, n_classes: int) -> BoolArray:
    r = np.asarray(rejecting, dtype=bool).reshape(-1)
    if r.shape != (n_classes,):
        raise StationError(f"rejecting: expected {n_classes} flags, got {r.shape[0]}")
    return r


class SweepCache:
    """Precomputed per-class orderings so a confusion and a class's curves cost ~1 ms.

    Built once per (sample, reject classes, grid); `evaluate` is what a
    threshold slider calls on every move. Each class's hit mask is cached with
    its threshold, so a move of one class recomputes one column; scores are
    stored column-major and few hits are scattered from the sorted order.
    Not thread-safe: one cache per thread.
    """

    def __init__(
        self, sample: ScoredSample, rejecting: npt.ArrayLike, grid: npt.ArrayLike | None = None
    ) -> None:
        n, n_cls = sample.scores.shape
        self.sample = sample
        self.rejecting = _as_rejecting(rejecting, n_cls)
        self.ranking_problem = ranking_problem(sample)
        g = default_grid() if grid is None else np.asarray(grid, dtype=np.float32).reshape(-1)
        if g.size == 0 or bool(np.any(np.diff(g) < 0)) or not bool(np.all((g >= 0) & (g <= 1))):
            raise StationError("grid: expected ascending thresholds in [0, 1]")
        self.grid: F32Array = g
        self.defective: BoolArray = outcomes.defective_parts(sample.truth, self.rejecting)
        self.nan_row: BoolArray = outcomes.no_decision_rows(sample.scores)
        self.n_defective = int(self.defective.sum())
        self.n_good = n - self.n_defective
        self._defective_per_class = sample.truth.sum(axis=0).astype(np.int64)
        self._def_idx = np.flatnonzero(self.defective)
        self._def_truth_t = np.ascontiguousarray(sample.truth[self._def_idx].T, dtype=np.int64)
        self._cols: F32Array = np.ascontiguousarray(sample.scores.T)
        self._n_nan = [int(np.isnan(self._cols[c]).sum()) for c in range(n_cls)]
        self._hit_cache: list[tuple[np.float32, BoolArray] | None] = [None] * n_cls
        self._order: list[npt.NDArray[np.intp]] = []
        self._sorted: list[F32Array] = []
        self._sorted_def: list[BoolArray] = []
        self._grid_pos: list[npt.NDArray[np.intp]] = []
        for c in range(n_cls):
            order = np.argsort(sample.scores[:, c], kind="stable")  # NaN sorts last
            col = sample.scores[order, c]
            self._order.append(order)
            self._sorted.append(col)
            self._sorted_def.append(self.defective[order])
            if self.rejecting[c]:
                pos = np.searchsorted(col, g, side="left")
            else:  # a non-reject class never rejects: every part passes it at any threshold
                pos = np.full(g.shape, n, dtype=np.intp)
            self._grid_pos.append(pos)

    # -- hits -------------------------------------------------------------------------------
    def _hit(self, c: int, t: np.float32) -> BoolArray:
        """Parts whose class-`c` score is >= t, cached per class (a slider moves one class)."""
        cached = self._hit_cache[c]
        if cached is not None and cached[0] == t:
            return cached[1]
        pos = int(np.searchsorted(self._sorted[c], t, side="left"))
        n_nan = self._n_nan[c]
        n_hit = self.sample.n_parts - n_nan - pos
        if n_hit * 8 < self.sample.n_parts:  # few hits: scatter them from the sorted order
            mask = np.zeros(self.sample.n_parts, dtype=bool)
            mask[self._order[c][pos : self.sample.n_parts - n_nan]] = True
        else:
            mask = self._cols[c] >= t
        self._hit_cache[c] = (t, mask)
        return mask

    def _rejected_by_others(self, t: F32Array, exclude: int | None) -> BoolArray:
        out = self.nan_row.copy()
        for c in np.flatnonzero(self.rejecting):
            if c != exclude:
                out |= self._hit(int(c), t[c])
        return out

    # -- results ----------------------------------------------------------------------------
    def confusion(self, thresholds_vec: npt.ArrayLike) -> Confusion:
        t = _as_thresholds(thresholds_vec, self.sample.n_classes)
        return self._confusion_from(self._rejected_by_others(t, None))

    def not_shipped(self, thresholds_vec: npt.ArrayLike) -> BoolArray:
        """`outcomes.not_shipped` of the sample at `thresholds_vec`, from the cached hits."""
        t = _as_thresholds(thresholds_vec, self.sample.n_classes)
        return self._rejected_by_others(t, None)

    def _confusion_from(self, not_shipped: BoolArray) -> Confusion:
        shipped_def = ~np.take(not_shipped, self._def_idx)
        escaped_per_class = self._def_truth_t @ shipped_def.astype(np.int64)
        per_class = {
            name: (int(self._defective_per_class[c]), int(escaped_per_class[c]))
            for c, name in enumerate(self.sample.class_names)
            if self.rejecting[c]
        }
        return Confusion.of(
            outcomes.tally(self.defective, ~not_shipped), int(self.nan_row.sum()), per_class
        )

    def evaluate(self, thresholds_vec: npt.ArrayLike, class_index: int) -> tuple[Confusion, Sweep]:
        """The confusion at `thresholds_vec` and class `class_index`'s curves, others held.

        Raises RankingError when the sample's scores rank nothing.
        """
        if self.ranking_problem is not None:
            raise RankingError(self.ranking_problem)
        t = _as_thresholds(thresholds_vec, self.sample.n_classes)
        c = int(class_index)
        if not 0 <= c < self.sample.n_classes:
            raise StationError(f"class_index: {c} is outside 0..{self.sample.n_classes - 1}")
        other = self._rejected_by_others(t, c)
        confusion = self._confusion_from(other | self._hit(c, t[c]) if self.rejecting[c] else other)
        free = ~np.take(other, self._order[c])
        cum_d = np.zeros(free.shape[0] + 1, dtype=np.int64)
        cum_g = np.zeros(free.shape[0] + 1, dtype=np.int64)
        np.cumsum(free & self._sorted_def[c], out=cum_d[1:])
        np.cumsum(free, out=cum_g[1:])
        cum_g -= cum_d
        pos = self._grid_pos[c]
        escapes = cum_d[pos]
        scrap = self.n_good - cum_g[pos]
        with np.errstate(invalid="ignore", divide="ignore"):
            far = escapes / self.n_defective if self.n_defective else np.full(pos.shape, np.nan)
            frr = scrap / self.n_good if self.n_good else np.full(pos.shape, np.nan)
        point = OperatingPoint(
            float(t[c]),
            confusion.false_accepts,
            confusion.false_rejects,
            confusion.far,
            confusion.frr,
        )
        sweep = Sweep(
            self.sample.class_names[c],
            c,
            self.grid,
            escapes,
            scrap,
            np.asarray(far, dtype=np.float64),
            np.asarray(frr, dtype=np.float64),
            point,
        )
        return confusion, sweep


def not_shipped_mask(
    sample: ScoredSample, thresholds_vec: npt.ArrayLike, rejecting: npt.ArrayLike
) -> BoolArray:
    """(n_parts,) bool: the part is rejected (a reject class scores >= T) or has no decision."""
    n_cls = sample.n_classes
    t = _as_thresholds(thresholds_vec, n_cls)
    return outcomes.not_shipped(sample.scores, t, _as_rejecting(rejecting, n_cls))


def confusion(
    sample: ScoredSample, thresholds_vec: npt.ArrayLike, rejecting: npt.ArrayLike
) -> Confusion:
    """Part-level confusion of `thresholds_vec` (float32, one per class) on the sample."""
    rej = _as_rejecting(rejecting, sample.n_classes)
    shipped = ~not_shipped_mask(sample, thresholds_vec, rej)
    defective = outcomes.defective_parts(sample.truth, rej)
    escaped = sample.truth[defective & shipped].sum(axis=0)
    labeled = sample.truth.sum(axis=0)
    per_class = {
        name: (int(labeled[c]), int(escaped[c]))
        for c, name in enumerate(sample.class_names)
        if rej[c]
    }
    no_dec = int(outcomes.no_decision_rows(sample.scores).sum())
    return Confusion.of(outcomes.tally(defective, shipped), no_dec, per_class)


def sweep_class(
    sample: ScoredSample,
    thresholds_vec: npt.ArrayLike,
    rejecting: npt.ArrayLike,
    class_index: int,
    grid: npt.ArrayLike | None = None,
) -> Sweep:
    """One class's FAR/FRR curves with the other classes held at `thresholds_vec`.

    For repeated calls (a slider) build a `SweepCache` once and call `evaluate`.
    """
    return SweepCache(sample, rejecting, grid).evaluate(thresholds_vec, class_index)[1]


def threshold_vector(
    class_names: Sequence[str], thresholds: Mapping[str, float], default: float
) -> F32Array:
    """Thresholds by class index in float32, unlisted classes at `default`."""
    return np.array([thresholds.get(c, default) for c in class_names], dtype=np.float32)


__all__ = [
    "Confusion",
    "CostEstimate",
    "OperatingPoint",
    "RankingError",
    "Sweep",
    "SweepCache",
    "check_costs",
    "confusion",
    "cost_weights",
    "default_grid",
    "expected_cost",
    "not_shipped_mask",
    "ranking_problem",
    "sweep_class",
    "threshold_vector",
]
