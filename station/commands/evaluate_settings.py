"""What `station evaluate` judges with: thresholds, rejecting classes, costs and cap, from the
recipe (with `--recipe`) overridden by the flags, each flag checked and named when refused;
size rules from the recipe."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from station.commands.threshold_flags import check_threshold_set_keys, load_json_object
from station.core.costs import Costs
from station.core.errors import StationError
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet, parse_threshold, reject_mask


@dataclass(frozen=True, slots=True, eq=False)
class EvaluateSettings:
    """`costs_given`: costs came from a recipe or the flags (else no min-cost recommendation)."""

    thresholds: ThresholdSet
    reject: tuple[str, ...] | None
    rejecting: npt.NDArray[np.bool_]
    cost_escape: float
    cost_scrap: float
    costs_given: bool
    cap: float | None
    prevalence: float | None
    size_rules: SizeRules = field(default_factory=SizeRules)

    @property
    def costs(self) -> Costs:
        return Costs(self.cost_escape, self.cost_scrap, self.cap)


def settings_from(
    args: argparse.Namespace, recipe: Any, names: tuple[str, ...]
) -> EvaluateSettings:
    """The settings for a model with class `names`; StationError naming the flag or field."""
    base = recipe.thresholds if recipe is not None else ThresholdSet()
    tset = _thresholds(args, base, names)
    if args.reject_classes is not None:
        reject: tuple[str, ...] | None = tuple(
            c.strip() for c in args.reject_classes.split(",") if c.strip()
        )
    else:
        reject = recipe.reject_classes if recipe is not None else None
    try:
        rejecting = reject_mask(names, reject)
    except StationError as exc:
        raise StationError(f"--reject-classes: {exc}".replace("reject_classes: ", "")) from None

    costs = recipe.costs if recipe is not None else Costs()
    ce = _number(args.cost_escape, "--cost-escape", 0.0, None)
    cs = _number(args.cost_scrap, "--cost-scrap", 0.0, None)
    if recipe is None and (ce is None) != (cs is None):
        missing = "--cost-scrap" if cs is None else "--cost-escape"
        raise StationError(f"{missing}: expected with the other cost (or costs from a --recipe)")
    cap = _number(args.max_escape_rate, "--max-escape-rate", 0.0, 1.0)
    return EvaluateSettings(
        thresholds=tset,
        reject=reject,
        rejecting=rejecting,
        cost_escape=ce if ce is not None else costs.escape,
        cost_scrap=cs if cs is not None else costs.scrap,
        costs_given=recipe is not None or ce is not None,
        cap=cap if cap is not None else costs.max_escape_rate,
        prevalence=_number(args.prevalence, "--prevalence", 0.0, 1.0),
        size_rules=recipe.size_rules if recipe is not None else SizeRules(),
    )


def _number(text: str | None, flag: str, lo: float, hi: float | None) -> float | None:
    if text is None:
        return None
    raw = text.strip()
    pct = raw.endswith("%")
    try:
        value = float(raw[:-1] if pct else raw) / (100.0 if pct else 1.0)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < lo or (hi is not None and value > hi):
        rng = f">= {lo:g}" if hi is None else f"in [{lo:g}, {hi:g}]"
        raise StationError(f"{flag}: expected a number {rng}, got {text!r}")
    return value


def _thresholds(
    args: argparse.Namespace, base: ThresholdSet, names: tuple[str, ...]
) -> ThresholdSet:
    per_class: dict[str, object] = dict(base.class_thresholds)
    default: object = base.default_threshold
    if args.thresholds is not None:
        obj, source = load_json_object(args.thresholds)
        nested = obj.get("class_thresholds")
        if isinstance(nested, dict):
            check_threshold_set_keys(obj, source)
            per_class.update(nested)
            default = obj.get("default_threshold", default)
        else:
            per_class.update(obj)
    if args.default_threshold is not None:
        try:
            default = float(args.default_threshold)
        except ValueError:
            default = args.default_threshold
        parse_threshold(default, "--default-threshold")
    tset = ThresholdSet(per_class, default, base.model_sha256)  # type: ignore[arg-type]
    tset.check_classes(names)
    return tset
