"""Puts the tuning tab into the running station: one call from the composition root.

`add_tuning_tab(window, parts)` builds the view-model from the recipe and the
loaded model, routes "apply" through the guarded transaction (supervisor PIN,
audit trail in the station's log, recipe written atomically, then the
station's worker, which switches between two parts), and feeds the live
parts into the live estimate and the drift alarm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station.core.thresholds import ThresholdSet
from station.threshold_change import ThresholdChanger
from station.tuning_samples import SampleCatalog
from station.tuning_store import PinStore
from station.ui.tuning.tuning_view import TuningView
from station.ui.tuning.tuning_vm import TuningViewModel


class RecipeWriter:
    """Writes thresholds into the recipe file; keeps the recipe as re-read after each write."""

    def __init__(self, recipe: Any):
        self.recipe = recipe

    def __call__(self, new: ThresholdSet) -> Any:
        from station.recipe import save_recipe_thresholds

        self.recipe = save_recipe_thresholds(self.recipe, new)
        return self.recipe


def build_tuning(
    recipe: Any,
    model_info: Any,
    log: Any,
    deliver: Any,
    db_path: Path | None = None,
    pins: PinStore | None = None,
) -> tuple[TuningView, TuningViewModel]:
    """The tab and its view-model. `deliver(ThresholdSet)` hands a set to the running worker
    (e.g. `StationViewModel.apply_thresholds`); `log` is the station's SqliteInspectionLog."""
    changer = ThresholdChanger(pins or PinStore(), log, RecipeWriter(recipe), deliver)
    catalog = SampleCatalog.for_model(
        recipe.model.path,
        recipe.model.labels,
        recipe.model.family,
        db_path=db_path,
        model_sha256=model_info.sha256,
    )
    vm = TuningViewModel.from_recipe(
        recipe, tuple(model_info.class_names), model_info.sha256, changer, catalog
    )
    view = TuningView(vm)
    return view, vm


def add_tuning_tab(window: Any, parts: Any) -> TuningViewModel:
    """For `station.app`: adds the "Tuning" tab to `window` (a MainWindow) for `parts`."""
    station_vm = window.vm
    view, vm = build_tuning(
        parts.recipe, parts.detector.info, parts.log, station_vm.apply_thresholds, parts.db_path
    )
    station_vm.part_inspected.connect(vm.on_part)
    window.add_tab(view, "Tuning")
    window.tuning_vm = vm  # the window holds it: a view-model must outlive its signals
    return vm
