"""Ultralytics' preprocessing contract, as plain numpy/OpenCV (shared by training and the card).

Letterbox to the model's input keeping aspect ratio, pad with 114, BGR->RGB, scale to
[0, 1], NCHW float32. A fixed-size model gets its square input; a model with a dynamic input
size (`stride` given) is padded only up to a multiple of the stride, as Ultralytics'
`LetterBox(auto=True)` does. Boxes map to input pixels by `xy * ratio + (pad_x, pad_y)`.
"""

from __future__ import annotations

import ast

import cv2
import numpy as np
import onnxruntime as ort


def letterbox(
    image_bgr: np.ndarray, size: int, stride: int = 0
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Letterboxed uint8 BGR image ((size, size, 3), or stride multiples), the scale ratio,
    and (pad_x, pad_y)."""
    h, w = image_bgr.shape[:2]
    r = min(size / h, size / w)
    new_w, new_h = round(w * r), round(h * r)
    dw, dh = size - new_w, size - new_h
    if stride:
        dw, dh = dw % stride, dh % stride
    if (new_w, new_h) != (w, h):
        image_bgr = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(dh / 2 - 0.1), round(dh / 2 + 0.1)
    left, right = round(dw / 2 - 0.1), round(dw / 2 + 0.1)
    out = cv2.copyMakeBorder(
        image_bgr, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114)
    )
    return out, r, (left, top)


def to_input(image_bgr: np.ndarray, size: int, stride: int = 0) -> np.ndarray:
    """(1, 3, H, W) float32 RGB in [0, 1], exactly as an Ultralytics export expects."""
    lb, _, _ = letterbox(image_bgr, size, stride)
    rgb = lb[:, :, ::-1].transpose(2, 0, 1)
    return np.ascontiguousarray(rgb, dtype=np.float32)[None] / np.float32(255.0)


def input_fit(session: ort.InferenceSession) -> tuple[int, int]:
    """(imgsz, stride) to letterbox for: stride 0 for a fixed input, else the metadata's."""
    meta = session.get_modelmeta().custom_metadata_map
    imgsz = int(ast.literal_eval(meta["imgsz"])[0])
    dynamic = any(not isinstance(d, int) for d in session.get_inputs()[0].shape[2:])
    return imgsz, int(meta.get("stride", 32)) if dynamic else 0
