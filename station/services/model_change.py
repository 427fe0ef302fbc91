"""Comparing a candidate model with the current one on a labeled sample.

Each model is scored once (the score cache is keyed by model hash and
sample content, as for `station evaluate`), then given its own thresholds by
the recipe's rule: least expected cost at the recipe's costs, or the least
scrap under its escape cap when the min-cost thresholds do not meet it
(`core.recommendation.chosen_recommendation`). Re-deriving is the point: scores
are not comparable across models, so a candidate whose scores are a
monotone transform of the current model's must come out equivalent, with
its thresholds moved accordingly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from station.core.comparison import (
    ChangedPart,
    ClassScores,
    Verdict,
    changed_parts,
    class_scores,
    verdict,
)
from station.core.costs import Costs
from station.core.errors import StationError
from station.core.metrics import Confusion, confusion, not_shipped_mask
from station.core.ports import ModelInfo
from station.core.ranking import ranking_problem
from station.core.recommend import recommend_escape_cap, recommend_min_cost
from station.core.recommendation import (
    NoRecommendation,
    Recommendation,
    chosen_recommendation,
)
from station.core.sample import BoolArray
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet, reject_mask
from station.evaluation import ScoredFolder, score_folder
from station.services.recipe import Recipe


class NoThresholdsError(StationError):
    """No thresholds can be derived for one of the models on the sample (`role` says which)."""

    def __init__(self, role: str, message: str) -> None:
        super().__init__(message)
        self.role = role


ProgressFor = Callable[[str], Callable[[int, int], None] | None]
"""Given a model's role ("current", "candidate"), a progress callback for its scoring."""


@dataclass(frozen=True, slots=True)
class CompareSettings:
    """What the comparison takes from a recipe (or the defaults without one)."""

    costs: Costs = field(default_factory=Costs)
    reject_classes: tuple[str, ...] | None = None
    base_thresholds: ThresholdSet = field(default_factory=ThresholdSet)
    labels: Path | None = None
    family: str | None = None
    size_rules: SizeRules = field(default_factory=SizeRules)

    @classmethod
    def from_recipe(cls, recipe: Recipe | None) -> CompareSettings:
        if recipe is None:
            return cls()
        return cls(
            recipe.costs,
            recipe.reject_classes,
            recipe.thresholds,
            recipe.model.labels,
            recipe.model.family,
            recipe.size_rules,
        )


@dataclass(frozen=True, slots=True, eq=False)
class ModelEvaluation:
    """One model on the sample at its own re-derived thresholds."""

    role: str
    info: ModelInfo
    scored: ScoredFolder
    thresholds: ThresholdSet
    rule: str
    recommended: Mapping[str, Recommendation | NoRecommendation]
    confusion: Confusion
    not_shipped: BoolArray
    problem: str | None
    scores: tuple[ClassScores, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ModelComparison:
    current: ModelEvaluation
    candidate: ModelEvaluation
    rejecting: BoolArray
    settings: CompareSettings
    changed: tuple[ChangedPart, ...]
    verdict: Verdict
    reason: str

    def outside_current_intervals(self) -> list[str]:
        """The candidate's rates above the current model's Wilson 95% intervals.

        Only worse counts: a rate below the interval is an improvement, never a reason to
        refuse a model."""
        out = []
        for label, now, new in (
            ("FAR", self.current.confusion.far, self.candidate.confusion.far),
            ("FRR", self.current.confusion.frr, self.candidate.confusion.frr),
        ):
            ci = now.ci95
            if ci is not None and new.value is not None and new.value > ci[1]:
                out.append(
                    f"{label} {100 * new.value:.1f}% is above the original's 95% interval "
                    f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}%"
                )
        return out


def evaluate_model(
    role: str,
    model: Path | str,
    data: Path,
    settings: CompareSettings,
    *,
    progress: Callable[[int, int], None] | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> tuple[ModelEvaluation, BoolArray]:
    """Score `model` on `data` and re-derive its thresholds; also returns the reject mask."""
    from station.detectors import load_detector

    detector = load_detector(model, settings.labels, settings.family)
    info = detector.info
    names = info.class_names
    settings.base_thresholds.check_classes(names)
    rejecting = reject_mask(names, settings.reject_classes)
    scored = score_folder(
        detector,
        data,
        progress=progress,
        cache_dir=cache_dir,
        use_cache=use_cache,
        size_rules=settings.size_rules,  # both models judged by the recipe's size rules
    )
    sample = scored.sample
    base = settings.base_thresholds
    current = base.vector(names)
    costs = settings.costs
    recommended: dict[str, Recommendation | NoRecommendation] = {
        "min_cost": recommend_min_cost(
            sample, rejecting, costs.escape, costs.scrap, current=current
        )
    }
    if costs.max_escape_rate is not None:
        recommended["escape_cap"] = recommend_escape_cap(
            sample, rejecting, costs.max_escape_rate, costs.escape, costs.scrap, current=current
        )
    chosen = chosen_recommendation(recommended, costs.max_escape_rate)
    if chosen is None:
        why = "; ".join(r.reason for r in recommended.values() if isinstance(r, NoRecommendation))
        raise NoThresholdsError(
            role, f"--{role}: {model}: no thresholds can be derived on {data}: {why}"
        )
    tset = base.with_thresholds(dict(chosen.thresholds)).bound_to(info.sha256)
    vec = tset.vector(names)
    evaluation = ModelEvaluation(
        role,
        info,
        scored,
        tset,
        chosen.kind,
        recommended,
        confusion(sample, vec, rejecting),
        not_shipped_mask(sample, vec, rejecting),
        ranking_problem(sample),
        class_scores(sample),
    )
    return evaluation, rejecting


def compare_models(
    current: Path | str,
    candidate: Path | str,
    data: Path,
    settings: CompareSettings,
    *,
    progress_for: ProgressFor | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> ModelComparison:
    """Both models on the same sample, each at its own thresholds, and the verdict."""
    if not Path(data).is_dir():
        raise StationError(f"--data: {data} is not a folder")
    sides = {}
    for role, path in (("current", current), ("candidate", candidate)):
        progress = progress_for(role) if progress_for is not None else None
        sides[role] = evaluate_model(
            role, path, data, settings, progress=progress, cache_dir=cache_dir, use_cache=use_cache
        )
    now, rejecting = sides["current"]
    new, _ = sides["candidate"]
    if new.info.class_names != now.info.class_names:
        raise StationError(
            f"--candidate: {candidate}: classes {', '.join(new.info.class_names)} differ from "
            f"the current model's ({', '.join(now.info.class_names)}): not comparable"
        )
    defective = now.scored.sample.defective_for(rejecting)
    changed = changed_parts(
        now.scored.sample, now.not_shipped, new.scored.sample, new.not_shipped, defective
    )
    costs = settings.costs
    v, reason = verdict(now.confusion, new.confusion, costs.escape, costs.scrap)
    return ModelComparison(now, new, np.asarray(rejecting), settings, changed, v, reason)
