"""Per-class confidence thresholds, bound to the model they were tuned on.

A score ranks results within one model and one class only, so each class
earns its own threshold; unlisted classes fall back to `default_threshold`.
A detection is kept when `confidence >= T`, compared in float32 (the model's
output precision) so a score displayed as equal to T clears it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.errors import StationError

DEFAULT_THRESHOLD = 0.25


class ThresholdError(StationError, ValueError):
    """A threshold set that cannot be used; the message names the offending field."""


def parse_threshold(value: object, field_name: str) -> float:
    """A threshold in [0, 1] inclusive, or ThresholdError naming `field_name`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ThresholdError(f"{field_name}: expected a number in [0, 1], got {value!r}")
    t = float(value)
    if math.isnan(t):
        raise ThresholdError(f"{field_name}: expected a number in [0, 1], got NaN")
    if not 0.0 <= t <= 1.0:
        raise ThresholdError(f"{field_name}: {t:g} is outside [0, 1]")
    return t


@dataclass(frozen=True, slots=True)
class ThresholdSet:
    """`class_thresholds` {class name: T} plus `default_threshold` for unlisted classes.

    `model_sha256` is the SHA-256 of the model file the set was tuned on; a
    set used with another model needs re-tuning.
    """

    class_thresholds: Mapping[str, float] = field(default_factory=dict)
    default_threshold: float = DEFAULT_THRESHOLD
    model_sha256: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.class_thresholds, Mapping):
            raise ThresholdError(
                f"class_thresholds: expected a mapping of class name to threshold, "
                f"got {type(self.class_thresholds).__name__}"
            )
        parsed = {
            str(name): parse_threshold(t, f"class_thresholds.{name}")
            for name, t in self.class_thresholds.items()
        }
        object.__setattr__(self, "class_thresholds", MappingProxyType(parsed))
        object.__setattr__(
            self, "default_threshold", parse_threshold(self.default_threshold, "default_threshold")
        )

    def check_classes(self, class_names: Sequence[str]) -> None:
        """Refuse a class the model lacks: a typo must not silently disable a defect class."""
        unknown = sorted(set(self.class_thresholds) - set(class_names))
        if unknown:
            raise ThresholdError(
                f"class_thresholds: {', '.join(map(repr, unknown))} not a class of the model; "
                f"the model's classes are: {', '.join(class_names)}"
            )

    def threshold_for(self, class_name: str) -> float:
        return self.class_thresholds.get(class_name, self.default_threshold)

    def vector(self, class_names: Sequence[str]) -> npt.NDArray[np.float32]:
        """Thresholds indexed by class id, in float32 (the comparison precision)."""
        self.check_classes(class_names)
        return np.array([self.threshold_for(c) for c in class_names], dtype=np.float32)

    def resolved(self, class_names: Sequence[str]) -> dict[str, float]:
        """Every class's effective threshold, listed or defaulted."""
        return {c: self.threshold_for(c) for c in class_names}

    def with_thresholds(self, changes: Mapping[str, float]) -> ThresholdSet:
        return ThresholdSet(
            {**self.class_thresholds, **changes}, self.default_threshold, self.model_sha256
        )

    def bound_to(self, model_sha256: str) -> ThresholdSet:
        return ThresholdSet(self.class_thresholds, self.default_threshold, model_sha256)

    def needs_retuning(self, model_sha256: str) -> bool:
        """True when this set was tuned on another model (or on none recorded)."""
        return self.model_sha256 != model_sha256

    def to_dict(self) -> dict[str, object]:
        return {
            "class_thresholds": dict(self.class_thresholds),
            "default_threshold": self.default_threshold,
            "model_sha256": self.model_sha256,
        }

    def moves_to(self, new: ThresholdSet) -> list[str]:
        """What changes from this set to `new`, for people: ['scratch 0.40 → 0.35', ...]
        (listed classes by name, then the default; unchanged thresholds left out)."""
        names = sorted(set(self.class_thresholds) | set(new.class_thresholds))
        moves = [
            f"{c} {self.threshold_for(c):.2f} → {new.threshold_for(c):.2f}"
            for c in names
            if self.threshold_for(c) != new.threshold_for(c)
        ]
        if self.default_threshold != new.default_threshold:
            moves.append(f"default {self.default_threshold:.2f} → {new.default_threshold:.2f}")
        return moves


def reject_mask(
    class_names: Sequence[str], reject_classes: Iterable[str] | None
) -> npt.NDArray[np.bool_]:
    """Which class ids reject a part: all when `reject_classes` is None; empty is refused."""
    if reject_classes is None:
        return np.ones(len(class_names), dtype=bool)
    wanted = set(reject_classes)
    if not wanted:
        raise ThresholdError(
            "reject_classes: expected at least one class that rejects a part (none would pass "
            "every part, defective ones too); leave it out and every class rejects"
        )
    unknown = sorted(wanted - set(class_names))
    if unknown:
        raise ThresholdError(
            f"reject_classes: {', '.join(map(repr, unknown))} not a class of the model; "
            f"the model's classes are: {', '.join(class_names)}"
        )
    return np.array([c in wanted for c in class_names], dtype=bool)


def keep_mask(detections: Detections, thresholds: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """`confidence >= T[class]` in float32; NaN scores are never kept."""
    if not len(detections):
        return np.zeros(0, dtype=bool)
    return np.asarray(detections.confidence >= thresholds[detections.class_id], dtype=bool)


def filter_detections(detections: Detections, thresholds: npt.NDArray[np.float32]) -> Detections:
    """The detections that clear their class's threshold, metadata preserved."""
    return detections.select(keep_mask(detections, thresholds))
