"""Two models on one labeled sample: how their scores moved, which parts changed, a verdict.

Scores of two models are not comparable value for value (a retrained or
re-exported model moves the whole distribution), so the comparison never
reads one model's scores against the other's thresholds. Each model is
judged at its own re-derived thresholds; what is compared is what the
scores *rank* (AUROC, which any monotone transform leaves unchanged) and
the part-level outcome (FAR, FRR with Wilson 95% intervals).

The verdict:

- `equivalent`: both rates lie within each other's intervals (each model's
  FAR inside the other's FAR interval, and likewise FRR);
- `better` / `worse`: otherwise, by the rates that moved outside the
  intervals; when one moved each way, by the expected cost at the given
  costs (the trade-off the recipe states).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from station.core.costs import expected_cost
from station.core.decision import Outcome
from station.core.metrics import Confusion
from station.core.outcomes import change_effect, ships
from station.core.rates import Rate
from station.core.sample import BoolArray, ScoredSample

QUANTILES = (0.1, 0.5, 0.9)


class Verdict(StrEnum):
    BETTER = "better"
    EQUIVALENT = "equivalent"
    WORSE = "worse"


def auroc(positive: npt.ArrayLike, negative: npt.ArrayLike) -> float | None:
    """Probability that a positive outscores a negative (ties count half); None if a side is
    empty. -inf (class not detected) ranks lowest; NaN scores are left out."""
    pos = np.asarray(positive, dtype=np.float64).reshape(-1)
    neg = np.asarray(negative, dtype=np.float64).reshape(-1)
    pos, neg = pos[~np.isnan(pos)], neg[~np.isnan(neg)]
    if pos.size == 0 or neg.size == 0:
        return None
    neg_sorted = np.sort(neg)
    below = np.searchsorted(neg_sorted, pos, side="left")
    not_above = np.searchsorted(neg_sorted, pos, side="right")
    wins = below.sum() + 0.5 * (not_above - below).sum()
    return float(wins / (pos.size * neg.size))


@dataclass(frozen=True, slots=True)
class ClassScores:
    """One model's per-part maximum scores of one class: quantiles for parts with a true
    defect of that class and for all other parts (None when a group is empty), and AUROC.
    -inf (not detected) counts as 0 in the quantiles."""

    class_name: str
    defective_quantiles: tuple[float, ...] | None
    other_quantiles: tuple[float, ...] | None
    auroc: float | None


def class_scores(sample: ScoredSample) -> tuple[ClassScores, ...]:
    out = []
    live = ~sample.no_decision
    for c, name in enumerate(sample.class_names):
        col = sample.scores[live, c].astype(np.float64)
        has = sample.truth[live, c]
        shown = np.where(np.isneginf(col), 0.0, col)
        out.append(
            ClassScores(
                name,
                _quantiles(shown[has]),
                _quantiles(shown[~has]),
                auroc(col[has], col[~has]),
            )
        )
    return tuple(out)


def _quantiles(x: npt.NDArray[np.float64]) -> tuple[float, ...] | None:
    if x.size == 0:
        return None
    return tuple(float(q) for q in np.quantile(x, QUANTILES))


def outcomes(not_shipped: BoolArray, no_decision: BoolArray) -> list[Outcome]:
    """Per part: no decision, reject or pass (from `metrics.not_shipped_mask`)."""
    return [
        Outcome.NO_DECISION if nd else Outcome.REJECT if ns else Outcome.PASS
        for ns, nd in zip(not_shipped.tolist(), no_decision.tolist(), strict=True)
    ]


@dataclass(frozen=True, slots=True)
class ChangedPart:
    """A part whose outcome differs between the two models at their own thresholds."""

    part_id: str
    defective: bool
    labels: tuple[str, ...]
    current: Outcome
    candidate: Outcome

    @property
    def effect(self) -> str:
        """What the change does to this part, in the station's words."""
        return change_effect(self.defective, ships(self.current), ships(self.candidate))


def changed_parts(
    current: ScoredSample,
    current_not_shipped: BoolArray,
    candidate: ScoredSample,
    candidate_not_shipped: BoolArray,
    defective: BoolArray,
) -> tuple[ChangedPart, ...]:
    """Parts whose outcome changes (both samples scored on the same parts, same order)."""
    if current.part_ids != candidate.part_ids:
        raise ValueError("changed_parts: the two scored samples hold different parts")
    before = outcomes(current_not_shipped, current.no_decision)
    after = outcomes(candidate_not_shipped, candidate.no_decision)
    names = np.array(current.class_names, dtype=object)
    return tuple(
        ChangedPart(
            current.part_ids[i],
            bool(defective[i]),
            tuple(str(n) for n in names[current.truth[i]]),
            before[i],
            after[i],
        )
        for i in range(current.n_parts)
        if before[i] is not after[i]
    )


# -- the verdict ------------------------------------------------------------------------------


def _inside(value: float | None, ci: tuple[float, float] | None) -> bool:
    if value is None or ci is None:
        return True  # nothing measured (no defective or no good parts): no evidence of a change
    return ci[0] <= value <= ci[1]


def within_each_other(a: Rate, b: Rate) -> bool:
    """Each rate lies within the other's Wilson 95% interval."""
    return _inside(a.value, b.ci95) and _inside(b.value, a.ci95)


def _rate_text(label: str, a: Rate, b: Rate) -> str:
    return f"{label} {a} -> {b}"


def verdict(
    current: Confusion,
    candidate: Confusion,
    cost_escape: float,
    cost_scrap: float,
    prevalence: float | None = None,
) -> tuple[Verdict, str]:
    """The verdict on the candidate and its reason in words (see the module doc)."""
    pairs = (
        ("FAR (escapes)", current.far, candidate.far),
        ("FRR (scrap)", current.frr, candidate.frr),
    )
    moved = [(label, a, b) for label, a, b in pairs if not within_each_other(a, b)]
    if not moved:
        both = "; ".join(_rate_text(label, a, b) for label, a, b in pairs)
        return Verdict.EQUIVALENT, f"both rates within each other's 95% intervals: {both}"
    lower = [m for m in moved if (m[2].value or 0.0) < (m[1].value or 0.0)]
    higher = [m for m in moved if m not in lower]
    text = "; ".join(_rate_text(label, a, b) for label, a, b in moved)
    if not higher:
        return Verdict.BETTER, f"lower outside the current model's 95% interval: {text}"
    if not lower:
        return Verdict.WORSE, f"higher outside the current model's 95% interval: {text}"
    c_now = expected_cost(current, cost_escape, cost_scrap, prevalence).total
    c_new = expected_cost(candidate, cost_escape, cost_scrap, prevalence).total
    costs = (
        f"expected cost {c_now:.6g} -> {c_new:.6g} at {cost_escape:g}/escape, {cost_scrap:g}/scrap"
    )
    if c_new < c_now:
        return Verdict.BETTER, f"one rate up, one down ({text}): {costs}"
    return Verdict.WORSE, f"one rate up, one down ({text}): {costs}"
