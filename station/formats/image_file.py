"""Reading an image file the one way the station does: header and size first, then decoding.

A file over the pixel limit is refused before a byte of it is decoded (a 435 KB PNG of
20000 x 20000 pixels would take 2.45 GB); a damaged file is refused in one line of ours, never
with the decoder's own warning printed beside it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.formats.image_header import ImageHeader, ImageHeaderError, read_header

DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
"""50 megapixels (e.g. 8192 x 6144): above the largest area-scan camera frames in common use,
about 150 MB once decoded as BGR. A recipe's `[camera] max_image_pixels` raises it."""

MAX_PIXELS_KEY = "max_image_pixels"

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
"""The file name endings (lower case) the station reads as images, everywhere: a camera
replaying a folder, a labeled sample, the count of a sample's images."""


class ImageFileError(StationError):
    """An image file that cannot be read, is not an image the station reads, or is damaged."""


class TooManyPixelsError(ImageFileError):
    """An image above the pixel limit, refused before decoding."""


def check_image_bytes(path: Path, data: bytes, max_pixels: int) -> ImageHeader:
    """The header of `data` (the file at `path`), refused when damaged or over `max_pixels`."""
    if not data:
        raise ImageFileError(f"{path}: empty file, not an image")
    try:
        header = read_header(data)
    except ImageHeaderError as exc:
        raise ImageFileError(f"{path}: {exc}") from None
    if header.width <= 0 or header.height <= 0:
        raise ImageFileError(f"{path}: {header.format} header says {header.width} x 0 pixels")
    if header.pixels > max_pixels:
        raise TooManyPixelsError(
            f"{path}: {header.width} x {header.height} = {header.pixels:,} pixels is above the "
            f"limit of {max_pixels:,}; downscale it, or raise [camera] {MAX_PIXELS_KEY} in "
            "the recipe"
        )
    return header


def read_image_file(
    path: Path, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> npt.NDArray[np.uint8]:
    """A BGR uint8 image; ImageFileError (TooManyPixelsError) naming the file otherwise."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ImageFileError(f"{path}: image file not found") from None
    except OSError as exc:
        raise ImageFileError(f"{path}: cannot read the image ({exc.strerror or exc})") from None
    header = check_image_bytes(path, data, max_pixels)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageFileError(f"{path}: damaged {header.format} (its pixels cannot be decoded)")
    return np.asarray(image, dtype=np.uint8)


def max_pixels_option(value: object, where: str) -> int:
    """A `max_image_pixels` setting: a whole number of pixels >= 1 (None: the default)."""
    if value is None:
        return DEFAULT_MAX_IMAGE_PIXELS
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StationError(f"{where}: expected a whole number of pixels >= 1, got {value!r}")
    return value
