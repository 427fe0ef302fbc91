"""Recommended thresholds: least expected cost, or least scrap under an escape-rate cap.

Both search all reject classes jointly. A part passes when every reject
class scores below its threshold, so the useful thresholds of a class are
its observed score levels (a threshold equal to a score rejects that part)
plus "above every score". Levels are pruned without loss: a threshold never
needs to sit on a level held only by good parts (raising it past that level
passes good parts, never a defective one), nor just above a level held only
by defective parts.

When the product of the remaining levels is affordable the search is
exhaustive: each part falls in one cell of a histogram over level indices,
and cumulative sums along every axis give the escapes and scrap of every
combination at once, so the optimum is exact. Otherwise several starts (each
class at its own optimum, alone and together; all thresholds lowest) are
improved by exhaustive moves of two classes at a time, which escapes the
traps of one-class-at-a-time descent on overlapping classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.core.metrics import (
    Confusion,
    CostEstimate,
    check_costs,
    confusion,
    cost_weights,
    expected_cost,
    ranking_problem,
)
from station.core.rates import Rate, min_trials_for_upper_bound, wilson_interval
from station.core.sample import BoolArray, F32Array, ScoredSample
from station.core.thresholds import DEFAULT_THRESHOLD

IntpArray = npt.NDArray[np.intp]
F64Array = npt.NDArray[np.float64]

EXHAUSTIVE_LIMIT = 2_000_000
"""Largest number of threshold combinations searched exhaustively in one table."""
PAIR_LIMIT = 250_000
MAX_ROUNDS = 50


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A recommended threshold for every reject class, and what it does on the sample.

    `thresholds` are the shortest decimals that round-trip to the chosen
    float32 levels; `escapes`/`scrap` are part counts on the sample;
    `expected_cost` is None when no costs were given. `exact` is True when the
    search was exhaustive (the optimum over observed levels).
    """

    kind: str
    thresholds: Mapping[str, float]
    escapes: int
    scrap: int
    expected_cost: float | None
    confusion: Confusion
    cost: CostEstimate | None
    explanation: str
    exact: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NoRecommendation:
    """Why no thresholds are recommended (cap unmet, sample too small, scores rank nothing)."""

    kind: str
    reason: str


def shortest_float32(x: float | np.floating) -> float:
    """The shortest decimal that reads back as the same float32 (0.7, not 0.699999988)."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="0"))


# -- the search problem ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
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


def _build(sample: ScoredSample, rejecting: BoolArray, current: F32Array) -> _Problem:
    defective = sample.defective_for(rejecting)
    live = ~sample.no_decision
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
    return _Problem(
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


def _best_cell(prob: _Problem, dpass: F64Array, gpass: F64Array, objective: Objective) -> IntpArray:
    escapes = dpass
    scrap = prob.n_good - gpass
    value = objective(escapes, scrap)
    best = value.min()
    tied = value <= best + 1e-9 * max(1.0, abs(float(best)))
    flat_esc = np.where(tied, escapes, np.inf).ravel()
    idx = int(np.argmin(flat_esc))  # fewest escapes among ties, then lowest thresholds
    return np.array(np.unravel_index(idx, value.shape), dtype=np.intp)


def _solve_subset(
    prob: _Problem,
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


def _evaluate(prob: _Problem, j: IntpArray) -> tuple[int, int]:
    passed = np.all(prob.k <= j, axis=1)
    escapes = int((passed & prob.is_def).sum())
    return escapes, prob.n_good - int((passed & ~prob.is_def).sum())


def _value(prob: _Problem, j: IntpArray, objective: Objective) -> tuple[float, int]:
    e, s = _evaluate(prob, j)
    return float(objective(np.array([e], float), np.array([s], float))[0]), e


def _descend(
    prob: _Problem, j: IntpArray, objective: Objective, pairs: bool
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


def _search(
    prob: _Problem,
    objective: Objective,
    exhaustive_limit: int,
    starts: list[IntpArray] | None = None,
    polish: int = 3,
) -> tuple[IntpArray, bool]:
    """Candidate indices of the best thresholds, and whether the search was exhaustive.

    Otherwise: starts (by default every class at its own optimum, together and
    one at a time with the others off; all lowest; all off) descend by
    one-class moves; the three best then descend by two-class moves.
    """
    d = len(prob.cands)
    if math.prod(prob.dims) <= exhaustive_limit:
        return _solve_subset(prob, np.zeros(d, np.intp), list(range(d)), objective), True
    if starts is None:
        off = np.array([m - 1 for m in prob.dims], dtype=np.intp)
        own = np.array([_solve_subset(prob, off, [i], objective)[i] for i in range(d)], np.intp)
        starts = [own, np.zeros(d, np.intp), off]
        for i in range(d):
            s = off.copy()
            s[i] = own[i]
            starts.append(s)
    results = [_descend(prob, start, objective, pairs=False) for start in starts]
    results.sort(key=lambda r: r[1])
    best_j, best_v = results[0]
    seen: set[tuple[int, ...]] = set()
    for j, _ in results:
        key = tuple(int(x) for x in j)
        if key in seen:
            continue
        seen.add(key)
        pj, pv = _descend(prob, j, objective, pairs=True)
        if pv < best_v:
            best_j, best_v = pj, pv
        if len(seen) == polish:
            break
    return best_j, False


def _starts(prob: _Problem, limit: int, exhaustive_limit: int) -> list[IntpArray] | None:
    """Cap starts, only computed when the search will not be exhaustive."""
    return None if math.prod(prob.dims) <= exhaustive_limit else _cap_starts(prob, limit)


def _cap_starts(prob: _Problem, limit: int) -> list[IntpArray]:
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

        j, _ = _search(prob, lagrangian, 0, polish=1)
        if _evaluate(prob, j)[0] <= limit:
            out.append(j)
            if len(out) == 3:
                break
    return out


# -- public ---------------------------------------------------------------------------------


def _prepare(
    sample: ScoredSample, rejecting: npt.ArrayLike, current: npt.ArrayLike | None, kind: str
) -> tuple[BoolArray, F32Array, NoRecommendation | None]:
    rej = np.asarray(rejecting, dtype=bool).reshape(-1)
    if rej.shape != (sample.n_classes,):
        raise StationError(f"rejecting: expected {sample.n_classes} flags, got {rej.shape[0]}")
    cur = (
        np.full(sample.n_classes, DEFAULT_THRESHOLD, np.float32)
        if current is None
        else np.asarray(current, dtype=np.float32).reshape(-1)
    )
    problem = ranking_problem(sample)
    if problem is not None:
        return rej, cur, NoRecommendation(kind, problem)
    defective = sample.defective_for(rej)
    if not rej.any():
        return rej, cur, NoRecommendation(kind, "no class rejects a part: there is nothing to tune")
    if not defective.any():
        return (
            rej,
            cur,
            NoRecommendation(
                kind,
                f"the sample's {sample.n_parts} parts hold no defect of a reject class: escapes "
                "cannot be measured, so no threshold can be defended; add defective parts",
            ),
        )
    if defective.all():
        return (
            rej,
            cur,
            NoRecommendation(
                kind,
                f"all {sample.n_parts} parts of the sample are defective: scrap cannot be "
                "measured, so no threshold can be defended; add good parts",
            ),
        )
    return rej, cur, None


def _thresholds_of(sample: ScoredSample, prob: _Problem, j: IntpArray) -> dict[str, float]:
    return {
        sample.class_names[int(c)]: shortest_float32(prob.cands[i][j[i]])
        for i, c in enumerate(prob.class_idx)
    }


def _vector(sample: ScoredSample, cur: F32Array, th: Mapping[str, float]) -> F32Array:
    out = cur.copy()
    for name, t in th.items():
        out[sample.class_index(name)] = np.float32(t)
    return out


def _describe(conf: Confusion) -> str:
    def part(label: str, rate: Rate, of: str) -> str:
        if rate.ci95 is None or rate.value is None:
            return f"{label} {rate.count} of {rate.total} {of}"
        lo, hi = rate.ci95
        return (
            f"{label} {rate.count} of {rate.total} {of} ({100 * rate.value:.2f}%, "
            f"95% CI {100 * lo:.2f}–{100 * hi:.2f}%)"
        )

    text = (
        part("escapes", conf.far, "defective parts") + ", " + part("scrap", conf.frr, "good parts")
    )
    if conf.no_decision:
        text += f", {conf.no_decision} part(s) without a decision (NaN score)"
    return text


def _search_note(exact: bool, prob: _Problem) -> str:
    combos = math.prod(prob.dims)
    if exact:
        return f"exhaustive over all {combos:,} combinations of the observed score levels"
    return (
        f"{combos:,} level combinations are too many to search exhaustively: best of several "
        "starts improved one, then two classes at a time (near, not provably at, the optimum)"
    )


def recommend_min_cost(
    sample: ScoredSample,
    rejecting: npt.ArrayLike,
    cost_escape: float,
    cost_scrap: float,
    prevalence: float | None = None,
    *,
    current: npt.ArrayLike | None = None,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
) -> Recommendation | NoRecommendation:
    """Thresholds of least expected cost C_escape * escapes + C_scrap * scrap.

    At `prevalence` (share of defective parts; default the sample's) the
    sample is reweighted (see `metrics.CostEstimate`). `current` (float32 per
    class) is kept for classes the sample never scores.
    """
    check_costs(cost_escape, cost_scrap, prevalence)
    rej, cur, refused = _prepare(sample, rejecting, current, "min_cost")
    if refused is not None:
        return refused
    prob = _build(sample, rej, cur)
    w_def, w_good, prev = cost_weights(
        sample.n_parts, prob.n_def, cost_escape, cost_scrap, prevalence
    )

    def objective(escapes: F64Array, scrap: F64Array) -> F64Array:
        return w_def * escapes + w_good * scrap

    j, exact = _search(prob, objective, exhaustive_limit)
    th = _thresholds_of(sample, prob, j)
    conf = confusion(sample, _vector(sample, cur, th), rej)
    cost = expected_cost(conf, cost_escape, cost_scrap, prevalence)
    prev_text = f"{100 * prev:.2f}% ({'given' if prevalence is not None else 'the sample’s'})"
    notes = list(prob.notes)
    if conf.far.ci95 is not None and conf.far.ci95[1] - conf.far.ci95[0] > 0.1:
        lo, hi = conf.far.ci95
        notes.append(
            f"only {conf.defective_parts} defective parts: at these thresholds the escape rate "
            f"could be anywhere in {100 * lo:.1f}–{100 * hi:.1f}% (Wilson 95%); measure more "
            "defective parts before relying on it"
        )
    explanation = (
        f"Least expected cost at {cost_escape:g} per escape and {cost_scrap:g} per scrapped "
        f"good part, prevalence {prev_text}: {_describe(conf)}; expected cost "
        f"{cost.total:.6g} for {cost.parts} parts ({cost.per_1000_parts:.4g} per 1000). "
        f"Search: {_search_note(exact, prob)}."
    )
    return Recommendation(
        "min_cost",
        th,
        conf.false_accepts,
        conf.false_rejects,
        cost.total,
        conf,
        cost,
        explanation,
        exact,
        tuple(notes),
    )


def supported_escapes(defective_parts: int, max_escape_rate: float) -> int | None:
    """Most escapes k whose Wilson 95% upper bound k/n stays <= the cap (None: not even 0)."""
    k = math.floor(max_escape_rate * defective_parts + 1e-9)
    while k >= 0:
        ci = wilson_interval(k, defective_parts)
        if ci is not None and ci[1] <= max_escape_rate:
            return k
        k -= 1
    return None


def recommend_escape_cap(
    sample: ScoredSample,
    rejecting: npt.ArrayLike,
    max_escape_rate: float,
    cost_escape: float | None = None,
    cost_scrap: float | None = None,
    prevalence: float | None = None,
    *,
    current: npt.ArrayLike | None = None,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
) -> Recommendation | NoRecommendation:
    """Least scrap with the escape rate demonstrably under `max_escape_rate`.

    "Demonstrably" means the Wilson 95% upper bound of escapes / defective
    parts is <= the cap, not just the point estimate: a claim an auditor can
    accept. When the cap is met only by the point estimate, or not at all,
    the reason says which, and how many defective parts a sample would need.
    """
    if (
        isinstance(max_escape_rate, bool)
        or not isinstance(max_escape_rate, int | float)
        or not 0.0 <= max_escape_rate <= 1.0
    ):
        raise StationError(f"max_escape_rate: expected a number in [0, 1], got {max_escape_rate!r}")
    if cost_escape is not None or cost_scrap is not None:
        check_costs(cost_escape or 0.0, cost_scrap or 0.0, prevalence)
    rej, cur, refused = _prepare(sample, rejecting, current, "escape_cap")
    if refused is not None:
        return refused
    prob = _build(sample, rej, cur)
    n_def = prob.n_def
    cap_txt = f"{100 * max_escape_rate:.3g}%"
    lowest = np.zeros(len(prob.cands), np.intp)
    fa_min, _ = _evaluate(prob, lowest)
    k_point = math.floor(max_escape_rate * n_def + 1e-9)
    if fa_min > k_point:
        return NoRecommendation(
            "escape_cap",
            f"no thresholds meet the escape-rate cap of {cap_txt}: even at the lowest "
            f"thresholds {Rate.of(fa_min, n_def)} of defective parts ship, because the model "
            "scores no reject class on them",
        )
    k_sup = supported_escapes(n_def, max_escape_rate)

    def capped(limit: int) -> Objective:
        def objective(escapes: F64Array, scrap: F64Array) -> F64Array:
            return np.where(escapes <= limit, scrap, prob.n_good + 1.0 + escapes)

        return objective

    if k_sup is None or fa_min > k_sup:
        j, _ = _search(
            prob, capped(k_point), exhaustive_limit, _starts(prob, k_point, exhaustive_limit)
        )
        e, _ = _evaluate(prob, j)
        need = min_trials_for_upper_bound(max_escape_rate)
        rate = Rate.of(e, n_def)
        hi = rate.ci95[1] if rate.ci95 else 1.0
        return NoRecommendation(
            "escape_cap",
            f"the sample is too small to support an escape-rate cap of {cap_txt}: the best "
            f"thresholds on it ({_fmt_th(_thresholds_of(sample, prob, j))}) let {rate} of "
            f"defective parts ship, and the 95% upper bound {100 * hi:.3g}% exceeds the cap"
            + (f"; even 0 escapes needs at least {need} defective parts" if need else ""),
        )
    j, exact = _search(
        prob, capped(k_sup), exhaustive_limit, _starts(prob, k_sup, exhaustive_limit)
    )
    th = _thresholds_of(sample, prob, j)
    conf = confusion(sample, _vector(sample, cur, th), rej)
    cost = (
        expected_cost(conf, cost_escape or 0.0, cost_scrap or 0.0, prevalence)
        if cost_escape is not None or cost_scrap is not None
        else None
    )
    hi = conf.far.ci95[1] if conf.far.ci95 else 0.0
    explanation = (
        f"Least scrap with the escape rate at most {cap_txt} at 95% confidence (Wilson upper "
        f"bound {100 * hi:.3g}%): {_describe(conf)}"
        + (f"; expected cost {cost.total:.6g} for {cost.parts} parts" if cost else "")
        + f". Search: {_search_note(exact, prob)}."
    )
    return Recommendation(
        "escape_cap",
        th,
        conf.false_accepts,
        conf.false_rejects,
        cost.total if cost else None,
        conf,
        cost,
        explanation,
        exact,
        prob.notes,
    )


def chosen_recommendation(
    recommended: Mapping[str, Recommendation | NoRecommendation], cap: float | None
) -> Recommendation | None:
    """The recipe's rule: min-cost thresholds, unless a cap is given and they do not meet it
    (Wilson 95% upper bound of the escape rate above the cap); then the cap's."""
    mc = recommended.get("min_cost")
    ec = recommended.get("escape_cap")
    if isinstance(mc, Recommendation):
        ci = mc.confusion.far.ci95
        meets = cap is None or (ci is not None and ci[1] <= cap)
        if meets or not isinstance(ec, Recommendation):
            return mc
    return ec if isinstance(ec, Recommendation) else None


def _fmt_th(th: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in th.items())
