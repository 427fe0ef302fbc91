"""The metal of one synthetic part as drawn so far, and the marks drawn onto it.

Defects (scratch, crack, pit: each returns its exact box) and the benign
look-alikes every part carries (dust specks, specular reflections, a machining
groove, coolant smudges) land only on metal: `mask` is the part with its
drilled holes cut out. All randomness comes from the part's own RNG, drawn in
a fixed order, so a part stays a function of (seed, index).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from station.synthetic.drawing import grow, poly_box, pt16, stain


@dataclass(frozen=True, slots=True)
class Hole:
    x: float
    y: float
    r: float


@dataclass(frozen=True, slots=True, eq=False)
class Surface:
    """A part's metal in a (h, w) float32 frame at scale `s` (1.0 at 640x480).

    `bounds` is the outline's (x0, y0, x1, y1); `holes` every hole of the part
    (a missing one included: no mark starts inside it), `drilled` those drilled.
    """

    rng: np.random.Generator
    s: float
    w: int
    h: int
    cx: float
    cy: float
    angle: float
    outline_f32: npt.NDArray[np.float32]
    bounds: tuple[float, float, float, float]
    holes: list[Hole]
    drilled: list[Hole]
    mask: npt.NDArray[np.bool_]

    def point(self, margin: float) -> tuple[float, float]:
        """A point on the part's metal, at least `margin` px from any edge or hole."""
        for _ in range(60):
            x = self.rng.uniform(self.bounds[0], self.bounds[2])
            y = self.rng.uniform(self.bounds[1], self.bounds[3])
            xi, yi = int(x), int(y)
            if not (0 <= xi < self.w and 0 <= yi < self.h) or not self.mask[yi, xi]:
                continue
            if cv2.pointPolygonTest(self.outline_f32, (x, y), True) < margin:
                continue
            if any(math.hypot(x - h.x, y - h.y) < h.r + margin for h in self.holes):
                continue
            return x, y
        return self.cx, self.cy + 0.3 * (self.bounds[3] - self.cy)

    # --- defects (each returns its exact box) -------------------------------------------
    def scratch(
        self, img: npt.NDArray[np.float32], contrast: float
    ) -> tuple[float, float, float, float]:
        rng, s = self.rng, self.s
        x, y = self.point(10 * s)
        length = rng.uniform(35, 120) * s
        a = rng.uniform(0, math.pi)
        n = 3
        pts = [(x, y)]
        for _ in range(n):
            a += rng.normal(0, 0.15)
            x += math.cos(a) * length / n
            y += math.sin(a) * length / n
            pts.append((x, y))
        arr = np.array(pts)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        thick = 2 if rng.random() < 0.6 else 1
        drawn = self.line(img, arr, sign * contrast, thick)
        return grow(drawn, 1.0 * s) if drawn else poly_box(arr[:1], 2.0)

    def crack(
        self, img: npt.NDArray[np.float32], contrast: float
    ) -> tuple[float, float, float, float]:
        """A dark jagged line starting at a hole or the part's edge, running into the metal."""
        rng, s = self.rng, self.s
        if rng.random() < 0.6 and self.drilled:
            hole = self.drilled[int(rng.integers(len(self.drilled)))]
            a = rng.uniform(0, 2 * math.pi)
            x, y = hole.x + math.cos(a) * hole.r, hole.y + math.sin(a) * hole.r
        else:
            x, y = self.point(4 * s)
            a = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(28, 80) * s
        n = int(rng.integers(5, 9))
        pts = [(x, y)]
        for _ in range(n):
            a += rng.normal(0, 0.6)
            step = length / n
            x += math.cos(a) * step
            y += math.sin(a) * step
            pts.append((x, y))
        arr = np.array(pts)
        drawn = self.line(img, arr, -contrast, 2 if rng.random() < 0.4 else 1)
        return grow(drawn, 1.0 * s) if drawn else poly_box(arr[:1], 2.0)

    def pit(
        self, img: npt.NDArray[np.float32], contrast: float
    ) -> tuple[float, float, float, float]:
        rng, s = self.rng, self.s
        x, y = self.point(8 * s)
        r = rng.uniform(3.5, 7.5) * s
        base = float(img[int(y), int(x)])
        if contrast:  # a zero-strength twin leaves the metal's texture as it was
            cv2.circle(img, pt16(x, y), round(r * 16), base - contrast, -1, cv2.LINE_AA, 4)
            # The lit rim of the crater.
            cv2.ellipse(
                img,
                pt16(x, y),
                (round(r * 16), round(r * 16)),
                0,
                200,
                340,
                base + 0.5 * contrast,
                1,
                cv2.LINE_AA,
                4,
            )
        pad = 1.0 * s + 1
        return (x - r - pad, y - r - pad, x + r + pad, y + r + pad)

    def line(
        self, img: npt.NDArray[np.float32], pts: npt.NDArray[np.float64], delta: float, thick: int
    ) -> tuple[float, float, float, float] | None:
        """Draw a line of relative contrast `delta` only where it lies on metal.

        Returns the box of the pixels actually drawn (None when none landed on metal),
        so a label never covers a part of the line that the mask clipped away.
        """
        x0, y0, x1, y1 = poly_box(pts, thick + 2)
        xa, ya = max(int(x0), 0), max(int(y0), 0)
        xb, yb = min(math.ceil(x1), self.w), min(math.ceil(y1), self.h)
        if xb <= xa or yb <= ya:
            return None
        layer = np.zeros((yb - ya, xb - xa), np.float32)
        local = np.round((pts - np.array([xa, ya])) * 16).astype(np.int32)
        cv2.polylines(layer, [local], False, 1.0, thick, cv2.LINE_AA, 4)
        layer *= self.mask[ya:yb, xa:xb]
        img[ya:yb, xa:xb] += delta * layer
        ys, xs = np.nonzero(layer > 0.2)
        if len(xs) == 0:
            return None
        return (
            xa + float(xs.min()),
            ya + float(ys.min()),
            xa + float(xs.max()) + 1,
            ya + float(ys.max()) + 1,
        )

    # --- benign look-alikes on every part ------------------------------------------------
    def lookalikes(self, img: npt.NDArray[np.float32]) -> None:
        rng, s = self.rng, self.s
        # Dust specks: small, usually soft; some are as dark as a faint pit.
        for _ in range(int(rng.poisson(3.0))):
            x = rng.uniform(0, self.w)
            y = rng.uniform(0, self.h)
            r = rng.uniform(0.8, 3.5) * s
            delta = rng.choice([-1.0, 1.0], p=[0.7, 0.3]) * rng.uniform(8, 45)
            cv2.circle(
                img,
                pt16(x, y),
                max(round(r * 16), 8),
                float(img[int(y), int(x)]) + delta,
                -1,
                cv2.LINE_AA,
                4,
            )
        # Specular reflections: soft bright streaks, usually wide and straight.
        for _ in range(int(rng.poisson(0.8))):
            x, y = self.point(8 * s)
            length = rng.uniform(30, 110) * s
            a = self.angle + (rng.normal(0, 0.2) if rng.random() < 0.7 else rng.uniform(0, 3.14))
            pts = np.array([(x, y), (x + math.cos(a) * length, y + math.sin(a) * length)])
            thick = int(rng.integers(1, 6))
            x0, y0, x1, y1 = poly_box(pts, thick + 8)
            xa, ya = max(int(x0), 0), max(int(y0), 0)
            xb, yb = min(math.ceil(x1), self.w), min(math.ceil(y1), self.h)
            if xb <= xa or yb <= ya:
                continue
            layer = np.zeros((yb - ya, xb - xa), np.float32)
            local = np.round((pts - np.array([xa, ya])) * 16).astype(np.int32)
            cv2.polylines(layer, [local], False, 1.0, thick, cv2.LINE_AA, 4)
            layer = np.asarray(cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.8, 3.0)), np.float32)
            img[ya:yb, xa:xb] += rng.uniform(10, 45) * layer * self.mask[ya:yb, xa:xb]
        # A deep machining mark: a single straight groove along the tool path.
        if rng.random() < 0.35:
            x, y = self.point(10 * s)
            length = rng.uniform(40, 140) * s
            a = self.angle if rng.random() < 0.8 else rng.uniform(0, 3.14)
            pts = np.array([(x, y), (x + math.cos(a) * length, y + math.sin(a) * length)])
            self.line(img, pts, -rng.uniform(6, 25), 1)
        # Faint smudges of coolant: like a stain but grey and faint.
        if rng.random() < 0.3:
            x, y = self.point(12 * s)
            ax, ay = rng.uniform(10, 30) * s, rng.uniform(8, 22) * s
            stain(img[:, :, None], x, y, ax, ay, rng.uniform(0, 180), rng.uniform(4, 18), self.mask)
