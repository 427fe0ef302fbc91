"""Class-aware non-maximum suppression by OpenCV (`cv2.dnn.NMSBoxes`, class by class).

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
    # OpenCV rates two zero-area boxes as identical (IoU 1) wherever they are: a flat box (a
    # zero width or height predicted, or clipped) would suppress every other flat box of its
    # class. A sliver of MIN_SIDE_PX keeps them apart.
    np.maximum(xywh[:, 2:], MIN_SIDE_PX, out=xywh[:, 2:])
    # One OpenCV call per class: the batched call compares every pair of boxes (300 boxes,
    # 45k pairs), one per class only the pairs that can suppress each other (0.19 -> 0.14
    # ms on the shipped model's 300 candidates); the order and the boxes kept are the same.
    kept = [_nms_one_class(xywh, confidence, idx, iou_threshold) for idx in _by_class(class_id)]
    index = np.sort(np.concatenate(kept))  # then best first, ties in index order (as OpenCV)
    return index[np.argsort(-confidence[index], kind="stable")]


def _by_class(class_id: npt.NDArray[np.int64]) -> list[npt.NDArray[np.intp]]:
    """Each class's candidate indices, ascending."""
    order = np.argsort(class_id, kind="stable")
    starts = np.flatnonzero(np.diff(class_id[order])) + 1
    return np.split(order, starts)


def _nms_one_class(
    xywh: npt.NDArray[np.float32],
    confidence: npt.NDArray[np.float32],
    idx: npt.NDArray[np.intp],
    iou_threshold: float,
) -> npt.NDArray[np.intp]:
    # Python lists, not arrays: OpenCV's binding converts a list of boxes to its
    # vector<Rect2d> faster; float32 values survive the double round trip exactly.
    boxes: Any = xywh[idx].tolist()
    scores: Any = np.asarray(confidence[idx], dtype=np.float32).tolist()
    kept = cv2.dnn.NMSBoxes(boxes, scores, 0.0, iou_threshold)
    return idx[np.asarray(kept, dtype=np.intp).reshape(-1)]
