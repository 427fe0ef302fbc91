"""The threshold search behind the recommendations: exact when affordable, multistart otherwise.

A part passes when every reject class scores below its threshold, so the
useful thresholds of a class are its observed score levels (a threshold
equal to a score rejects that part) plus "above every score". Levels are
pruned without loss: a threshold never needs to sit on a level held only by
good parts (raising it past that level passes good parts, never a defective
one), nor just above a level held only by defective parts.

When the product of the remaining levels is affordable the search is
exhaustive: each part falls in one cell of a histogram over level indices,
and cumulative sums along every axis give the escapes and scrap of every
combination at once, so the optimum is exact. Otherwise several starts (each
class at its own optimum, alone and together; all thresholds lowest) are
improved by exhaustive moves of two classes at a time, which escapes the
traps of one-class-at-a-time descent on overlapping classes.

Escapes and scrap are `outcomes`' counts: parts without a decision never
ship, so a good one is scrap at every threshold and a defective one never
escapes. Long searches report `progress(done, total)` between moves; a
progress call may raise `JobCancelledError` to stop the search.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.jobs import Progress, no_progress
from station.core.sample import BoolArray, F32Array, ScoredSample

IntpArray = npt.NDArray[np.intp]
F64Array = npt.NDArray[np.float64]

PAIR_LIMIT = 250_000
MAX_ROUNDS = 50


@dataclass(frozen=True, slots=True)
class Problem:
    """Reject classes' candidate levels and every decidable part's level index.

    Part p passes thresholds at candidate indices j iff k[p, i] <= j[i] for all i.
    """

    class_idx: IntpArray  # model class index of each searched class
    cands: tuple[F32Array, ...]
    k: IntpArray  # (n_live, d)
    is_def: BoolArray  # (n_live,)
    n_def: int
    n_good: int
    notes: tuple[str, ...]

    @property
    def dims(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.cands)


def build_problem(sample: ScoredSample, rejecting: BoolArray, current: F32Array) -> Problem:
    defective = outcomes.defective_parts(sample.truth, rejecting)
    live = ~outcomes.no_decision_rows(sample.scores)
    is_def = defective[live]
    class_idx = np.flatnonzero(rejecting)
    cands: list[F32Array] = []
    notes: list[str] = []
    ks: list[IntpArray] = []
    for c in class_idx:
        col = sample.scores[live, c]
        seen = np.isfinite(col) & (col >= 0)  # a negative score can never reach a threshold
        lv = np.minimum(col[seen], np.float32(1.0))
        if lv.size == 0:
            cand = np.array([current[c]], dtype=np.float32)
        else:
            levels, inv = np.unique(lv, return_inverse=True)
            has_def = np.bincount(inv, weights=is_def[seen], minlength=len(levels)) > 0
            has_good = np.bincount(inv, weights=~is_def[seen], minlength=len(levels)) > 0
            keep = has_def.copy()
            keep[1:] &= has_good[:-1]
            keep[0] = True
            chosen = list(levels[keep])
            top = levels[-1]
            if top >= np.float32(1.0):
                n_top = int((lv >= np.float32(1.0)).sum())
                notes.append(
                    f"{sample.class_names[c]}: {n_top} part(s) score exactly 1.0, which every "
                    "threshold in [0, 1] rejects; this class cannot be switched off"
                )
            elif has_good[-1] or not chosen:
                chosen.append(np.nextafter(top, np.float32(np.inf)))
            cand = np.array(chosen, dtype=np.float32)
        cands.append(cand)
        k = np.searchsorted(cand, sample.scores[live, c], side="right")
        k[np.isnan(sample.scores[live, c])] = 0  # unreachable: NaN rows are not live
        ks.append(k.astype(np.intp))
    k_all = np.stack(ks, axis=1) if ks else np.zeros((int(live.sum()), 0), dtype=np.intp)
    n_def = int(defective.sum())
    return Problem(
        class_idx,
        tuple(cands),
        k_all,
        is_def,
        n_def,
        sample.n_parts - n_def,
        tuple(notes),
    )


Objective = Callable[[F64Array, F64Array], F64Array]
"""Maps (escapes, scrap) tables to a value to minimise; ties go to fewer escapes."""


def _tables(k: IntpArray, is_def: BoolArray, dims: tuple[int, ...]) -> tuple[F64Array, F64Array]:
    """(defective parts passed, good parts passed) for every combination of level indices."""
    shape = tuple(m + 1 for m in dims)
    size = math.prod(shape)
    flat = np.ravel_multi_index(tuple(k.T), shape) if dims else np.zeros(len(k), np.intp)
    hd = np.bincount(flat[is_def], minlength=size).astype(np.float64).reshape(shape)
    hg = np.bincount(flat[~is_def], minlength=size).astype(np.float64).reshape(shape)
    for ax in range(len(dims)):
        np.cumsum(hd, axis=ax, out=hd)
        np.cumsum(hg, axis=ax, out=hg)
    sl = tuple(slice(0, m) for m in dims)
    return hd[sl], hg[sl]


def _best_cell(prob: Problem, dpass: F64Array, gpass: F64Array, objective: Objective) -> IntpArray:
    escapes = dpass
    scrap = prob.n_good - gpass
    value = objective(escapes, scrap)
    best = value.min()
    tied = value <= best + 1e-9 * max(1.0, abs(float(best)))
    flat_esc = np.where(tied, escapes, np.inf).ravel()
    idx = int(np.argmin(flat_esc))  # fewest escapes among ties, then lowest thresholds
    return np.array(np.unravel_index(idx, value.shape), dtype=np.intp)


def _solve_subset(
    prob: Problem,
    j: IntpArray,
    subset: list[int],
    objective: Objective,
    allowed: list[IntpArray] | None = None,
) -> IntpArray:
    """Best indices for the classes in `subset`, the others held at `j`.

    `allowed[col]` (sorted candidate indices) restricts where each class may
    move: a window around where it is, or a coarse grid over its whole range.
    """
    others = [i for i in range(len(prob.cands)) if i not in subset]
    free = np.all(prob.k[:, others] <= j[others], axis=1) if others else np.ones(len(prob.k), bool)
    k = prob.k[free][:, subset]
    if allowed is None:
        dpass, gpass = _tables(k, prob.is_def[free], tuple(prob.dims[i] for i in subset))
        out = j.copy()
        out[subset] = _best_cell(prob, dpass, gpass, objective)
        return out
    # a part passes allowed index t of a class iff its level index k <= allowed[t]
    k = np.stack([np.searchsorted(a, k[:, col]) for col, a in enumerate(allowed)], axis=1)
    dpass, gpass = _tables(k, prob.is_def[free], tuple(len(a) for a in allowed))
    cell = _best_cell(prob, dpass, gpass, objective)
    out = j.copy()
    out[subset] = [int(a[c]) for a, c in zip(allowed, cell, strict=True)]
    return out


def _window(m: int, at: int, half: int) -> IntpArray:
    return np.arange(max(0, at - half), min(m, at + half + 1), dtype=np.intp)


def _coarse(m: int, at: int, points: int) -> IntpArray:
    grid = np.linspace(0, m - 1, points).round().astype(np.intp)
    return np.union1d(grid, np.array([at], dtype=np.intp))


def evaluate(prob: Problem, j: IntpArray) -> tuple[int, int]:
    passed = np.all(prob.k <= j, axis=1)
    escapes = int((passed & prob.is_def).sum())
    return escapes, prob.n_good - int((passed & ~prob.is_def).sum())


def _value(prob: Problem, j: IntpArray, objective: Objective) -> tuple[float, int]:
    e, s = evaluate(prob, j)
    return float(objective(np.array([e], float), np.array([s], float))[0]), e


def _descend(
    prob: Problem, j: IntpArray, objective: Objective, pairs: bool, progress: Progress
) -> tuple[IntpArray, tuple[float, int]]:
    """Improve `j` by exact moves of one class, or of two classes at once, until none helps.

    A two-class move searches all level pairs when that table is small, else
    a coarse grid over both ranges and then a window around where they are.
    """
    d = len(prob.cands)
    v = _value(prob, j, objective)
    side = max(2, math.isqrt(PAIR_LIMIT))
    for _ in range(MAX_ROUNDS):
        improved = False
        moves: list[tuple[list[int], str]] = [([a], "full") for a in range(d)]
        if pairs:
            for a in range(d):
                for b in range(a + 1, d):
                    if prob.dims[a] * prob.dims[b] <= PAIR_LIMIT:
                        moves.append(([a, b], "full"))
                    else:
                        moves += [([a, b], "coarse"), ([a, b], "window")]
        for subset, how in moves:
            progress(0, 0)  # a cancel point between moves
            allowed = None
            if how == "coarse":
                allowed = [_coarse(prob.dims[i], int(j[i]), side) for i in subset]
            elif how == "window":
                allowed = [_window(prob.dims[i], int(j[i]), side // 2) for i in subset]
            cand = _solve_subset(prob, j, subset, objective, allowed)
            cv = _value(prob, cand, objective)
            if cv < v:
                j, v, improved = cand, cv, True
        if not improved:
            break
    return j, v


def search(
    prob: Problem,
    objective: Objective,
    exhaustive_limit: int,
    starts: list[IntpArray] | None = None,
    polish: int = 3,
    progress: Progress = no_progress,
) -> tuple[IntpArray, bool]:
    """Candidate indices of the best thresholds, and whether the search was exhaustive.

    Otherwise: starts (by default every class at its own optimum, together and
    one at a time with the others off; all lowest; all off) descend by
    one-class moves; the three best then descend by two-class moves.
    """
    d = len(prob.cands)
    if math.prod(prob.dims) <= exhaustive_limit:
        progress(0, 0)
        return _solve_subset(prob, np.zeros(d, np.intp), list(range(d)), objective), True
    if starts is None:
        off = np.array([m - 1 for m in prob.dims], dtype=np.intp)
        own = np.array([_solve_subset(prob, off, [i], objective)[i] for i in range(d)], np.intp)
        starts = [own, np.zeros(d, np.intp), off]
        for i in range(d):
            s = off.copy()
            s[i] = own[i]
            starts.append(s)
    total = len(starts) + polish
    results = []
    for n, start in enumerate(starts):
        progress(n, total)
        results.append(_descend(prob, start, objective, False, progress))
    results.sort(key=lambda r: r[1])
    best_j, best_v = results[0]
    seen: set[tuple[int, ...]] = set()
    for j, _ in results:
        key = tuple(int(x) for x in j)
        if key in seen:
            continue
        seen.add(key)
        progress(len(starts) + len(seen) - 1, total)
        pj, pv = _descend(prob, j, objective, True, progress)
        if pv < best_v:
            best_j, best_v = pj, pv
        if len(seen) == polish:
            break
    return best_j, False


def cap_starts_if_needed(
    prob: Problem, limit: int, exhaustive_limit: int, progress: Progress = no_progress
) -> list[IntpArray] | None:
    """Cap starts, only computed when the search will not be exhaustive."""
    if math.prod(prob.dims) <= exhaustive_limit:
        return None
    return _cap_starts(prob, limit, progress)


def _cap_starts(prob: Problem, limit: int, progress: Progress) -> list[IntpArray]:
    """Feasible starts for the capped search: all lowest, and Lagrangian solutions.

    Minimising scrap + lam * escapes for a range of lam traces the lower hull
    of the escape/scrap trade-off (each by the full multistart search: a
    one-class descent alone gets stuck where good parts score on several
    classes); the solutions within the cap are the seeds.
    """
    lowest = np.zeros(len(prob.cands), np.intp)
    out = [lowest]
    ratio = prob.n_good / max(1, prob.n_def)
    # escapes fall as lam grows: the first feasible solutions scrap least, so stop after two
    for lam in (1.0, 3.0, 10.0, 30.0, 100.0, 1000.0):
        weight = lam * ratio

        def lagrangian(escapes: F64Array, scrap: F64Array, w: float = weight) -> F64Array:
            return w * escapes + scrap

        j, _ = search(prob, lagrangian, 0, polish=1, progress=progress)
        if evaluate(prob, j)[0] <= limit:
            out.append(j)
            if len(out) == 3:
                break
    return out
