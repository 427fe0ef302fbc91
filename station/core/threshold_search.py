"""The threshold search behind the recommendations: exact when affordable, multistart otherwise.

When the product of the classes' useful levels (`search_problem`) is
affordable the search is exhaustive: each part falls in one cell of a
histogram over level indices, and cumulative sums along every axis give the
escapes and scrap of every combination at once, so the optimum is exact.
Otherwise several starts (each class at its own optimum, alone and together;
all thresholds lowest) are improved by exhaustive moves of two classes at a
time, which escapes the traps of one-class-at-a-time descent on overlapping
classes. Long searches report `progress(done, total)` between starts and
check for cancellation between moves (a progress call may raise
`JobCancelledError`).
"""

from __future__ import annotations

import math

import numpy as np

from station.core.jobs import Progress, no_progress
from station.core.search_problem import (
    F64Array,
    IntpArray,
    Objective,
    Problem,
    evaluate,
    tables,
)

PAIR_LIMIT = 250_000
MAX_ROUNDS = 50


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
        dpass, gpass = tables(k, prob.is_def[free], tuple(prob.dims[i] for i in subset))
        out = j.copy()
        out[subset] = _best_cell(prob, dpass, gpass, objective)
        return out
    # a part passes allowed index t of a class iff its level index k <= allowed[t]
    k = np.stack([np.searchsorted(a, k[:, col]) for col, a in enumerate(allowed)], axis=1)
    dpass, gpass = tables(k, prob.is_def[free], tuple(len(a) for a in allowed))
    cell = _best_cell(prob, dpass, gpass, objective)
    out = j.copy()
    out[subset] = [int(a[c]) for a, c in zip(allowed, cell, strict=True)]
    return out


def _window(m: int, at: int, half: int) -> IntpArray:
    return np.arange(max(0, at - half), min(m, at + half + 1), dtype=np.intp)


def _coarse(m: int, at: int, points: int) -> IntpArray:
    grid = np.linspace(0, m - 1, points).round().astype(np.intp)
    return np.union1d(grid, np.array([at], dtype=np.intp))


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
