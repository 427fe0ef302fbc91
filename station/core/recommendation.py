"""What a threshold recommendation is, when none can be made, and which one a recipe takes.

The searches that make one are in `recommend`; the sentences that explain it
in `recommend_text`. Escapes and scrap are the counts `outcomes` defines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.costs import CostEstimate
from station.core.errors import StationError
from station.core.metrics import Confusion
from station.core.ranking import ranking_problem
from station.core.recommend_text import shortest_float32
from station.core.sample import BoolArray, F32Array, ScoredSample
from station.core.search_problem import IntpArray, Problem
from station.core.thresholds import DEFAULT_THRESHOLD


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


def prepare(
    sample: ScoredSample, rejecting: npt.ArrayLike, current: npt.ArrayLike | None, kind: str
) -> tuple[BoolArray, F32Array, NoRecommendation | None]:
    """The reject flags, the current thresholds (float32), and why no search can defend a
    threshold on this sample (None when one can): both searches refuse the same samples."""
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
    defective = outcomes.defective_parts(sample.truth, rej)
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


def thresholds_of(sample: ScoredSample, prob: Problem, j: IntpArray) -> dict[str, float]:
    """The searched levels `j` by class name, as the shortest decimals that round-trip."""
    return {
        sample.class_names[int(c)]: shortest_float32(prob.cands[i][j[i]])
        for i, c in enumerate(prob.class_idx)
    }


def with_thresholds(sample: ScoredSample, cur: F32Array, th: Mapping[str, float]) -> F32Array:
    """`cur` with the named classes moved to `th` (classes the search left keep theirs)."""
    out = cur.copy()
    for name, t in th.items():
        out[sample.class_index(name)] = np.float32(t)
    return out


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
