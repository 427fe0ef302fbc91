"""Builds the tuning tab for a recipe and a loaded model: one call for a composition root.

`build_tuning` makes the view-model from the recipe and the model, routes
"apply" through the guarded transaction (supervisor PIN, audit trail in the
station's log, recipe written atomically, then `deliver`, which hands the set
to the station's worker, applied between two parts), and gives the tab a
`ModelPromoter` (`station promote`'s service; `promoter.switched` names the recipe to
reopen). The composition root (`station.app_window`) connects the station's `part_inspected` to
`TuningViewModel.monitor.on_part` (live estimate, drift alarm), each part view's
`part_confirmed` to `monitor.on_part_confirmed`, and `drift_changed` to the status line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station.core.thresholds import ThresholdSet
from station.services.threshold_change import ThresholdChanger
from station.services.tuning_samples import SampleCatalog
from station.services.tuning_store import PinStore
from station.ui.tuning.promote_vm import ModelPromoter
from station.ui.tuning.tuning_view import TuningView
from station.ui.tuning.tuning_vm import TuningViewModel


class RecipeWriter:
    """Writes thresholds into the recipe file; keeps the recipe as re-read after each write."""

    def __init__(self, recipe: Any):
        self.recipe = recipe

    def __call__(self, new: ThresholdSet) -> Any:
        from station.services.recipe_write import save_recipe_thresholds

        self.recipe = save_recipe_thresholds(self.recipe, new)
        return self.recipe


def build_tuning(
    recipe: Any,
    model_info: Any,
    log: Any,
    deliver: Any,
    db_path: Path | None = None,
    pins: PinStore | None = None,
    cache_dir: Path | None = None,
) -> tuple[TuningView, TuningViewModel]:
    """The tab and its view-model. `deliver(ThresholdSet)` hands a set to the running worker
    (e.g. `StationViewModel.apply_thresholds`); `log` is the station's SqliteInspectionLog;
    `cache_dir` keeps scored samples (`station.services.shipped_sample.cache_root()` for the
    station)."""
    pins = pins or PinStore()
    changer = ThresholdChanger(pins, log, RecipeWriter(recipe), deliver)
    catalog = SampleCatalog.for_model(
        recipe.model.path,
        recipe.model.labels,
        recipe.model.family,
        db_path=db_path,
        model_sha256=model_info.sha256,
        cache_dir=cache_dir,
        central_url=getattr(recipe, "central_url", None),
    )
    vm = TuningViewModel.from_recipe(
        recipe, tuple(model_info.class_names), model_info.sha256, changer, catalog
    )
    promoter = ModelPromoter(recipe.path, pins, log, vm)
    view = TuningView(vm, promoter=promoter)
    return view, vm
