"""A seeded synthetic production line: machined parts on a belt, some with defects.

No image data can be downloaded here, so the station brings its own line. The same
generator drives the synthetic camera, writes labeled YOLO samples and feeds training,
so all three see exactly the same parts for a given (seed, index).

The task is deliberately not trivial: some defects are faint, and every part (good or
not) carries benign look-alikes (dust specks, specular reflections, machining marks)
that resemble pits, scratches and stains. On a few hundred parts no threshold makes
both escapes and scrap zero.

Here: the classes, the part and the generator that renders it. The shapes are in
`shapes`, the marks drawn on the metal (defects, look-alikes) in `surface`, the
drawing primitives in `drawing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from station.synthetic.drawing import contrast, ellipse_box, pt16, stain_u8
from station.synthetic.shapes import bracket, washer
from station.synthetic.surface import Hole, Surface

GENERATOR_VERSION = 2
"""Bumped whenever the pixels or boxes drawn for a given (seed, index) change: key any cache
of generated samples on it (with the seed and the part count)."""

CLASS_NAMES: tuple[str, ...] = ("scratch", "pit", "stain", "crack", "missing_hole")
"""Defect classes, indexed by class id (0..4)."""

SCRATCH, PIT, STAIN, CRACK, MISSING_HOLE = range(5)

# Relative frequency of each defect class on a defective part.
_CLASS_WEIGHTS = np.array([0.24, 0.2, 0.2, 0.2, 0.16])


@dataclass(frozen=True, slots=True)
class SyntheticPart:
    """One part as the line camera sees it, with its exact ground truth.

    `image` is (H, W, 3) uint8 BGR; `boxes_xyxy` is (n, 4) float32 in frame pixels
    (x1, y1, x2, y2, inside [0, W] x [0, H]); `class_ids` is (n,) int64 indexing
    `CLASS_NAMES`. A good part has n = 0.
    """

    image: npt.NDArray[np.uint8]
    boxes_xyxy: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int64]
    index: int = 0
    kind: str = "bracket"

    @property
    def defective(self) -> bool:
        return len(self.class_ids) > 0


class PartGenerator:
    """Deterministic part images: `part(i)` depends only on (seed, i, width, height).

    `defect_rate` is the probability that a part carries at least one defect.
    """

    def __init__(
        self, seed: int, width: int = 640, height: int = 480, defect_rate: float = 0.35
    ) -> None:
        if width < 64 or height < 64:
            raise ValueError(f"frame size {width}x{height} is too small (min 64x64)")
        if not 0.0 <= defect_rate <= 1.0:
            raise ValueError(f"defect_rate {defect_rate} is outside [0, 1]")
        self.seed = int(seed)
        self.width = int(width)
        self.height = int(height)
        self.defect_rate = float(defect_rate)
        # Geometry scales with the frame so other sizes still look like the same line.
        self._scale = min(width / 640.0, height / 480.0)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        self._xx = xx
        self._yy = yy
        # A bank of unit sensor noise; each part reads a window of it (far faster than
        # drawing ~300k normals per part, and still a function of (seed, index)).
        bank_rng = np.random.default_rng([self.seed, 0xA015E])
        self._noise = bank_rng.standard_normal((height + 48, width + 48), dtype=np.float32)

    def part(self, index: int, strength: float = 1.0) -> SyntheticPart:
        """The part at position `index` on the line (any int >= 0).

        `strength` scales every drawn defect's contrast (not a missing hole's geometry):
        0 renders the same part, look-alikes, noise and labels unchanged, with its
        scratches, pits, cracks and stains invisible: the twin that measures how much of
        a labelled defect the frame actually shows (`station.synthetic.visibility`).
        """
        rng = np.random.default_rng([self.seed, int(index), 0x5EED])
        return _Renderer(self, rng, int(index), float(strength)).render()


class _Renderer:
    """Draws one part; a fresh instance per part keeps the RNG stream self-contained."""

    def __init__(
        self, gen: PartGenerator, rng: np.random.Generator, index: int, strength: float
    ) -> None:
        self.g = gen
        self.rng = rng
        self.index = index
        self.strength = strength
        self.w = gen.width
        self.h = gen.height
        self.s = gen._scale

    # --- geometry -----------------------------------------------------------------
    def _pose(self) -> tuple[float, float, float]:
        rng = self.rng
        cx = self.w / 2 + rng.uniform(-40, 40) * self.s
        cy = self.h / 2 + rng.uniform(-30, 30) * self.s
        return cx, cy, rng.uniform(-math.pi, math.pi)

    def _to_frame(self, pts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        c, s = math.cos(self.angle), math.sin(self.angle)
        rot = np.array([[c, -s], [s, c]])
        out: npt.NDArray[np.float64] = pts @ rot.T + np.array([self.cx, self.cy])
        return out

    # --- rendering -------------------------------------------------------------------
    def render(self) -> SyntheticPart:
        rng, w, h, s = self.rng, self.w, self.h, self.s
        self.cx, self.cy, self.angle = self._pose()
        kind = "washer" if rng.random() < 0.4 else "bracket"
        if kind == "washer":
            outline, holes, optional = washer(rng, s, self._to_frame, self.cx, self.cy)
        else:
            outline, holes, optional = bracket(rng, s, self._to_frame)
        bx0, by0 = outline.min(axis=0)
        bx1, by1 = outline.max(axis=0)

        defective = rng.random() < self.g.defect_rate
        classes: list[int] = []
        if defective:
            n_def = 1 if rng.random() < 0.8 else 2
            classes = [int(c) for c in rng.choice(5, size=n_def, p=_CLASS_WEIGHTS)]
            if classes.count(MISSING_HOLE) > 1:
                classes = [c for c in classes if c != MISSING_HOLE] + [MISSING_HOLE]
        missing: Hole | None = None
        if MISSING_HOLE in classes:
            missing = optional[int(rng.integers(len(optional)))]

        # Part mask (holes cut out) and the metal surface.
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(outline * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
        for hole in holes:
            if hole is missing:
                continue
            cv2.circle(mask, pt16(hole.x, hole.y), round(hole.r * 16), 0, -1, cv2.LINE_AA, 4)
        on = Surface(
            rng,
            s,
            w,
            h,
            self.cx,
            self.cy,
            self.angle,
            outline.astype(np.float32),
            (bx0, by0, bx1, by1),
            holes,
            [hole for hole in holes if hole is not missing],
            mask > 127,
        )

        belt = rng.uniform(45, 75)
        row = rng.normal(0, 2.5, size=(h, 1)).astype(np.float32)
        row = np.asarray(cv2.GaussianBlur(row, (1, 5), 0), np.float32)
        img = np.empty((h, w), np.float32)
        img[:] = belt + row
        # The metal surface is computed only inside the part's bounding box (speed).
        xa, ya = max(int(bx0) - 2, 0), max(int(by0) - 2, 0)
        xb, yb = min(int(bx1) + 3, w), min(int(by1) + 3, h)
        xx = self.g._xx[ya:yb, xa:xb]
        yy = self.g._yy[ya:yb, xa:xb]
        metal = rng.uniform(140, 190)
        ga = rng.uniform(0, 2 * math.pi)
        gmag = rng.uniform(10, 45) / max(w, h)
        surface = (
            metal + (xx - w / 2) * (gmag * math.cos(ga)) + (yy - h / 2) * (gmag * math.sin(ga))
        )
        # Machining marks on every part: concentric on washers, parallel on brackets.
        amp = rng.uniform(0.5, 5.0)
        period = rng.uniform(3.0, 9.0) * s
        if kind == "washer":
            u = np.sqrt((xx - self.cx) ** 2 + (yy - self.cy) ** 2)
        else:
            u = (xx - self.cx) * -math.sin(self.angle) + (yy - self.cy) * math.cos(self.angle)
        surface += amp * np.sin(u * (2 * math.pi / period) + rng.uniform(0, 6.3))
        alpha = mask[ya:yb, xa:xb].astype(np.float32) * (1 / 255)
        roi = img[ya:yb, xa:xb]
        roi += alpha * (surface - roi)

        # Hole walls: a bright chamfer ring; the drilled-out centre shows the belt.
        for hole in holes:
            if hole is missing:
                continue
            cv2.circle(
                img,
                pt16(hole.x, hole.y),
                round((hole.r + 1.2) * 16),
                metal + 30,
                2,
                cv2.LINE_AA,
                4,
            )
        if missing is not None and rng.random() < 0.5:
            # Sometimes a faint centre-punch mark where the hole should have been drilled.
            cv2.circle(
                img,
                pt16(missing.x, missing.y),
                round(2.0 * s * 16),
                metal - 25,
                -1,
                cv2.LINE_AA,
                4,
            )

        boxes: list[tuple[float, float, float, float]] = []
        box_classes: list[int] = []
        stains: list[tuple[float, float, float, float, float, float]] = []
        k = self.strength
        for c in classes:
            if c == MISSING_HOLE:
                assert missing is not None
                pad = 3.0 * s
                box = (
                    missing.x - missing.r - pad,
                    missing.y - missing.r - pad,
                    missing.x + missing.r + pad,
                    missing.y + missing.r + pad,
                )
            elif c == SCRATCH:
                box = on.scratch(img, k * contrast(rng, 22, 90))
            elif c == PIT:
                box = on.pit(img, k * contrast(rng, 35, 110))
            elif c == CRACK:
                box = on.crack(img, k * contrast(rng, 35, 110))
            else:
                x, y = on.point(12 * s)
                ax, ay = rng.uniform(9, 30) * s, rng.uniform(7, 22) * s
                rot = rng.uniform(0, 180)
                strength = k * contrast(rng, 14, 55)
                stains.append((x, y, ax, ay, rot, strength))
                box = ellipse_box(x, y, ax, ay, rot)
            boxes.append(box)
            box_classes.append(c)

        on.lookalikes(img)

        img = np.asarray(cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.3) * s), np.float32)
        if rng.random() < 0.3:  # belt motion blur along x
            k = int(rng.integers(2, 5))
            img = np.asarray(cv2.blur(img, (k, 1)), np.float32)
        # Sensor noise: a window of the generator's noise bank, at a per-part gain.
        oy = int(rng.integers(0, self.g._noise.shape[0] - h + 1))
        ox = int(rng.integers(0, self.g._noise.shape[1] - w + 1))
        img += self.g._noise[oy : oy + h, ox : ox + w] * rng.uniform(1.5, 5.0)
        np.clip(img, 0, 255, out=img)
        out = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_GRAY2BGR)
        tint = (1.0 + rng.uniform(-0.03, 0.04), 1.0, 1.0 + rng.uniform(-0.04, 0.03), 0.0)
        out = cv2.multiply(out, tint, dtype=cv2.CV_8U)  # type: ignore[call-overload]
        for x, y, ax, ay, rot, strength in stains:
            stain_u8(out, x, y, ax, ay, rot, strength, on.mask)

        if boxes:
            arr = np.array(boxes, np.float32)
            arr[:, [0, 2]] = np.clip(arr[:, [0, 2]], 0, w)
            arr[:, [1, 3]] = np.clip(arr[:, [1, 3]], 0, h)
        else:
            arr = np.zeros((0, 4), np.float32)
        return SyntheticPart(out, arr, np.array(box_classes, np.int64), self.index, kind)
