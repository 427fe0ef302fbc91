"""A seeded synthetic production line: machined parts on a belt, some with defects.

No image data can be downloaded here, so the station brings its own line. The same
generator drives the synthetic camera, writes labeled YOLO samples and feeds training,
so all three see exactly the same parts for a given (seed, index).

The task is deliberately not trivial: some defects are faint, and every part (good or
not) carries benign look-alikes (dust specks, specular reflections, machining marks)
that resemble pits, scratches and stains. On a few hundred parts no threshold makes
both escapes and scrap zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

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


@dataclass(frozen=True, slots=True)
class _Hole:
    x: float
    y: float
    r: float


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

    def part(self, index: int) -> SyntheticPart:
        """The part at position `index` on the line (any int >= 0)."""
        rng = np.random.default_rng([self.seed, int(index), 0x5EED])
        return _Renderer(self, rng, int(index)).render()


class _Renderer:
    """Draws one part; a fresh instance per part keeps the RNG stream self-contained."""

    def __init__(self, gen: PartGenerator, rng: np.random.Generator, index: int) -> None:
        self.g = gen
        self.rng = rng
        self.index = index
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

    def _bracket(self) -> tuple[npt.NDArray[np.float64], list[_Hole], list[_Hole]]:
        rng, s = self.rng, self.s
        half_l = rng.uniform(130, 170) * s
        half_h = rng.uniform(62, 88) * s
        rad = rng.uniform(14, 30) * s
        # Rounded rectangle outline in local coordinates.
        pts: list[tuple[float, float]] = []
        for ccx, ccy, a0 in (
            (half_l - rad, half_h - rad, 0.0),
            (-half_l + rad, half_h - rad, 90.0),
            (-half_l + rad, -half_h + rad, 180.0),
            (half_l - rad, -half_h + rad, 270.0),
        ):
            for a in np.linspace(a0, a0 + 90, 8):
                t = math.radians(a)
                pts.append((ccx + rad * math.cos(t), ccy + rad * math.sin(t)))
        outline = self._to_frame(np.array(pts))
        n = int(rng.integers(2, 5))
        r = rng.uniform(11, 18) * s
        xs = np.linspace(-half_l + 2.2 * r + 8 * s, half_l - 2.2 * r - 8 * s, n)
        two_rows = n == 2 and rng.random() < 0.5
        local: list[tuple[float, float]] = []
        for x in xs:
            if two_rows:
                local += [(x, -half_h * 0.45), (x, half_h * 0.45)]
            else:
                local.append((x, 0.0))
        centres = self._to_frame(np.array(local))
        holes = [_Hole(float(x), float(y), r) for x, y in centres]
        return outline, holes, holes

    def _washer(self) -> tuple[npt.NDArray[np.float64], list[_Hole], list[_Hole]]:
        rng, s = self.rng, self.s
        r_out = rng.uniform(120, 150) * s
        r_in = rng.uniform(32, 50) * s
        t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
        outline = self._to_frame(np.stack([r_out * np.cos(t), r_out * np.sin(t)], axis=1))
        n = int(rng.integers(4, 7))
        r_b = rng.uniform(9, 14) * s
        ring = (r_out + r_in) / 2
        a = np.linspace(0, 2 * math.pi, n, endpoint=False)
        centres = self._to_frame(np.stack([ring * np.cos(a), ring * np.sin(a)], axis=1))
        bolts = [_Hole(float(x), float(y), r_b) for x, y in centres]
        return outline, [_Hole(self.cx, self.cy, r_in), *bolts], bolts

    # --- sampling points on the part -------------------------------------------------
    def _surface_point(self, margin: float) -> tuple[float, float]:
        """A point on the part's metal, at least `margin` px from any edge or hole."""
        for _ in range(60):
            x = self.rng.uniform(self.bx0, self.bx1)
            y = self.rng.uniform(self.by0, self.by1)
            xi, yi = int(x), int(y)
            if not (0 <= xi < self.w and 0 <= yi < self.h) or not self.mask[yi, xi]:
                continue
            if cv2.pointPolygonTest(self.outline_f32, (x, y), True) < margin:
                continue
            if any(math.hypot(x - h.x, y - h.y) < h.r + margin for h in self.holes):
                continue
            return x, y
        return self.cx, self.cy + 0.3 * (self.by1 - self.cy)

    # --- rendering -------------------------------------------------------------------
    def render(self) -> SyntheticPart:
        rng, w, h, s = self.rng, self.w, self.h, self.s
        self.cx, self.cy, self.angle = self._pose()
        kind = "washer" if rng.random() < 0.4 else "bracket"
        if kind == "washer":
            outline, holes, optional = self._washer()
        else:
            outline, holes, optional = self._bracket()
        self.outline_f32 = outline.astype(np.float32)
        self.bx0, self.by0 = outline.min(axis=0)
        self.bx1, self.by1 = outline.max(axis=0)

        defective = rng.random() < self.g.defect_rate
        classes: list[int] = []
        if defective:
            n_def = 1 if rng.random() < 0.8 else 2
            classes = [int(c) for c in rng.choice(5, size=n_def, p=_CLASS_WEIGHTS)]
            if classes.count(MISSING_HOLE) > 1:
                classes = [c for c in classes if c != MISSING_HOLE] + [MISSING_HOLE]
        missing: _Hole | None = None
        if MISSING_HOLE in classes:
            missing = optional[int(rng.integers(len(optional)))]
        self.holes = holes
        self.drilled = [hole for hole in holes if hole is not missing]

        # Part mask (holes cut out) and the metal surface.
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(outline * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
        for hole in holes:
            if hole is missing:
                continue
            cv2.circle(mask, _pt16(hole.x, hole.y), round(hole.r * 16), 0, -1, cv2.LINE_AA, 4)
        self.mask = mask > 127

        belt = rng.uniform(45, 75)
        row = rng.normal(0, 2.5, size=(h, 1)).astype(np.float32)
        row = np.asarray(cv2.GaussianBlur(row, (1, 5), 0), np.float32)
        img = np.empty((h, w), np.float32)
        img[:] = belt + row
        # The metal surface is computed only inside the part's bounding box (speed).
        xa, ya = max(int(self.bx0) - 2, 0), max(int(self.by0) - 2, 0)
        xb, yb = min(int(self.bx1) + 3, w), min(int(self.by1) + 3, h)
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
                _pt16(hole.x, hole.y),
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
                _pt16(missing.x, missing.y),
                round(2.0 * s * 16),
                metal - 25,
                -1,
                cv2.LINE_AA,
                4,
            )

        boxes: list[tuple[float, float, float, float]] = []
        box_classes: list[int] = []
        stains: list[tuple[float, float, float, float, float, float]] = []
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
                box = self._scratch(img, _contrast(rng, 22, 90))
            elif c == PIT:
                box = self._pit(img, _contrast(rng, 35, 110))
            elif c == CRACK:
                box = self._crack(img, _contrast(rng, 35, 110))
            else:
                x, y = self._surface_point(12 * s)
                ax, ay = rng.uniform(9, 30) * s, rng.uniform(7, 22) * s
                rot = rng.uniform(0, 180)
                strength = _contrast(rng, 14, 55)
                stains.append((x, y, ax, ay, rot, strength))
                box = _ellipse_box(x, y, ax, ay, rot)
            boxes.append(box)
            box_classes.append(c)

        self._lookalikes(img)

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
            _stain_u8(out, x, y, ax, ay, rot, strength, self.mask)

        if boxes:
            arr = np.array(boxes, np.float32)
            arr[:, [0, 2]] = np.clip(arr[:, [0, 2]], 0, w)
            arr[:, [1, 3]] = np.clip(arr[:, [1, 3]], 0, h)
        else:
            arr = np.zeros((0, 4), np.float32)
        return SyntheticPart(out, arr, np.array(box_classes, np.int64), self.index, kind)

    # --- defects (each returns its exact box) -------------------------------------------
    def _scratch(
        self, img: npt.NDArray[np.float32], contrast: float
    ) -> tuple[float, float, float, float]:
        rng, s = self.rng, self.s
        x, y = self._surface_point(10 * s)
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
        drawn = self._draw_clipped_polyline(img, arr, sign * contrast, thick)
        return _grow(drawn, 1.0 * s) if drawn else _poly_box(arr[:1], 2.0)

    def _crack(
        self, img: npt.NDArray[np.float32], contrast: float
    ) -> tuple[float, float, float, float]:
        """A dark jagged line starting at a hole or the part's edge, running into the metal."""
        rng, s = self.rng, self.s
        if rng.random() < 0.6 and self.drilled:
            hole = self.drilled[int(rng.integers(len(self.drilled)))]
            a = rng.uniform(0, 2 * math.pi)
            x, y = hole.x + math.cos(a) * hole.r, hole.y + math.sin(a) * hole.r
        else:
            x, y = self._surface_point(4 * s)
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
        drawn = self._draw_clipped_polyline(img, arr, -contrast, 2 if rng.random() < 0.4 else 1)
        return _grow(drawn, 1.0 * s) if drawn else _poly_box(arr[:1], 2.0)

    def _pit(
        self, img: npt.NDArray[np.float32], contrast: float
    ) -> tuple[float, float, float, float]:
        rng, s = self.rng, self.s
        x, y = self._surface_point(8 * s)
        r = rng.uniform(3.5, 7.5) * s
        base = float(img[int(y), int(x)])
        cv2.circle(img, _pt16(x, y), round(r * 16), base - contrast, -1, cv2.LINE_AA, 4)
        # The lit rim of the crater.
        cv2.ellipse(
            img,
            _pt16(x, y),
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

    def _draw_clipped_polyline(
        self, img: npt.NDArray[np.float32], pts: npt.NDArray[np.float64], delta: float, thick: int
    ) -> tuple[float, float, float, float] | None:
        """Draw a line of relative contrast `delta` only where it lies on metal.

        Returns the box of the pixels actually drawn (None when none landed on metal),
        so a label never covers a part of the line that the mask clipped away.
        """
        x0, y0, x1, y1 = _poly_box(pts, thick + 2)
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
    def _lookalikes(self, img: npt.NDArray[np.float32]) -> None:
        rng, s = self.rng, self.s
        # Dust specks: small, usually soft; some are as dark as a faint pit.
        for _ in range(int(rng.poisson(3.0))):
            x = rng.uniform(0, self.w)
            y = rng.uniform(0, self.h)
            r = rng.uniform(0.8, 3.5) * s
            delta = rng.choice([-1.0, 1.0], p=[0.7, 0.3]) * rng.uniform(8, 45)
            cv2.circle(
                img,
                _pt16(x, y),
                max(round(r * 16), 8),
                float(img[int(y), int(x)]) + delta,
                -1,
                cv2.LINE_AA,
                4,
            )
        # Specular reflections: soft bright streaks, usually wide and straight.
        for _ in range(int(rng.poisson(0.8))):
            x, y = self._surface_point(8 * s)
            length = rng.uniform(30, 110) * s
            a = self.angle + (rng.normal(0, 0.2) if rng.random() < 0.7 else rng.uniform(0, 3.14))
            pts = np.array([(x, y), (x + math.cos(a) * length, y + math.sin(a) * length)])
            thick = int(rng.integers(1, 6))
            x0, y0, x1, y1 = _poly_box(pts, thick + 8)
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
            x, y = self._surface_point(10 * s)
            length = rng.uniform(40, 140) * s
            a = self.angle if rng.random() < 0.8 else rng.uniform(0, 3.14)
            pts = np.array([(x, y), (x + math.cos(a) * length, y + math.sin(a) * length)])
            self._draw_clipped_polyline(img, pts, -rng.uniform(6, 25), 1)
        # Faint smudges of coolant: like a stain but grey and faint.
        if rng.random() < 0.3:
            x, y = self._surface_point(12 * s)
            ax, ay = rng.uniform(10, 30) * s, rng.uniform(8, 22) * s
            _stain(
                img[:, :, None], x, y, ax, ay, rng.uniform(0, 180), rng.uniform(4, 18), self.mask
            )


def _contrast(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Defect strength: mostly clear, but about 1 in 6 is faint (below `lo`)."""
    if rng.random() < 0.17:
        return float(rng.uniform(0.25 * lo, lo))
    return float(rng.uniform(lo, hi))


def _stain(
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
    window = _ellipse_window(x, y, ax, ay, rot, mask.shape)
    if window is None:
        return
    xa, ya, xb, yb = window
    layer: npt.NDArray[np.float32] = np.zeros((yb - ya, xb - xa), np.float32)
    cv2.ellipse(
        layer,
        _pt16(x - xa, y - ya),
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


def _stain_u8(
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
    window = _ellipse_window(x, y, ax, ay, rot, mask.shape)
    if window is None:
        return
    xa, ya, xb, yb = window
    patch = img[ya:yb, xa:xb].astype(np.float32)
    tmp = np.zeros((yb - ya, xb - xa, 1), np.float32)
    _stain(tmp, x - xa, y - ya, ax, ay, rot, strength, mask[ya:yb, xa:xb])
    patch += tmp * np.array([1.0, 0.75, 0.45], np.float32)
    img[ya:yb, xa:xb] = np.clip(patch, 0, 255).astype(np.uint8)


def _ellipse_box(
    x: float, y: float, ax: float, ay: float, rot_deg: float
) -> tuple[float, float, float, float]:
    t = math.radians(rot_deg)
    hw = math.sqrt((ax * math.cos(t)) ** 2 + (ay * math.sin(t)) ** 2)
    hh = math.sqrt((ax * math.sin(t)) ** 2 + (ay * math.cos(t)) ** 2)
    return (x - hw, y - hh, x + hw, y + hh)


def _ellipse_window(
    x: float, y: float, ax: float, ay: float, rot: float, shape: tuple[int, ...], pad: int = 6
) -> tuple[int, int, int, int] | None:
    """The padded pixel window around an ellipse, clipped to the image; None when off it."""
    h, w = shape[:2]
    x0, y0, x1, y1 = _ellipse_box(x, y, ax, ay, rot)
    xa, ya = max(int(x0) - pad, 0), max(int(y0) - pad, 0)
    xb, yb = min(math.ceil(x1) + pad, w), min(math.ceil(y1) + pad, h)
    return None if xb <= xa or yb <= ya else (xa, ya, xb, yb)


def _grow(box: tuple[float, float, float, float], pad: float) -> tuple[float, float, float, float]:
    return (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)


def _poly_box(pts: npt.NDArray[np.float64], pad: float) -> tuple[float, float, float, float]:
    lo = pts.min(axis=0)
    hi = pts.max(axis=0)
    return (float(lo[0] - pad), float(lo[1] - pad), float(hi[0] + pad), float(hi[1] + pad))


def _pt16(x: float, y: float) -> tuple[int, int]:
    """A point in cv2's 4-bit fixed-point (shift=4) coordinates, for sub-pixel drawing."""
    return (round(x * 16), round(y * 16))
