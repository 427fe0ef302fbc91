"""A scored sample's detections as flat columns, so size rules re-apply without the model.

A part's per-class maximum is the highest confidence over the detections of
that class that pass the class's size rule. Keeping every detection's
(part, class, score, area, length) lets the tuning view and `station evaluate`
recompute the maxima for any size rules in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.errors import StationError
from station.core.size_rules import SizeRules, detection_sizes, size_mask

F32Array = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True, eq=False)
class PartDetections:
    """(n_detections,) columns: `part` row index, `class_id`, `confidence` float32,
    `area_px` and `length_px` float64 (see station.core.size_rules for how they are measured)."""

    part: npt.NDArray[np.int64]
    class_id: npt.NDArray[np.int64]
    confidence: F32Array
    area_px: npt.NDArray[np.float64]
    length_px: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        dtypes = {
            "part": np.int64,
            "class_id": np.int64,
            "confidence": np.float32,
            "area_px": np.float64,
            "length_px": np.float64,
        }
        cols: dict[str, npt.NDArray[np.generic]] = {
            name: np.array(getattr(self, name), dtype=dt).reshape(-1) for name, dt in dtypes.items()
        }
        lengths = {len(c) for c in cols.values()}
        if len(lengths) > 1:
            raise StationError(f"part detections: columns of different lengths {sorted(lengths)}")
        for name, col in cols.items():
            col.flags.writeable = False
            object.__setattr__(self, name, col)

    def __len__(self) -> int:
        return len(self.part)

    @classmethod
    def of_frames(cls, frames: Sequence[tuple[int, Detections]]) -> PartDetections:
        """The table of (part row, that part's detections) pairs."""
        sizes = [detection_sizes(dets) for _, dets in frames]
        none: npt.NDArray[Any] = np.zeros(0)
        return cls(
            np.concatenate([np.full(len(d), row, np.int64) for row, d in frames] or [none]),
            np.concatenate([d.class_id for _, d in frames] or [none]),
            np.concatenate([d.confidence for _, d in frames] or [none]),
            np.concatenate([a for a, _ in sizes] or [none]),
            np.concatenate([n for _, n in sizes] or [none]),
        )

    def class_maxima(
        self, base: npt.ArrayLike, class_names: Sequence[str], rules: SizeRules
    ) -> F32Array:
        """(n_parts, n_classes) maxima over the detections passing `rules`.

        `base` is the maxima without size rules: its rows with a NaN (no decision: unreadable
        image, model error, NaN score) are kept as they are, every other row is recomputed.
        """
        base32 = np.asarray(base, np.float32)
        if rules.empty:
            return base32.copy()
        undecided: npt.NDArray[np.bool_] = np.asarray(np.isnan(base32).any(axis=1), dtype=bool)
        out = np.where(undecided[:, None], base32, np.float32(-np.inf)).astype(np.float32)
        ok = size_mask(self.class_id, self.area_px, self.length_px, rules.vectors(class_names))
        ok &= ~undecided[self.part]
        np.maximum.at(out, (self.part[ok], self.class_id[ok]), self.confidence[ok])
        return out
