"""What the GenICam cameras (`gige` through Aravis, `pylon` through pypylon) share.

The two SDKs read and write a camera's features differently; the rules are the
same: the recipe's `[camera]` keys, a value the camera cannot take refused by
name with what it does take (retrying will not help, so StationError, not
CameraLost), and a grabbed buffer turned into a gray or BGR uint8 image, where
a payload too short for its size is a CorruptFrame (no decision), never a crash.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.core.ports import CorruptFrame
from station.sources.options import SourceOptions
from station.sources.pixels import CONVERTERS, Converter

COMMON_OPTIONS = (
    "camera_id",
    "exposure_us",
    "gain_db",
    "pixel_format",
    "region",
    "trigger",
    "frame_rate",
    "timeout_s",
    "n_buffers",
)
"""The `[camera]` keys both GenICam kinds take (a kind may add its own)."""
TRIGGERS = ("free-run", "software")


def option_kwargs(opts: SourceOptions) -> dict[str, Any]:
    """The camera constructor's keyword arguments for `COMMON_OPTIONS`, read and checked."""
    return {
        "camera_id": opts.get_str("camera_id"),
        "exposure_us": opts.get_float("exposure_us", None, minimum=0.0),
        "gain_db": opts.get_float("gain_db", None),
        "pixel_format": opts.get_str("pixel_format"),
        "region": opts.get_region("region"),
        "trigger": opts.get_choice("trigger", "free-run", TRIGGERS),
        "frame_rate": opts.get_float("frame_rate", None, minimum=0.0),
        "timeout_s": opts.get_float("timeout_s", None, minimum=0.01),
        "n_buffers": opts.get_int("n_buffers", 4, minimum=2) or 4,
    }


def check_choices(pixel_format: str | None, trigger: str) -> None:
    """Refuse a pixel format the station cannot convert, or an unknown trigger mode."""
    if pixel_format is not None and pixel_format not in CONVERTERS:
        raise StationError(
            f"[camera] pixel_format = {pixel_format!r}: expected one of {', '.join(CONVERTERS)}"
        )
    if trigger not in TRIGGERS:
        raise StationError(f"[camera] trigger = {trigger!r}: expected one of {TRIGGERS}")


def check_offered(camera: str, pixel_format: str, offered: tuple[str, ...] | list[str]) -> None:
    """Refuse the recipe's pixel format when `camera` does not offer it."""
    if pixel_format not in offered:
        raise StationError(
            f"[camera] pixel_format = {pixel_format!r}: camera {camera} offers {', '.join(offered)}"
        )


def converter_for(camera: str, pixel_format: str) -> Converter:
    """The converter for the format `camera` is in; StationError when there is none."""
    convert = CONVERTERS.get(pixel_format)
    if convert is None:
        raise StationError(
            f"[camera] pixel_format: camera {camera} is in {pixel_format!r}; "
            f"set one of {', '.join(CONVERTERS)}"
        )
    return convert


def check_region(
    camera: str, region: tuple[int, int, int, int], sensor_w: int, sensor_h: int
) -> None:
    """Refuse a region (x, y, w, h) that does not fit the sensor."""
    x, y, w, h = region
    if x + w > sensor_w or y + h > sensor_h:
        raise StationError(
            f"[camera] region = {list(region)}: outside the "
            f"{sensor_w}x{sensor_h} sensor of {camera}"
        )


def check_range(camera: str, what: str, value: float, low: float, high: float) -> None:
    """Refuse `value` for the feature `what` outside the camera's [low, high] (inclusive)."""
    if not low <= value <= high:
        raise StationError(f"[camera] {what} = {value}: {camera} takes {low:g} to {high:g}")


def to_image(
    convert: Converter,
    data: bytes,
    width: int,
    height: int,
    *,
    who: str,
    sequence: int,
    timestamp_s: float,
) -> npt.NDArray[np.uint8]:
    """A copied buffer as the station's image; CorruptFrame when the payload is short."""
    try:
        return convert(data, width, height)
    except ValueError as exc:  # payload shorter than width x height says
        raise CorruptFrame(f"{who}: {exc}", sequence=sequence, timestamp_s=timestamp_s) from exc
