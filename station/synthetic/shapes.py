"""The two part shapes on the synthetic line, in frame pixels at scale `s`.

Each returns (outline, holes, optional): the outline polygon, every hole, and
the holes a MISSING_HOLE defect may leave undrilled. `to_frame` places local
coordinates (centred on the part, unrotated) on the frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from station.synthetic.surface import Hole

Points = npt.NDArray[np.float64]
ToFrame = Callable[[Points], Points]
Shape = tuple[Points, list[Hole], list[Hole]]


def bracket(rng: np.random.Generator, s: float, to_frame: ToFrame) -> Shape:
    """A rounded plate with 2 to 4 holes in one row (or two rows of 2)."""
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
    outline = to_frame(np.array(pts))
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
    centres = to_frame(np.array(local))
    holes = [Hole(float(x), float(y), r) for x, y in centres]
    return outline, holes, holes


def washer(rng: np.random.Generator, s: float, to_frame: ToFrame, cx: float, cy: float) -> Shape:
    """A ring with a centre bore and 4 to 6 bolt holes on a circle."""
    r_out = rng.uniform(120, 150) * s
    r_in = rng.uniform(32, 50) * s
    t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
    outline = to_frame(np.stack([r_out * np.cos(t), r_out * np.sin(t)], axis=1))
    n = int(rng.integers(4, 7))
    r_b = rng.uniform(9, 14) * s
    ring = (r_out + r_in) / 2
    a = np.linspace(0, 2 * math.pi, n, endpoint=False)
    centres = to_frame(np.stack([ring * np.cos(a), ring * np.sin(a)], axis=1))
    bolts = [Hole(float(x), float(y), r_b) for x, y in centres]
    return outline, [Hole(cx, cy, r_in), *bolts], bolts
