"""Shadow mode's checks at start: the candidate named by `[shadow]` against its thresholds.

A candidate's thresholds are bound to its hash like production's: thresholds tuned on
another model are refused (they would judge the candidate with numbers that mean nothing
for its scores), as is a pinned `shadow.sha256` the file does not have, a class the
candidate lacks, and a candidate without production's reject classes or size-rule classes.

Thresholds bound to no model at all (no `tuned_on_model_sha256`) are accepted, as
production's are, and flagged the same way: they need re-tuning (`retuning_warning`).
"""

from __future__ import annotations

from station.core.errors import StationError
from station.core.ports import ModelInfo
from station.core.thresholds import ThresholdError, reject_mask
from station.services.recipe import Recipe, ShadowConfig


def check_candidate(recipe: Recipe, shadow: ShadowConfig, info: ModelInfo) -> None:
    """StationError in one line naming the recipe and the `[shadow]` field at fault."""
    where = f"{recipe.path}: shadow"
    sha = info.sha256.lower()
    if shadow.model.sha256 is not None and shadow.model.sha256 != sha:
        raise StationError(
            f"{where}.sha256: expected {shadow.model.sha256}, but {shadow.model.path} has "
            f"{sha}: not the candidate this recipe names"
        )
    tuned = shadow.thresholds.model_sha256
    if tuned is not None and tuned != sha:
        raise StationError(
            f"{where}.tuned_on_model_sha256: expected the candidate's hash {sha} "
            f"({shadow.model.path.name}), got {tuned}: these thresholds were tuned on "
            "another model (re-derive them with `station compare`)"
        )
    names = tuple(info.class_names)
    try:
        shadow.thresholds.check_classes(names)
    except ThresholdError as exc:
        msg = str(exc).replace("class_thresholds", "classes", 1)
        raise StationError(f"{where}.{msg}") from None
    try:
        recipe.size_rules.check_classes(names)
    except StationError as exc:
        raise StationError(
            f"{where}.model: the candidate lacks a class of [size_rules] ({exc})"
        ) from None
    try:
        reject_mask(names, recipe.reject_classes)
    except ThresholdError as exc:
        raise StationError(
            f"{where}.model: the candidate lacks a reject class of [thresholds] ({exc})"
        ) from None


def retuning_warning(recipe: Recipe, shadow: ShadowConfig, info: ModelInfo) -> str | None:
    """One line when the candidate's thresholds are bound to no model hash (production's rule:
    accepted, but they need re-tuning), else None. Call after `check_candidate`."""
    if not shadow.thresholds.needs_retuning(info.sha256.lower()):
        return None
    return (
        f"{recipe.path}: shadow.tuned_on_model_sha256: not set, so the candidate's thresholds "
        f"are bound to no model and need re-tuning (`station compare` re-derives them for "
        f"{shadow.model.path.name}, hash {info.sha256.lower()[:12]}…)"
    )
