"""One class's FAR/FRR curves as its threshold moves, the other classes held.

`SweepCache` precomputes each class's ordering once per sample so a slider
move costs ~1 ms: the confusion at the dragged thresholds (`metrics.Confusion`,
counted by `station.core.outcomes`' rule) and the moving class's curves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.errors import StationError
from station.core.metrics import Confusion, as_rejecting, as_thresholds
from station.core.ranking import RankingError, ranking_problem
from station.core.rates import Rate
from station.core.sample import BoolArray, F32Array, ScoredSample

I64Array = npt.NDArray[np.int64]
F64Array = npt.NDArray[np.float64]

DEFAULT_GRID_POINTS = 1001


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
        self.rejecting = as_rejecting(rejecting, n_cls)
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
        t = as_thresholds(thresholds_vec, self.sample.n_classes)
        return self._confusion_from(self._rejected_by_others(t, None))

    def not_shipped(self, thresholds_vec: npt.ArrayLike) -> BoolArray:
        """`outcomes.not_shipped` of the sample at `thresholds_vec`, from the cached hits."""
        t = as_thresholds(thresholds_vec, self.sample.n_classes)
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
        t = as_thresholds(thresholds_vec, self.sample.n_classes)
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
