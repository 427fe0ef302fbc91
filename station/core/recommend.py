"""Recommended thresholds: least expected cost, or least scrap under an escape-rate cap.

Both search all reject classes jointly (`threshold_search`); what a result is
and when none can be made is in `recommendation`, the sentences that explain
it in `recommend_text`. Escapes and scrap are the
counts `outcomes` defines. Pass `progress` (a `JobState`) to see how far a
long search is and to cancel it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from station.core.costs import check_costs, cost_weights, expected_cost
from station.core.errors import StationError
from station.core.jobs import Progress, no_progress
from station.core.metrics import confusion
from station.core.rates import Rate, min_trials_for_upper_bound, wilson_interval
from station.core.recommend_text import (
    cap_unreachable,
    cap_unsupported,
    describe,
    search_note,
    wide_interval_note,
)
from station.core.recommendation import (
    NoRecommendation,
    Recommendation,
    prepare,
    thresholds_of,
    with_thresholds,
)
from station.core.sample import ScoredSample
from station.core.search_problem import F64Array, Objective, build_problem, evaluate
from station.core.threshold_search import cap_starts_if_needed, search

EXHAUSTIVE_LIMIT = 2_000_000
"""Largest number of threshold combinations searched exhaustively in one table."""


def recommend_min_cost(
    sample: ScoredSample,
    rejecting: npt.ArrayLike,
    cost_escape: float,
    cost_scrap: float,
    prevalence: float | None = None,
    *,
    current: npt.ArrayLike | None = None,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
    progress: Progress = no_progress,
) -> Recommendation | NoRecommendation:
    """Thresholds of least expected cost C_escape * escapes + C_scrap * scrap.

    At `prevalence` (share of defective parts; default the sample's) the
    sample is reweighted (see `costs.CostEstimate`). `current` (float32 per
    class) is kept for classes the sample never scores.
    """
    check_costs(cost_escape, cost_scrap, prevalence)
    rej, cur, refused = prepare(sample, rejecting, current, "min_cost")
    if refused is not None:
        return refused
    prob = build_problem(sample, rej, cur)
    w_def, w_good, prev = cost_weights(
        sample.n_parts, prob.n_def, cost_escape, cost_scrap, prevalence
    )

    def objective(escapes: F64Array, scrap: F64Array) -> F64Array:
        return w_def * escapes + w_good * scrap

    j, exact = search(prob, objective, exhaustive_limit, progress=progress)
    th = thresholds_of(sample, prob, j)
    conf = confusion(sample, with_thresholds(sample, cur, th), rej)
    cost = expected_cost(conf, cost_escape, cost_scrap, prevalence)
    prev_text = f"{100 * prev:.2f}% ({'given' if prevalence is not None else 'the sample’s'})"
    notes = list(prob.notes)
    if (wide := wide_interval_note(conf)) is not None:
        notes.append(wide)
    explanation = (
        f"Least expected cost at {cost_escape:g} per escape and {cost_scrap:g} per scrapped "
        f"good part, prevalence {prev_text}: {describe(conf)}; expected cost "
        f"{cost.total:.6g} for {cost.parts} parts ({cost.per_1000_parts:.4g} per 1000). "
        f"Search: {search_note(exact, prob.dims)}."
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
    progress: Progress = no_progress,
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
    rej, cur, refused = prepare(sample, rejecting, current, "escape_cap")
    if refused is not None:
        return refused
    prob = build_problem(sample, rej, cur)
    n_def = prob.n_def
    cap_txt = f"{100 * max_escape_rate:.3g}%"
    lowest = np.zeros(len(prob.cands), np.intp)
    fa_min, _ = evaluate(prob, lowest)
    k_point = math.floor(max_escape_rate * n_def + 1e-9)
    if fa_min > k_point:
        return NoRecommendation("escape_cap", cap_unreachable(cap_txt, fa_min, n_def))
    k_sup = supported_escapes(n_def, max_escape_rate)

    def capped(limit: int) -> Objective:
        def objective(escapes: F64Array, scrap: F64Array) -> F64Array:
            return np.where(escapes <= limit, scrap, prob.n_good + 1.0 + escapes)

        return objective

    if k_sup is None or fa_min > k_sup:
        starts = cap_starts_if_needed(prob, k_point, exhaustive_limit, progress)
        j, _ = search(prob, capped(k_point), exhaustive_limit, starts, progress=progress)
        e, _ = evaluate(prob, j)
        need = min_trials_for_upper_bound(max_escape_rate)
        th = thresholds_of(sample, prob, j)
        return NoRecommendation("escape_cap", cap_unsupported(cap_txt, th, Rate.of(e, n_def), need))
    starts = cap_starts_if_needed(prob, k_sup, exhaustive_limit, progress)
    j, exact = search(prob, capped(k_sup), exhaustive_limit, starts, progress=progress)
    th = thresholds_of(sample, prob, j)
    conf = confusion(sample, with_thresholds(sample, cur, th), rej)
    cost = (
        expected_cost(conf, cost_escape or 0.0, cost_scrap or 0.0, prevalence)
        if cost_escape is not None or cost_scrap is not None
        else None
    )
    hi = conf.far.ci95[1] if conf.far.ci95 else 0.0
    explanation = (
        f"Least scrap with the escape rate at most {cap_txt} at 95% confidence (Wilson upper "
        f"bound {100 * hi:.3g}%): {describe(conf)}"
        + (f"; expected cost {cost.total:.6g} for {cost.parts} parts" if cost else "")
        + f". Search: {search_note(exact, prob.dims)}."
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
