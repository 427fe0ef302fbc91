"""A heuristic detector: dark blobs on the part, found by OpenCV, confidence always 1.0.

Chosen by a pseudo model path instead of an ONNX file:
``heuristic:dark-blobs`` or, with parameters,
``heuristic:dark-blobs?delta=40&window=31&min_area=9&max_area=20000``.

A pixel is "dark" when it is more than `delta` grey levels below the mean
of the `window` x `window` neighbourhood around it (local contrast, so a
lighting gradient across the part does not matter). Dark pixels are
cleaned with a 3x3 opening and grouped into 8-connected blobs; blobs of
`min_area`..`max_area` pixels (inclusive) become detections of one class.

The confidence is the constant 1.0, so `ModelInfo.scores_rank` is False:
the score carries no ranking, and a threshold curve cannot be drawn on it.
The "SHA-256" of a heuristic is that of its canonical spec string, so
thresholds are bound to the exact parameters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from urllib.parse import parse_qsl

import cv2
import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.errors import StationError
from station.core.ports import ModelInfo
from station.detectors.preprocess import check_frame

PREFIX = "heuristic:"
KIND = "dark-blobs"
_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True, slots=True)
class DarkBlobParams:
    """`delta`: grey levels below the local mean; `window`: odd size in pixels; areas in pixels."""

    delta: int = 40
    window: int = 31
    min_area: int = 9
    max_area: int = 20000

    def __post_init__(self) -> None:
        if self.delta < 0 or self.delta > 255:
            raise StationError(f"heuristic:{KIND}: delta must be in 0..255, got {self.delta}")
        if self.window < 3 or self.window % 2 == 0:
            raise StationError(
                f"heuristic:{KIND}: window must be an odd number >= 3, got {self.window}"
            )
        if not 1 <= self.min_area <= self.max_area:
            raise StationError(f"heuristic:{KIND}: need 1 <= min_area <= max_area")

    def spec(self) -> str:
        query = "&".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))
        return f"{PREFIX}{KIND}?{query}"


def parse_spec(spec: str) -> DarkBlobParams:
    """DarkBlobParams from ``heuristic:dark-blobs[?key=value&...]``; StationError otherwise."""
    body = spec[len(PREFIX) :] if spec.startswith(PREFIX) else spec
    kind, _, query = body.partition("?")
    if kind != KIND:
        raise StationError(f"{spec}: unknown heuristic {kind!r}; known: {PREFIX}{KIND}")
    known = {f.name for f in fields(DarkBlobParams)}
    values: dict[str, int] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in known:
            raise StationError(
                f"{spec}: unknown parameter {key!r}; known: {', '.join(sorted(known))}"
            )
        try:
            values[key] = int(value)
        except ValueError:
            raise StationError(
                f"{spec}: parameter {key} must be an integer, got {value!r}"
            ) from None
    return DarkBlobParams(**values)


class DarkBlobDetector:
    """Dark blobs as detections with constant confidence 1.0 (see module docstring)."""

    def __init__(self, params: DarkBlobParams, class_name: str = "dark_blob") -> None:
        self._params = params
        spec = params.spec()
        self._info = ModelInfo(
            path=spec,
            sha256=hashlib.sha256(spec.encode("utf-8")).hexdigest(),
            family=f"{PREFIX}{KIND}",
            class_names=(class_name,),
            input_layout="frame",
            scores_rank=False,
            execution_provider="OpenCV",
            notes=(
                "constant confidence 1.0: the score carries no ranking; thresholds cannot be tuned",
            ),
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def detect(self, frame: npt.NDArray[np.uint8]) -> Detections:
        p = self._params
        img = check_frame(frame)
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        background = cv2.blur(gray, (p.window, p.window))
        darker = cv2.subtract(background, gray)  # saturates at 0 where brighter
        _, mask = cv2.threshold(darker, p.delta, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = stats[1:]  # row 0 is the background
        area = blobs[:, cv2.CC_STAT_AREA]
        blobs = blobs[(area >= p.min_area) & (area <= p.max_area)]
        x, y = blobs[:, cv2.CC_STAT_LEFT], blobs[:, cv2.CC_STAT_TOP]
        xyxy = np.stack(
            [x, y, x + blobs[:, cv2.CC_STAT_WIDTH], y + blobs[:, cv2.CC_STAT_HEIGHT]], axis=1
        ).astype(np.float32)
        n = len(blobs)
        return Detections(xyxy, np.ones(n, np.float32), np.zeros(n, np.int64))
