"""Small vectorised helpers shared by the family decoders."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def best(
    index: npt.NDArray[np.intp], score: npt.NDArray[np.float32], k: int
) -> npt.NDArray[np.intp]:
    """`index` cut to the `k` entries with the highest `score` (score aligned with index)."""
    if index.size <= k:
        return index
    return index[np.argpartition(score, -k)[-k:]]


def cxcywh_to_xyxy(
    cx: npt.NDArray[np.float32],
    cy: npt.NDArray[np.float32],
    w: npt.NDArray[np.float32],
    h: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    half_w, half_h = w * np.float32(0.5), h * np.float32(0.5)
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1).astype(np.float32)
