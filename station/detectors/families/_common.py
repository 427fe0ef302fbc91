"""Small vectorised helpers shared by the family decoders."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def top_per_class(
    scores: npt.NDArray[np.float32], floor: float, k: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Multi-label candidates from class scores (nc, A): (class ids, anchor ids, scores).

    Every (class, anchor) pair with score >= `floor` is a candidate, except
    that each class keeps only its `k` best anchors (ties at the k-th score
    may add a few). The best candidate of every class is always kept.
    """
    n = scores.shape[1]
    if n > k:
        kth = np.partition(scores, n - k, axis=1)[:, n - k]
        cut = np.maximum(kth, np.float32(floor))[:, None]
        cls, anchor = np.nonzero(scores >= cut)
    else:
        cls, anchor = np.nonzero(scores >= np.float32(floor))
    return cls, anchor, scores[cls, anchor]


def cxcywh_to_xyxy(box: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """(4, n) rows cx, cy, w, h -> (n, 4) x1, y1, x2, y2 (float32)."""
    centre, half = box[:2], box[2:] * np.float32(0.5)
    return np.concatenate([centre - half, centre + half]).T
