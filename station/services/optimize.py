"""An int8 model with its thresholds re-derived, or a clear refusal.

Quantisation moves scores, so the int8 file is treated as any new model:
compared with the original on the station's labeled sample (`compare_models`,
each at its own thresholds by the recipe's rule), and a recipe is written for
the new file's hash only when its FAR and FRR both stay inside the original's
Wilson 95% intervals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.core.shifts import ShiftSchedule
from station.services.model_change import (
    CompareSettings,
    ModelComparison,
    NoThresholdsError,
    compare_models,
)
from station.services.recipe import CameraConfig, ModelRef, Recipe
from station.services.recipe_write import write_recipe

CALIBRATION_PARTS = 100
"""Calibration frames, spread over the sample: enough for stable activation ranges."""


@dataclass(frozen=True, slots=True, eq=False)
class Optimized:
    """The int8 file, its comparison with the original (None when the int8 scores rank
    nothing), why it is refused (empty: accepted), and the recipe (None when refused)."""

    out: Path
    float_nodes: tuple[str, ...]
    comparison: ModelComparison | None
    problems: tuple[str, ...]
    recipe: Path | None


def recipe_path_for(out: Path) -> Path:
    """Where the int8 model's recipe goes: beside it, same stem (`m.int8.onnx` -> `m.int8.toml`)."""
    return out.with_suffix(".toml")


def check_paths(model: Path, sample: Path, out: Path) -> None:
    """Refuse, before any work, what would fail later or overwrite the input."""
    if not model.is_file():
        raise StationError(f"MODEL: {model}: model file not found")
    if not sample.is_dir():
        raise StationError(f"--sample: {sample} is not a folder")
    if not out.parent.is_dir():
        raise StationError(f"--out: folder {out.parent} does not exist")
    if out.resolve() == model.resolve():
        raise StationError(f"--out: {out} is the model itself; write the int8 copy elsewhere")


def optimize_model(
    model: Path,
    sample: Path,
    out: Path,
    recipe: Recipe | None,
    *,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    calibration_parts: int = CALIBRATION_PARTS,
) -> Optimized:
    """Quantise `model` on `sample`, compare, and write the recipe when the rates hold.

    Calibration reads `calibration_parts` images spread over the sample; the
    comparison uses all of it.
    """
    from station.detectors import OnnxDetector, load_detector
    from station.detectors.quantize import quantize_int8, spread
    from station.evaluation import read_yolo_sample

    check_paths(model, sample, out)
    settings = CompareSettings.from_recipe(recipe)
    detector = load_detector(model, settings.labels, settings.family)
    if not isinstance(detector, OnnxDetector):
        raise StationError(f"MODEL: {model}: only an ONNX model can be quantised")
    yolo = read_yolo_sample(sample, detector.info.class_names)
    paths = spread(yolo.image_paths, calibration_parts)

    def frames() -> Iterator[npt.NDArray[np.uint8]]:
        for p in paths:
            image = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if image is not None and image.size:
                yield np.asarray(image, dtype=np.uint8)

    tail = quantize_int8(detector, frames, out)
    try:
        comparison = compare_models(
            model, out, sample, settings, cache_dir=cache_dir, use_cache=use_cache
        )
    except NoThresholdsError as exc:
        if exc.role != "candidate":
            raise
        return Optimized(out, tuple(tail), None, (f"the int8 model is unusable: {exc}",), None)
    problems = tuple(comparison.outside_current_intervals())
    written = None if problems else _write(recipe, model, out, comparison)
    return Optimized(out, tuple(tail), comparison, problems, written)


def _write(recipe: Recipe | None, model: Path, out: Path, comparison: ModelComparison) -> Path:
    cand = comparison.candidate
    path = recipe_path_for(out)
    if recipe is not None:
        ref = replace(recipe.model, path=out.resolve(), sha256=cand.info.sha256)
        base = replace(recipe, model=ref, thresholds=cand.thresholds)
    else:
        base = Recipe(
            path=path,
            product=model.stem,
            station_id="station-1",
            model=ModelRef(out.resolve(), cand.info.sha256),
            thresholds=cand.thresholds,
            reject_classes=None,
            camera=CameraConfig("synthetic", {}),
            shifts=ShiftSchedule(),
            costs=comparison.settings.costs,
        )
    write_recipe(base, path)
    return path
