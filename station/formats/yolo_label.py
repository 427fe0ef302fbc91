"""One line of a YOLO label file: `class cx cy w h`, the box normalised to the image's size.

A labeled sample is the ground truth thresholds are tuned on: a box outside the image or a NaN
coordinate is a broken file, refused with its `file:line`, never read as a defect somewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from station.core.errors import StationError


@dataclass(frozen=True, slots=True)
class LabelBox:
    """Class id and box centre and size, each a fraction of the image's width or height."""

    class_id: int
    cx: float
    cy: float
    w: float
    h: float


def parse_label_line(line: str, path: Path, line_no: int) -> LabelBox | None:
    """The box of one line (None for a blank line); StationError naming `path:line_no`."""
    fields = line.split()
    if not fields:
        return None
    where = f"{path}:{line_no}"
    if len(fields) < 5 or not fields[0].isdigit():
        raise StationError(
            f"{where}: expected `class cx cy w h` with an integer class, got {line.strip()!r}"
        )
    try:
        cx, cy, w, h = (float(v) for v in fields[1:5])
    except ValueError:
        raise StationError(
            f"{where}: expected `class cx cy w h` with numbers, got {line.strip()!r}"
        ) from None
    for name, raw, value in zip(("cx", "cy", "w", "h"), fields[1:5], (cx, cy, w, h), strict=True):
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise StationError(
                f"{where}: {name} = {raw}: expected a fraction of the image in [0, 1] "
                "(YOLO labels are normalised)"
            )
    return LabelBox(int(fields[0]), cx, cy, w, h)
