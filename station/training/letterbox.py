"""Ultralytics' preprocessing contract, as plain numpy/OpenCV (shared by training and the card).

Letterbox to the model's square input keeping aspect ratio, pad with 114, BGR->RGB,
scale to [0, 1], NCHW float32. Boxes map to input pixels by `xy * ratio + (pad_x, pad_y)`.
"""

from __future__ import annotations

import cv2
import numpy as np


def letterbox(image_bgr: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """(size, size, 3) uint8 BGR letterboxed image, the scale ratio, and (pad_x, pad_y)."""
    h, w = image_bgr.shape[:2]
    r = min(size / h, size / w)
    new_w, new_h = round(w * r), round(h * r)
    dw, dh = (size - new_w) / 2, (size - new_h) / 2
    if (new_w, new_h) != (w, h):
        image_bgr = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    out = cv2.copyMakeBorder(
        image_bgr, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114)
    )
    return out, r, (left, top)


def to_input(image_bgr: np.ndarray, size: int) -> np.ndarray:
    """(1, 3, size, size) float32 RGB in [0, 1], exactly as an Ultralytics export expects."""
    lb, _, _ = letterbox(image_bgr, size)
    rgb = lb[:, :, ::-1].transpose(2, 0, 1)
    return np.ascontiguousarray(rgb, dtype=np.float32)[None] / np.float32(255.0)
