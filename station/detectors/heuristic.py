"""A heuristic detector: dark blobs on the part, found by OpenCV, confidence always 1.0.

Chosen by a pseudo model path instead of an ONNX file:
``heuristic:dark-blobs`` or, with parameters,
``heuristic:dark-blobs?delta=12&window=31&min_area=6&max_area=150&margin=6``.

The part is the largest bright region (Otsu threshold on the blurred grey
image, the part being lighter than the belt), with its outline filled and
eroded by `margin` pixels so the part's edge is never a blob. On it, a pixel
is "dark" when it is more than `delta` grey levels below the mean of the
`window` x `window` neighbourhood around it (local contrast, so a lighting
gradient across the part does not matter). Dark pixels are cleaned with a
3x3 opening and grouped into 8-connected blobs; blobs of
`min_area`..`max_area` pixels (inclusive) become detections of one class.
The area cap skips the part's own (larger) through-holes.

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

    delta: int = 12
    window: int = 31
    min_area: int = 6
    max_area: int = 150
    margin: int = 6

    def __post_init__(self) -> None:
        if self.delta < 0 or self.delta > 255:
            raise StationError(f"heuristic:{KIND}: delta must be in 0..255, got {self.delta}")
        if self.window < 3 or self.window % 2 == 0:
            raise StationError(
                f"heuristic:{KIND}: window must be an odd number >= 3, got {self.window}"
            )
        if self.margin < 0:
            raise StationError(f"heuristic:{KIND}: margin must be >= 0, got {self.margin}")
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
        gray = img if img.ndim == 2 else np.asarray(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), np.uint8)
        background = cv2.blur(gray, (p.window, p.window))
        darker = cv2.subtract(background, gray)  # saturates at 0 where brighter
        _, mask = cv2.threshold(darker, p.delta, 255, cv2.THRESH_BINARY)
        mask = cv2.bitwise_and(mask, self._part_region(gray))
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

    def _part_region(self, gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """255 on the part (largest bright region, filled, eroded by `margin`), 0 elsewhere."""
        smooth = cv2.GaussianBlur(gray, (5, 5), 0)
        _, bright = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
        region: npt.NDArray[np.uint8] = np.zeros_like(gray)
        if n < 2:
            return region
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        outline, _ = cv2.findContours(
            np.where(labels == largest, 255, 0).astype(np.uint8),
            cv2.RETR_EXTERNAL,
            cv2.CHAIN_APPROX_SIMPLE,
        )
        cv2.drawContours(region, outline, -1, 255, cv2.FILLED)
        if self._params.margin:
            size = 2 * self._params.margin + 1
            region = np.asarray(cv2.erode(region, np.ones((size, size), np.uint8)), np.uint8)
        return region
