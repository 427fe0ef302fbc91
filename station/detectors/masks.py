"""Instance masks at frame resolution, their areas and outlines, as Ultralytics renders them.

Ultralytics' `process_mask_native` (what `predict` returns with
`retina_masks=True`) computes mask logits = coefficients · prototypes at
prototype resolution, upsamples them bilinearly by 1, 2 or 4 so that the
letterbox padding falls on whole pixels, crops the padding off, resizes
bilinearly to the frame, thresholds at logit 0 (sigmoid 0.5) and crops to
the box (pixel columns x1 <= x < x2, rows y1 <= y < y2).

Every step before the threshold is linear and separable, so here it is one
matrix per axis, `A_y (H, mh)` and `A_x (W, mw)`: a mask is
``A_y · logits · A_xᵀ > 0``. Computed only inside each box, and only over
the prototype cells that reach it, a frame's masks cost little even for the
hundreds of candidates a decode keeps; the same weights as the bilinear
resizes, so areas and outlines equal the exporter's (up to float rounding
on pixels whose logit is within ~1e-6 of 0).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from station.core.detections import InstanceMasks

Axis = tuple[npt.NDArray[np.float32], npt.NDArray[np.intp], npt.NDArray[np.intp]]


def box_masks(
    masks: InstanceMasks, xyxy: npt.NDArray[np.float32], frame_hw: tuple[int, int]
) -> list[tuple[int, int, npt.NDArray[np.bool_]]]:
    """Each detection's mask inside its box: (top, left, (h, w) bool) in frame pixels."""
    _nm, mh, mw = masks.prototypes.shape
    (ay, ay_lo, ay_hi), (ax, ax_lo, ax_hi) = _axes((mh, mw), frame_hw)
    h, w = frame_hw
    out = []
    for coef, box in zip(masks.coefficients, np.asarray(xyxy, np.float32), strict=True):
        y0, y1 = _pixel_span(box[1], box[3], h)
        x0, x1 = _pixel_span(box[0], box[2], w)
        if y0 >= y1 or x0 >= x1:
            out.append((y0, x0, np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), bool)))
            continue
        py0, py1 = ay_lo[y0], ay_hi[y1 - 1]
        px0, px1 = ax_lo[x0], ax_hi[x1 - 1]
        logits = np.tensordot(coef, masks.prototypes[:, py0:py1, px0:px1], axes=1)
        rows = np.ascontiguousarray(ay[y0:y1, py0:py1])
        cols = np.ascontiguousarray(ax[x0:x1, px0:px1].T)
        # OpenCV's gemm, not numpy's: a multi-threaded BLAS on a busy 2-core station turns
        # these small products into milliseconds of thread contention each.
        region = _matmul(rows, _matmul(np.ascontiguousarray(logits, np.float32), cols))
        out.append((y0, x0, region > 0))
    return out


def _matmul(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    gemm: Any = cv2.gemm  # its stubs reject None for the unused third matrix
    return np.asarray(gemm(a, b, 1.0, None, 0.0), dtype=np.float32)


def frame_masks(
    masks: InstanceMasks, xyxy: npt.NDArray[np.float32], frame_hw: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """(n, H, W) boolean masks in frame pixels (for drawing a few; measuring uses box_masks)."""
    out = np.zeros((len(masks), *frame_hw), dtype=bool)
    for i, (y0, x0, m) in enumerate(box_masks(masks, xyxy, frame_hw)):
        out[i, y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]] = m
    return out


def mask_polygon(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int32]:
    """The outline (k, 2) of x, y pixel points of a mask's largest region (empty: (0, 2))."""
    contours, _ = cv2.findContours(
        np.ascontiguousarray(mask, dtype=np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    if not contours:
        return np.zeros((0, 2), np.int32)
    largest = max(contours, key=cv2.contourArea)
    return np.asarray(largest, dtype=np.int32).reshape(-1, 2)


def mask_length(outline: npt.NDArray[np.int32]) -> float:
    """The longer side of the outline's minimum-area rectangle, in pixels (+1: the outline's
    points are pixel centres, so a 1 x 10 pixel mask is 10 long); 0 for no outline."""
    if not len(outline):
        return 0.0
    _, (w, h), _ = cv2.minAreaRect(np.ascontiguousarray(outline, np.int32).reshape(-1, 1, 2))
    return float(max(w, h)) + 1.0


def _pixel_span(lo: float, hi: float, size: int) -> tuple[int, int]:
    """Pixel indices i with lo <= i < hi, within [0, size)."""
    return max(0, math.ceil(lo)), min(size, math.ceil(hi))


@functools.lru_cache(maxsize=16)
def _axes(proto_hw: tuple[int, int], frame_hw: tuple[int, int]) -> tuple[Axis, Axis]:
    """Per axis: the prototype -> frame matrix and each frame pixel's support [lo, hi)."""
    mh, mw = proto_hw
    h, w = frame_hw
    gain = min(4 * mh / h, 4 * mw / w)
    pad = (4 * mh - max(round(h * gain), 1)) | (4 * mw - max(round(w * gain), 1))
    f = 4 // math.gcd(4, pad | pad // 2)  # Ultralytics' upsample: padding on whole pixels
    gain = min(mh * f / h, mw * f / w)
    new_h, new_w = max(round(h * gain), 1), max(round(w * gain), 1)
    top = round((mh * f - new_h) / 2 - 0.1)
    left = round((mw * f - new_w) / 2 - 0.1)
    return _axis(mh, f, top, new_h, h), _axis(mw, f, left, new_w, w)


def _axis(n_proto: int, f: int, start: int, length: int, n_out: int) -> Axis:
    up = _bilinear(n_proto * f, n_proto)[start : start + length]  # upsample by f, crop
    a = _bilinear(n_out, length) @ up if length != n_out else up  # resize to the frame
    nz = a != 0
    lo = np.argmax(nz, axis=1)
    hi = a.shape[1] - np.argmax(nz[:, ::-1], axis=1)
    return a.astype(np.float32), lo.astype(np.intp), hi.astype(np.intp)


def _bilinear(n_out: int, n_in: int) -> npt.NDArray[np.float64]:
    """(n_out, n_in) weights of a half-pixel bilinear resize (torch align_corners=False, cv2)."""
    src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = src - i0
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), i0), 1.0 - frac)
    np.add.at(m, (np.arange(n_out), i1), frac)
    return m
