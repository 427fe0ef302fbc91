"""Detections as numpy columns, so filtering a frame's boxes never loops in Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def _readonly(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a.flags.writeable = False
    return a


@dataclass(frozen=True, slots=True)
class InstanceMasks:
    """Instance masks of a frame's detections, kept compact until drawn or measured.

    Row i of `coefficients` (n, nm) float32 belongs to detection i;
    `prototypes` (nm, mh, mw) float32 are shared by the whole frame and cover
    the model input `input_hw` (the letterboxed frame). A mask is
    sigmoid(coefficients · prototypes) > 0.5 cropped to the detection's box;
    `station.detectors.masks` renders it at frame resolution.
    """

    coefficients: FloatArray
    prototypes: FloatArray
    input_hw: tuple[int, int]

    def __post_init__(self) -> None:
        coef = np.asarray(self.coefficients, dtype=np.float32)
        protos = np.asarray(self.prototypes, dtype=np.float32)
        if coef.ndim != 2 or protos.ndim != 3 or coef.shape[1] != protos.shape[0]:
            raise ValueError(f"mask coefficients {coef.shape} do not fit prototypes {protos.shape}")
        object.__setattr__(self, "coefficients", _readonly(coef))
        object.__setattr__(self, "prototypes", _readonly(protos))

    def __len__(self) -> int:
        return len(self.coefficients)

    def select(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> InstanceMasks:
        return InstanceMasks(self.coefficients[index], self.prototypes, self.input_hw)


@dataclass(frozen=True, slots=True)
class Detections:
    """One frame's detections.

    `xyxy` is (n, 4) float32 in frame pixels (x1, y1, x2, y2); `confidence` is
    (n,) float32 at the model's output precision; `class_id` is (n,) int64
    indexing the model's class names. `data` holds extra per-detection columns
    (each of length n) that every filter carries along; `masks`, for a
    segmentation model, one instance mask per detection (None: boxes only).
    """

    xyxy: FloatArray
    confidence: FloatArray
    class_id: IntArray
    data: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)
    masks: InstanceMasks | None = None

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.class_id, dtype=np.int64).reshape(-1)
        n = len(xyxy)
        if len(conf) != n or len(cls) != n:
            raise ValueError(
                f"column lengths differ: xyxy {n}, confidence {len(conf)}, class_id {len(cls)}"
            )
        for name, col in self.data.items():
            if len(col) != n:
                raise ValueError(f"data column {name!r} has {len(col)} rows, expected {n}")
        if self.masks is not None and len(self.masks) != n:
            raise ValueError(f"{len(self.masks)} masks for {n} detections")
        object.__setattr__(self, "xyxy", _readonly(xyxy))
        object.__setattr__(self, "confidence", _readonly(conf))
        object.__setattr__(self, "class_id", _readonly(cls))

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.confidence)

    def select(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Detections:
        """The rows picked by a boolean mask or an index array, metadata included."""
        return Detections(
            self.xyxy[index],
            self.confidence[index],
            self.class_id[index],
            {k: np.asarray(v)[index] for k, v in self.data.items()},
            None if self.masks is None else self.masks.select(index),
        )

    def max_score_per_class(self, n_classes: int) -> FloatArray:
        """Highest confidence of each class in this frame; -inf where a class is absent.

        NaN confidences propagate, so a NaN score can never hide as "absent".
        """
        out = np.full(n_classes, -np.inf, dtype=np.float32)
        if len(self):
            np.maximum.at(out, self.class_id, self.confidence)
            nan_cls = self.class_id[np.isnan(self.confidence)]
            out[nan_cls] = np.nan
        return out
