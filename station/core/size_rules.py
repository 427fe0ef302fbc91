"""Defect size as a decision rule: a detection counts against its class only when it is big enough.

A QC rule is often "reject a scratch longer than 2 mm", not only "scored >= 0.6".
Per class, an optional minimum area and minimum length, in pixels or (with a
calibration, mm per pixel) in millimetres. A detection counts when its
confidence clears the class threshold AND its size reaches both minima
(inclusive). The same rule is applied by the live decision, `station detect`,
`station evaluate` and the tuning view: one definition, here.

How a detection is measured (frame pixels):
- area: the mask's pixel count for a segmentation model's measured mask,
  otherwise the box's area (w x h);
- length: the longer side of the mask's minimum-area rectangle for a measured
  mask (a diagonal scratch measures along itself, not its box), otherwise the
  box's longer side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.errors import StationError

F64Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MASK_AREA = "mask_area_px"
"""`Detections.data` column: a measured mask's area in frame pixels (-1: not measured)."""
MASK_LENGTH = "mask_length_px"
"""`Detections.data` column: the longer side of a measured mask's minimum-area rectangle,
frame pixels (-1: not measured)."""
UNITS = ("px", "mm")
MEASURES = ("min_area", "min_length")


class SizeRuleError(StationError, ValueError):
    """A size rule that cannot be used; the message names the offending field."""


def _minimum(value: object, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise SizeRuleError(f"{field_name}: expected a number >= 0, got {value!r}")
    v = float(value)
    if math.isnan(v) or math.isinf(v) or v < 0:
        raise SizeRuleError(f"{field_name}: expected a finite number >= 0, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class SizeRules:
    """`min_area` / `min_length` per class name, in `unit` ("px": px² and px; "mm": mm² and
    mm, converted with `mm_per_px`). A class without a rule counts at any size."""

    min_area: Mapping[str, float] = field(default_factory=dict)
    min_length: Mapping[str, float] = field(default_factory=dict)
    unit: str = "px"
    mm_per_px: float | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise SizeRuleError(f"size_rules.unit: expected 'px' or 'mm', got {self.unit!r}")
        if self.mm_per_px is not None:
            mpp = _minimum(self.mm_per_px, "calibration.mm_per_px")
            if mpp <= 0:
                raise SizeRuleError(f"calibration.mm_per_px: expected a number > 0, got {mpp:g}")
            object.__setattr__(self, "mm_per_px", mpp)
        if self.unit == "mm" and self.mm_per_px is None:
            raise SizeRuleError(
                "size_rules.unit: 'mm' needs [calibration] mm_per_px (how many mm one pixel is)"
            )
        for measure in MEASURES:
            rules = getattr(self, measure)
            parsed = {
                str(c): _minimum(v, f"size_rules.classes.{c}.{measure}") for c, v in rules.items()
            }
            object.__setattr__(self, measure, MappingProxyType(parsed))

    @property
    def empty(self) -> bool:
        return not any(self.min_area.values()) and not any(self.min_length.values())

    def check_classes(self, class_names: Sequence[str]) -> None:
        """Refuse a class the model lacks: a typo must not silently drop a size rule."""
        unknown = sorted((set(self.min_area) | set(self.min_length)) - set(class_names))
        if unknown:
            raise SizeRuleError(
                f"size_rules.classes: {', '.join(map(repr, unknown))} not a class of the model; "
                f"the model's classes are: {', '.join(class_names)}"
            )

    def _px(self, value: float, power: int) -> float:
        return value if self.unit == "px" else value / float(self.mm_per_px or 1.0) ** power

    def vectors(self, class_names: Sequence[str]) -> tuple[F64Array, F64Array]:
        """(min area px², min length px) indexed by class id; 0 where a class has no rule."""
        self.check_classes(class_names)
        area = [self._px(self.min_area.get(c, 0.0), 2) for c in class_names]
        length = [self._px(self.min_length.get(c, 0.0), 1) for c in class_names]
        return np.array(area, np.float64), np.array(length, np.float64)

    def with_rule(self, class_name: str, measure: str, value: float) -> SizeRules:
        """A copy with one class's `measure` ("min_area" or "min_length") set (0 removes it)."""
        if measure not in MEASURES:
            raise SizeRuleError(f"size rule: expected one of {MEASURES}, got {measure!r}")
        table = {**getattr(self, measure), class_name: value}
        table = {c: v for c, v in table.items() if v}
        other = "min_length" if measure == "min_area" else "min_area"
        kw = {measure: table, other: dict(getattr(self, other))}
        return SizeRules(unit=self.unit, mm_per_px=self.mm_per_px, **kw)

    def area_text(self, area_px: float) -> str:
        if self.unit == "mm":
            return f"{area_px * float(self.mm_per_px or 1.0) ** 2:.1f} mm²"
        return f"{area_px:.0f} px²"

    def length_text(self, length_px: float) -> str:
        if self.unit == "mm":
            return f"{length_px * float(self.mm_per_px or 1.0):.1f} mm"
        return f"{length_px:.0f} px"

    def reason(self, class_name: str, area_px: float, length_px: float) -> str:
        """The size part of a reject reason, '3.2 mm ≥ 2.0 mm'; "" for a class without a rule."""
        parts = []
        if self.min_length.get(class_name):
            want = self._px(self.min_length[class_name], 1)
            parts.append(f"{self.length_text(length_px)} ≥ {self.length_text(want)}")
        if self.min_area.get(class_name):
            want = self._px(self.min_area[class_name], 2)
            parts.append(f"{self.area_text(area_px)} ≥ {self.area_text(want)}")
        return ", ".join(parts)

    def describe(self) -> str:
        """For people: 'scratch length ≥ 2.0 mm; stain area ≥ 1.5 mm²' ("" without rules)."""
        unit = "mm" if self.unit == "mm" else "px"
        parts = []
        for c in sorted(set(self.min_area) | set(self.min_length)):
            if self.min_length.get(c):
                parts.append(f"{c} length ≥ {self.min_length[c]:g} {unit}")
            if self.min_area.get(c):
                parts.append(f"{c} area ≥ {self.min_area[c]:g} {unit}²")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        classes = sorted(set(self.min_area) | set(self.min_length))
        return {
            "unit": self.unit,
            "mm_per_px": self.mm_per_px,
            "classes": {
                c: {
                    k: v
                    for k, v in (
                        ("min_area", self.min_area.get(c)),
                        ("min_length", self.min_length.get(c)),
                    )
                    if v
                }
                for c in classes
            },
        }


def detection_sizes(detections: Detections) -> tuple[F64Array, F64Array]:
    """(area px², length px) per detection: a measured mask's, else the box's."""
    xyxy = detections.xyxy.astype(np.float64)
    w = np.clip(xyxy[:, 2] - xyxy[:, 0], 0.0, None)
    h = np.clip(xyxy[:, 3] - xyxy[:, 1], 0.0, None)
    area, length = w * h, np.maximum(w, h)
    mask_area = detections.data.get(MASK_AREA)
    if mask_area is not None:
        a = np.asarray(mask_area, np.float64)
        area = np.where(a >= 0, a, area)
    mask_length = detections.data.get(MASK_LENGTH)
    if mask_length is not None:
        n = np.asarray(mask_length, np.float64)
        length = np.where(n >= 0, n, length)
    return area, length


def size_mask(
    class_id: npt.ArrayLike,
    area_px: npt.ArrayLike,
    length_px: npt.ArrayLike,
    minima: tuple[F64Array, F64Array],
) -> BoolArray:
    """(n,) bool: each detection's size reaches its class's minima (inclusive)."""
    cls = np.asarray(class_id, np.int64)
    min_area, min_length = minima
    ok = (np.asarray(area_px) >= min_area[cls]) & (np.asarray(length_px) >= min_length[cls])
    return np.asarray(ok, dtype=bool)
