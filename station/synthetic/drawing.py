"""Drawing primitives for the synthetic line: sub-pixel points, boxes, soft stains.

cv2 draws at sub-pixel precision in 4-bit fixed point (`shift=4`): `pt16` turns a
point into those coordinates. Boxes are (x1, y1, x2, y2) floats in frame pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt


def contrast(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Defect strength: mostly clear, but about 1 in 6 is faint (below `lo`)."""
    if rng.random() < 0.17:
        return float(rng.uniform(0.25 * lo, lo))
    return float(rng.uniform(lo, hi))


def stain(
    img: npt.NDArray[np.float32],
    x: float,
    y: float,
    ax: float,
    ay: float,
    rot: float,
    strength: float,
    mask: npt.NDArray[np.bool_],
) -> None:
    """Darken a soft ellipse on metal in a (H, W, 1) float image."""
    window = ellipse_window(x, y, ax, ay, rot, mask.shape)
    if window is None:
        return
    xa, ya, xb, yb = window
    layer: npt.NDArray[np.float32] = np.zeros((yb - ya, xb - xa), np.float32)
    cv2.ellipse(
        layer,
        pt16(x - xa, y - ya),
        (round(ax * 16), round(ay * 16)),
        rot,
        0,
        360,
        1.0,
        -1,
        cv2.LINE_AA,
        4,
    )
    layer = np.asarray(cv2.GaussianBlur(layer, (0, 0), max(1.0, 0.2 * min(ax, ay))), np.float32)
    layer *= mask[ya:yb, xa:xb]
    img[ya:yb, xa:xb, 0] -= strength * layer


def stain_u8(
    img: npt.NDArray[np.uint8],
    x: float,
    y: float,
    ax: float,
    ay: float,
    rot: float,
    strength: float,
    mask: npt.NDArray[np.bool_],
) -> None:
    """A brown stain on the final BGR image (darkens blue most)."""
    window = ellipse_window(x, y, ax, ay, rot, mask.shape)
    if window is None:
        return
    xa, ya, xb, yb = window
    patch = img[ya:yb, xa:xb].astype(np.float32)
    tmp = np.zeros((yb - ya, xb - xa, 1), np.float32)
    stain(tmp, x - xa, y - ya, ax, ay, rot, strength, mask[ya:yb, xa:xb])
    patch += tmp * np.array([1.0, 0.75, 0.45], np.float32)
    img[ya:yb, xa:xb] = np.clip(patch, 0, 255).astype(np.uint8)


def ellipse_box(
    x: float, y: float, ax: float, ay: float, rot_deg: float
) -> tuple[float, float, float, float]:
    t = math.radians(rot_deg)
    hw = math.sqrt((ax * math.cos(t)) ** 2 + (ay * math.sin(t)) ** 2)
    hh = math.sqrt((ax * math.sin(t)) ** 2 + (ay * math.cos(t)) ** 2)
    return (x - hw, y - hh, x + hw, y + hh)


def ellipse_window(
    x: float, y: float, ax: float, ay: float, rot: float, shape: tuple[int, ...], pad: int = 6
) -> tuple[int, int, int, int] | None:
    """The padded pixel window around an ellipse, clipped to the image; None when off it."""
    h, w = shape[:2]
    x0, y0, x1, y1 = ellipse_box(x, y, ax, ay, rot)
    xa, ya = max(int(x0) - pad, 0), max(int(y0) - pad, 0)
    xb, yb = min(math.ceil(x1) + pad, w), min(math.ceil(y1) + pad, h)
    return None if xb <= xa or yb <= ya else (xa, ya, xb, yb)


def grow(box: tuple[float, float, float, float], pad: float) -> tuple[float, float, float, float]:
    return (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)


def poly_box(pts: npt.NDArray[np.float64], pad: float) -> tuple[float, float, float, float]:
    lo = pts.min(axis=0)
    hi = pts.max(axis=0)
    return (float(lo[0] - pad), float(lo[1] - pad), float(hi[0] + pad), float(hi[1] + pad))


def pt16(x: float, y: float) -> tuple[int, int]:
    """A point in cv2's 4-bit fixed-point (shift=4) coordinates, for sub-pixel drawing."""
    return (round(x * 16), round(y * 16))
