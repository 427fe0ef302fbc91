"""Class-aware non-maximum suppression by OpenCV (`cv2.dnn.NMSBoxesBatched`).

Boxes of different classes never suppress each other: a crack inside a
stain is two defects, not one.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

MIN_SIDE_PX = np.float32(0.01)
"""Boxes narrower or flatter than this (pixels) enter NMS with this side instead."""


def nms_class_aware(
    xyxy: npt.NDArray[np.float32],
    confidence: npt.NDArray[np.float32],
    class_id: npt.NDArray[np.int64],
    iou_threshold: float,
) -> npt.NDArray[np.intp]:
    """Indices of the boxes kept, highest confidence first.

    A box is suppressed when its IoU with a kept, higher-scoring box of the
    same class exceeds `iou_threshold`. Every confidence must be > 0 (the
    caller's floor guarantees it: OpenCV keeps only scores > its threshold 0).
    """
    if not len(confidence):
        return np.zeros(0, dtype=np.intp)
    xywh = np.array(xyxy, dtype=np.float32, copy=True)
    xywh[:, 2:] -= xywh[:, :2]
    # OpenCV rates two zero-area boxes as identical (IoU 1) wherever they are, and its
    # batched call separates classes only by position: a flat box (a zero width or height
    # predicted, or clipped) would suppress flat boxes of *other* classes. A sliver of
    # MIN_SIDE_PX keeps them apart.
    np.maximum(xywh[:, 2:], MIN_SIDE_PX, out=xywh[:, 2:])
    # Python lists, not arrays: OpenCV's binding converts a list of 300 boxes to its
    # vector<Rect2d> faster (NMS 0.36 -> 0.23 ms here); float32 values survive the double
    # round trip exactly, so the result is the same.
    boxes: Any = xywh.tolist()
    scores: Any = np.asarray(confidence, dtype=np.float32).tolist()
    classes: Any = class_id.astype(np.int32).tolist()
    kept = cv2.dnn.NMSBoxesBatched(boxes, scores, classes, 0.0, iou_threshold)
    return np.asarray(kept, dtype=np.intp).reshape(-1)
