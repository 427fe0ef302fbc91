"""`station evaluate --write-recipe OUT`: the recommended thresholds, bound to the model's hash,
written as a recipe (the given recipe's other tables kept, or a new one for a bare model)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.recommendation import NoRecommendation, Recommendation, chosen_recommendation
from station.core.thresholds import ThresholdSet


def check_recipe_out(out: Path) -> None:
    """Refuse an OUT the recipe could not be written to, before anything is scored."""
    out = Path(out)
    folder = out.parent
    if out.is_dir():
        raise StationError(
            f"--write-recipe: {out} is a folder; give a file name such as {out / 'recipe.toml'}"
        )
    if not folder.is_dir():
        raise StationError(f"--write-recipe: {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StationError(f"--write-recipe: {out}: folder {folder} is not writable")


def write_recommended_recipe(
    args: argparse.Namespace,
    recipe: Any,
    tset: ThresholdSet,
    reject: tuple[str, ...] | None,
    recommended: Mapping[str, Recommendation | NoRecommendation],
    info: Any,
    cap: float | None,
    costs: Any,
) -> Path:
    from station.core.shifts import ShiftSchedule
    from station.services.recipe import CameraConfig, ModelRef, Recipe
    from station.services.recipe_write import write_recipe

    chosen = chosen_recommendation(recommended, cap)
    if chosen is None:
        reasons = "; ".join(
            f"{k}: {r.reason}" for k, r in recommended.items() if isinstance(r, NoRecommendation)
        )
        raise StationError(
            "--write-recipe: no recommended thresholds to write"
            + (f" ({reasons})" if reasons else " (give --cost-escape/--cost-scrap or a cap)")
        )
    new = tset.with_thresholds(dict(chosen.thresholds)).bound_to(info.sha256)
    out = Path(args.write_recipe)
    if recipe is not None:
        base = replace(recipe, thresholds=new, reject_classes=reject, costs=costs)
    else:
        base = Recipe(
            path=out,
            product=Path(str(args.model)).stem,
            station_id="station-1",
            model=ModelRef(
                Path(str(args.model)).resolve(),
                info.sha256,
                args.labels.resolve() if args.labels else None,
                args.family,
            ),
            thresholds=new,
            reject_classes=reject,
            camera=CameraConfig("synthetic", {}),
            shifts=ShiftSchedule(),
            costs=costs,
        )
    write_recipe(base, out)
    return out
